import {createHash} from 'node:crypto'
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import Collect from '../../src/commands/collect.js'
import Snapshot from '../../src/commands/snapshot.js'
import {collectOnHosts} from '../../src/services/evidence/collect.js'
import {snapshotOnHosts} from '../../src/services/evidence/snapshot.js'
import {tempDir} from '../helpers/cli.js'
import {fakeEngines, runCommand} from '../helpers/command.js'
import {fakeContainer, FakeEngine} from '../helpers/fake-engine.js'

vi.mock('../../src/services/evidence/snapshot.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/services/evidence/snapshot.js')>()
  return {...real, snapshotOnHosts: vi.fn(real.snapshotOnHosts)}
})
vi.mock('../../src/services/evidence/collect.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/services/evidence/collect.js')>()
  return {...real, collectOnHosts: vi.fn(real.collectOnHosts)}
})

const WEB = 'a'.repeat(64)

let engine: FakeEngine
let dir: string
beforeEach(async () => {
  vi.mocked(snapshotOnHosts).mockClear()
  vi.mocked(collectOnHosts).mockClear()
  engine = new FakeEngine([fakeContainer({id: WEB, name: 'web-1', networks: ['front'], labels: {app: 'web'}})])
  dir = await tempDir('ir-cmd-evidence-')
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('ir snapshot: flags -> service options (fake engine, no Docker)', () => {
  const run = (argv: string[]) => runCommand(Snapshot, argv, {engines: fakeEngines(engine), incidentsDir: dir})
  const options = () => vi.mocked(snapshotOnHosts).mock.calls[0]![0]

  it('--no-export and --volumes reach the service; the evidence is in the case with the hash reported', async () => {
    const r = await run([
      'web-1',
      '--no-export',
      '--volumes',
      '--case',
      'SNAP-1',
      '--max-hosts',
      '3',
      '--yes',
      '--json',
    ])
    expect(r.exitCode).toBe(0)
    expect(options()).toMatchObject({selection: {refs: ['web-1']}, export: false, volumes: true, maxHosts: 3})
    expect(options().kase.id).toBe('SNAP-1')
    expect(engine.calls).toContain(`commit ${WEB}`)
    const json = r.json<{
      caseId: string
      ok: boolean
      containers: Array<{status: string; artifacts: Array<{type: string; path: string; sha256: string}>}>
    }>()
    expect(json).toMatchObject({caseId: 'SNAP-1', ok: true, containers: [{name: 'web-1', status: 'snapshotted'}]})
    const types = json.containers[0]!.artifacts.map((a) => a.type)
    expect(types).toContain('image-tar')
    expect(types).not.toContain('export-tar')
    for (const a of json.containers[0]!.artifacts) {
      const bytes = await readFile(join(dir, 'SNAP-1', a.path))
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(a.sha256)
    }
  })

  it('--filter and the default --export; refuses without a TTY unless --yes (exit 7), before any engine call', async () => {
    const refused = await run(['--filter', 'label=app=web', '--json'])
    expect(refused.exitCode).toBe(7)
    expect(refused.json()).toMatchObject({error: {code: 'CONFIRMATION_REQUIRED', exitCode: 7}})
    expect(snapshotOnHosts).not.toHaveBeenCalled()
    expect(engine.calls).toEqual([])

    const r = await run(['--filter', 'label=app=web', '--yes'])
    expect(r.exitCode).toBe(0)
    expect(options()).toMatchObject({
      selection: {refs: [], filters: {label: ['app=web']}},
      export: true,
      volumes: false,
    })
    expect(r.stdout).toMatch(/web-1/)
  })

  it('an unknown container exits 4 with the failure in the JSON; a bad --filter key is a usage error (2)', async () => {
    const r = await run(['ghost', '--yes', '--json'])
    expect(r.exitCode).toBe(4)
    expect(r.json()).toMatchObject({
      ok: false,
      containers: [{ref: 'ghost', status: 'failed', error: {code: 'NOT_FOUND'}}],
    })
    const bad = await run(['--filter', 'colour=red', '--yes'])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/unknown filter "colour"/)
  })
})

describe('ir collect: flags -> service options (fake engine, no Docker)', () => {
  const run = (argv: string[]) => runCommand(Collect, argv, {engines: fakeEngines(engine), incidentsDir: dir})
  const options = () => vi.mocked(collectOnHosts).mock.calls[0]![0]

  it('--since and --until become Unix seconds; collecting reads only, so no --yes is needed', async () => {
    const r = await run([
      'web-1',
      '--since',
      '2026-11-27T22:00:00Z',
      '--until',
      '1795823400',
      '--case',
      'COL-1',
      '--json',
    ])
    expect(r.exitCode).toBe(0)
    expect(options()).toMatchObject({
      selection: {refs: ['web-1']},
      since: Date.parse('2026-11-27T22:00:00Z') / 1000,
      until: 1795823400,
    })
    expect(engine.calls.filter((c) => /^(pause|stop|disconnect|commit) /.test(c))).toEqual([])
    const json = r.json<{containers: Array<{archive: {path: string; sha256: string}}>}>()
    expect(json).toMatchObject({caseId: 'COL-1', ok: true, containers: [{name: 'web-1', status: 'collected'}]})
    const archive = json.containers[0]!.archive
    const bytes = await readFile(join(dir, 'COL-1', archive.path))
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(archive.sha256)
  })

  it('a relative --since is before now; without --until the service picks now', async () => {
    const before = Math.floor(Date.now() / 1000)
    await run(['web-1', '--since', '2h'])
    const o = options()
    expect(o.since).toBeGreaterThanOrEqual(before - 7200 - 1)
    expect(o.since).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) - 7200 + 1)
    expect(o.until).toBeUndefined()
  })

  it('--until before --since is a usage error (2) and the service is never called; nothing named is 2 too', async () => {
    const r = await run(['web-1', '--since', '2026-11-28T00:00:00Z', '--until', '2026-11-27T00:00:00Z', '--json'])
    expect(r.exitCode).toBe(2)
    expect(r.json()).toMatchObject({error: {code: 'USAGE', hint: expect.stringMatching(/Swap them/)}})
    expect(collectOnHosts).not.toHaveBeenCalled()
    expect((await run([])).exitCode).toBe(2)
  })
})
