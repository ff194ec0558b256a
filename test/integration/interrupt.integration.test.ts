import {readdir} from 'node:fs/promises'
import {join, relative} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'
import {waitFor} from '../helpers/wait.js'

const t = new TestDocker('int')
let incidents: string
let big: {id: string; name: string}
const CASE = `CASE-INT-${t.runId}`

beforeAll(async () => {
  incidents = await tempDir()
  big = await t.run('big', {
    cmd: ['sh', '-c', 'dd if=/dev/urandom of=/blob bs=1048576 count=300 2>/dev/null; touch /ready; exec sleep 3600'],
  })
  await waitFor(
    async () => (await execa('docker', ['exec', big.name, 'test', '-f', '/ready'], {reject: false})).exitCode === 0,
    {timeout: 120_000, interval: 500, what: 'the test container to write its data'},
  )
})

afterAll(async () => {
  const evidence = await t.docker.listImages({filters: {label: [`ir.case=${CASE}`]}})
  for (const i of evidence) t.trackImage(i.Id)
  await t.cleanup()
})

describe('Ctrl-C during a long transfer', () => {
  it('exits 130, keeps what was collected (the partial file included) and leaves a verifiable case', async () => {
    const child = execa('node', [BIN, 'snapshot', big.name, '--case', CASE, '--yes'], {
      env: {IR_INCIDENTS_DIR: incidents, FORCE_COLOR: '0'},
      reject: false,
      stdin: 'ignore',
    })
    const dir = join(incidents, CASE, 'evidence', big.name)
    const deadline = Date.now() + 120_000
    let sent = false
    while (Date.now() < deadline && child.exitCode === null) {
      const files = await readdir(dir).catch(() => [] as string[])
      if (files.some((f) => f.startsWith('export-') && f.endsWith('.tar.partial'))) {
        child.kill('SIGINT')
        sent = true
        break
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    const r = await child
    expect(sent, 'SIGINT was sent while the export was streaming').toBe(true)
    expect(r.exitCode, r.stderr).toBe(130)
    expect(r.stderr).toMatch(/Interrupting: finishing the current engine call/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    const files = await readdir(dir)
    expect(files.some((f) => f.endsWith('.partial'))).toBe(true)
    const v = await runIr(['case', 'verify', CASE, '--json'], {env: {IR_INCIDENTS_DIR: incidents}})
    expect(v.exitCode, v.stdout).toBe(0)
    const result = JSON.parse(v.stdout)
    expect(result.audit.ok).toBe(true)
    expect(result.unlisted).toEqual([])
    expect(result.partials.some((u: {path: string}) => u.path.endsWith('.tar.partial'))).toBe(true)
    // Nothing sits under a final name unless the manifest holds it.
    const listed = new Set(result.artifacts.map((a: {path: string}) => a.path))
    const written = (await readdir(dir, {recursive: true, withFileTypes: true})).filter((e) => e.isFile())
    expect(written.length).toBeGreaterThan(0)
    for (const e of written) {
      const rel = relative(join(incidents, CASE), join(e.parentPath, e.name))
      if (!e.name.endsWith('.partial')) expect(listed.has(rel), rel).toBe(true)
    }
  })
})
