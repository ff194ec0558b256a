import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {ROOT} from '../helpers/cli.js'

/** The manifest `npm run build` writes: every command ir has, with its flags. */
async function manifestCommands(): Promise<Record<string, {flags: Record<string, unknown>}>> {
  return JSON.parse(await readFile(join(ROOT, 'oclif.manifest.json'), 'utf8')).commands
}

describe('docs/commands.md, the generated per-command reference', () => {
  it('is what `oclif readme` generates from the built commands now (run npm run docs:commands)', async () => {
    const r = await execa(
      join(ROOT, 'node_modules', '.bin', 'oclif'),
      ['readme', '--readme-path', 'docs/commands.md', '--no-source-links', '--no-aliases', '--dry-run'],
      {cwd: ROOT, reject: false, timeout: 60_000, env: {NO_COLOR: '1', NODE_ENV: 'production'}},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    const generated = r.stdout
      .split('\n')
      .filter((l) => !l.startsWith('replacing <!--'))
      .join('\n')
      .trim()
    const committed = (await readFile(join(ROOT, 'docs', 'commands.md'), 'utf8')).trim()
    expect(committed, 'docs/commands.md is stale: run `npm run build && npm run docs:commands`').toBe(generated)
  }, 60_000)

  it('has a section, with every flag, for each command of the manifest', async () => {
    const doc = await readFile(join(ROOT, 'docs', 'commands.md'), 'utf8')
    const commands = await manifestCommands()
    expect(Object.keys(commands).length).toBeGreaterThan(20)
    for (const [id, c] of Object.entries(commands)) {
      const heading = new RegExp(`^## \`ir ${id.replace(/:/g, ' ')}(?: |\`)`, 'm')
      expect(doc, id).toMatch(heading)
      for (const flag of Object.keys(c.flags)) expect(doc, `${id} --${flag}`).toContain(`--${flag}`)
    }
  })
})
