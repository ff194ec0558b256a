import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

/**
 * The guide's table of bad inputs (docs/guide.md): each row is run here, and must give its documented exit code
 * and one clear line (no stack trace, never "This is a bug"). Keep the two in step.
 */
const t = new TestDocker('bad')
let root: string
let files: Record<string, string>
let web: {id: string; name: string}

beforeAll(async () => {
  root = await tempDir('ir-bad-')
  const incidents = join(root, 'incidents')
  files = {
    incidents,
    file: join(root, 'a-file'),
    bomb: join(root, 'bomb.yml'),
    big: join(root, 'big.yml'),
    broken: join(root, 'broken.yml'),
    unknownAction: join(root, 'unknown-action.yml'),
    config: join(root, 'cfg'),
  }
  await writeFile(files.file!, 'not a folder\n')
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
  for (const [i, n] of ['b', 'c', 'd', 'e', 'f', 'g', 'h'].entries())
    levels.push(`${n}: &${n} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)
  await writeFile(files.bomb!, `${levels.join('\n')}\n`)
  await writeFile(files.big!, `name: big\nsteps: []\n# ${'x'.repeat(2 * 1024 * 1024)}\n`)
  await writeFile(files.broken!, 'name: broken\nsteps: [\n  - id: a\n')
  await writeFile(files.unknownAction!, 'name: u\nversion: 1\nsteps:\n  - id: a\n    action: format-the-disk\n')
  await mkdir(join(files.config!, 'ir'), {recursive: true})
  await writeFile(join(files.config!, 'ir', 'config.json'), '{"incidentsDir": ')
  expect((await runIr(['case', 'create', 'GOOD'], {env: {IR_INCIDENTS_DIR: incidents}})).exitCode).toBe(0)
  expect((await runIr(['case', 'create', 'BAD'], {env: {IR_INCIDENTS_DIR: incidents}})).exitCode).toBe(0)
  await writeFile(join(incidents, 'BAD', 'audit.log'), '{"edited": true}\n')
  web = await t.run('web', {cmd: ['sleep', '3600']})
})

afterAll(async () => {
  await t.cleanup()
})

interface Row {
  input: string
  args: () => string[]
  env?: () => Record<string, string>
  exit: number
  says: RegExp
}

const inCases = (): Record<string, string> => ({IR_INCIDENTS_DIR: files.incidents!})

/** Mirrored in docs/guide.md, "Bad input and exit codes". */
export const ROWS: Row[] = [
  {input: 'an unknown flag', args: () => ['isolate', '--bogus'], exit: 2, says: /Nonexistent flag: --bogus/},
  {
    input: 'an unknown command',
    args: () => ['isolat'],
    exit: 127,
    says: /"ir isolat" is not an ir command\.\nHint: Did you mean "ir isolate"\?/,
  },
  {
    input: 'a snapshot without --yes and no TTY (no --dry-run to suggest)',
    args: () => ['snapshot', web.name],
    env: inCases,
    exit: 7,
    says: /Refusing to snapshot containers without confirmation: no TTY\nHint: Re-run with --yes to confirm\.$/,
  },
  {
    input: 'an isolate without --yes and no TTY',
    args: () => ['isolate', web.name],
    env: inCases,
    exit: 7,
    says: /Hint: Re-run with --yes to confirm, or --dry-run to see the plan\./,
  },
  {
    input: '`--case ""`',
    args: () => ['collect', web.name, '--case', ''],
    env: inCases,
    exit: 2,
    says: /case id is empty/,
  },
  {
    input: 'a case id with `/` or `..`',
    args: () => ['case', 'show', '../etc'],
    env: inCases,
    exit: 2,
    says: /Invalid case id/,
  },
  {
    input: 'a case id of 101 characters',
    args: () => ['case', 'create', `A${'b'.repeat(100)}`],
    env: inCases,
    exit: 2,
    says: /Invalid case id/,
  },
  {
    input: 'a control character in a case id',
    args: () => ['case', 'create', 'A\u001b[31mB'],
    env: inCases,
    exit: 2,
    says: /Invalid case id "A\\x1b\[31mB"/,
  },
  {
    input: '`--since` that is not a time',
    args: () => ['collect', web.name, '--since', 'yesterday'],
    env: inCases,
    exit: 2,
    says: /--since "yesterday" is not a time/,
  },
  {
    input: '`--until` before `--since`',
    args: () => ['collect', web.name, '--since', '2026-11-02T00:00:00Z', '--until', '2026-11-01T00:00:00Z'],
    env: inCases,
    exit: 2,
    says: /--until .* is before --since/,
  },
  {
    input: '`ir case event --at` that is not a time',
    args: () => ['case', 'event', 'GOOD', '-m', 'x', '--at', 'noon-ish'],
    env: inCases,
    exit: 2,
    says: /not a time|not a date|ISO/i,
  },
  {
    input: '`--fail-on` out of its list',
    args: () => ['audit', '--fail-on', 'nonsense'],
    exit: 2,
    says: /Expected --fail-on=nonsense to be one of/,
  },
  {
    input: '`IR_INCIDENTS_DIR=""`',
    args: () => ['case', 'list'],
    env: () => ({IR_INCIDENTS_DIR: ''}),
    exit: 2,
    says: /IR_INCIDENTS_DIR is empty/,
  },
  {
    input: '`--incidents-dir ""`',
    args: () => ['case', 'list', '--incidents-dir', ''],
    exit: 2,
    says: /--incidents-dir is empty/,
  },
  {
    input: 'a config file that is not JSON',
    args: () => ['case', 'list'],
    env: () => ({XDG_CONFIG_HOME: files.config!}),
    exit: 2,
    says: /config file .* is not valid JSON/,
  },
  {
    input: 'a playbook that is an alias bomb',
    args: () => ['playbook', 'validate', files.bomb!],
    exit: 2,
    says: /Excessive alias count/,
  },
  {
    input: 'a playbook over 1 MiB',
    args: () => ['playbook', 'validate', files.big!],
    exit: 2,
    says: /at most 1048576 bytes/,
  },
  {
    input: 'a playbook with broken YAML',
    args: () => ['playbook', 'validate', files.broken!],
    exit: 2,
    says: /YAML syntax/,
  },
  {
    input: 'a playbook with an unknown action',
    args: () => ['playbook', 'validate', files.unknownAction!],
    exit: 2,
    says: /format-the-disk|action/,
  },
  {
    input: 'a playbook that does not exist',
    args: () => ['playbook', 'run', join(root, 'nope.yml'), '--yes'],
    env: inCases,
    exit: 4,
    says: /No playbook ".*nope.yml"/,
  },
  {
    input: 'a case that does not exist',
    args: () => ['case', 'show', 'NO-SUCH-CASE'],
    env: inCases,
    exit: 4,
    says: /Case "NO-SUCH-CASE" not found/,
  },
  {
    input: 'a container that does not exist',
    args: () => ['isolate', `no-such-${t.runId}`, '--yes', '--case', 'GOOD'],
    env: inCases,
    exit: 4,
    says: /No container named or with id/,
  },
  {input: 'nothing to collect from', args: () => ['collect'], env: inCases, exit: 2, says: /Nothing to collect from/},
  {
    input: '`IR_INCIDENTS_DIR` naming a file',
    args: () => ['case', 'create', 'X-1'],
    env: () => ({IR_INCIDENTS_DIR: files.file!}),
    exit: 5,
    says: /Not a folder: .*a-file/,
  },
  {
    input: 'an engine that does not answer',
    args: () => ['isolate', 'web', '--yes'],
    env: () => ({DOCKER_HOST: `unix://${root}/no-engine.sock`, ...inCases()}),
    exit: 3,
    says: /unreachable/,
  },
  {
    input: 'a `DOCKER_HOST` that is not an address',
    args: () => ['isolate', 'web', '--yes'],
    env: () => ({DOCKER_HOST: 'tcp://999.1.1.1:x'}),
    exit: 2,
    says: /is not a valid engine address/,
  },
  {
    input: 'a destructive step without a TTY and without `--yes`',
    args: () => ['isolate', web.name, '--case', 'GOOD'],
    env: inCases,
    exit: 7,
    says: /--yes/,
  },
  {
    input: 'a case whose audit log was edited',
    args: () => ['case', 'verify', 'BAD'],
    env: inCases,
    exit: 6,
    says: /FAILED verification/,
  },
]

describe('bad input: documented exit codes, one clear line', () => {
  it('has at least 25 rows', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(25)
  })
  for (const row of ROWS) {
    it(`${row.input} → exit ${row.exit}`, async () => {
      const r = await runIr(row.args(), {env: row.env?.() ?? {IR_INCIDENTS_DIR: files.incidents!}, cwd: root})
      const out = `${r.stdout}\n${r.stderr}`
      expect(r.exitCode, out).toBe(row.exit)
      expect(out).toMatch(row.says)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expect(r.stderr).not.toMatch(/This is a bug/)
    })
  }
})
