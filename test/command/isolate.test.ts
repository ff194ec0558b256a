import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import Isolate from '../../src/commands/isolate.js'
import {isolateOnHosts} from '../../src/services/isolate.js'
import {tempDir} from '../helpers/cli.js'
import {fakeEngines, runCommand} from '../helpers/command.js'
import {fakeContainer, FakeEngine} from '../helpers/fake-engine.js'

vi.mock('../../src/services/isolate.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/services/isolate.js')>()
  return {...real, isolateOnHosts: vi.fn(real.isolateOnHosts)}
})

const WEB = 'a'.repeat(64)
const DB = 'b'.repeat(64)

describe('ir isolate: flags -> service options (fake engine, no Docker)', () => {
  let engine: FakeEngine
  let dir: string
  beforeEach(async () => {
    vi.mocked(isolateOnHosts).mockClear()
    engine = new FakeEngine([
      fakeContainer({id: WEB, name: 'web-1', networks: ['front', 'back']}),
      fakeContainer({id: DB, name: 'db-1', networks: ['back'], labels: {app: 'db'}}),
    ])
    dir = await tempDir('ir-cmd-isolate-')
  })
  afterEach(async () => {
    const {rm} = await import('node:fs/promises')
    await rm(dir, {recursive: true, force: true})
  })
  const run = (argv: string[]) => runCommand(Isolate, argv, {engines: fakeEngines(engine), incidentsDir: dir})
  const options = () => vi.mocked(isolateOnHosts).mock.calls[0]![0]

  it('passes the references, --filter, mode, concurrency and stop timeout to the one service entry', async () => {
    const r = await run([
      'web-1',
      '--filter',
      'label=app=db',
      '--stop',
      '--stop-timeout',
      '3',
      '--concurrency',
      '2',
      '--max-hosts',
      '4',
      '--case',
      'CMD-1',
      '--yes',
      '--json',
    ])
    expect(r.exitCode).toBe(0)
    expect(isolateOnHosts).toHaveBeenCalledTimes(1)
    const o = options()
    expect(o).toMatchObject({
      selection: {refs: ['web-1'], filters: {label: ['app=db']}},
      mode: 'stop',
      dryRun: false,
      concurrency: 2,
      maxHosts: 4,
      stopTimeoutSeconds: 3,
    })
    expect(o.kase?.id).toBe('CMD-1')
    // Without --host/--context/--hosts: the default engine, as a set of one.
    expect(o.hosts).toMatchObject({multi: false, unreachable: [], hosts: [{engine, engineId: 'FAKE', dir: ''}]})
    // The service really ran on that engine: both containers stopped and cut off.
    expect(engine.calls.filter((c) => c.startsWith('stop ')).sort()).toEqual([`stop ${WEB}`, `stop ${DB}`].sort())
    const json = r.json<{
      caseId: string
      mode: string
      ok: boolean
      containers: Array<{name: string; status: string}>
    }>()
    expect(json).toMatchObject({caseId: 'CMD-1', mode: 'stop', dryRun: false, ok: true})
    expect(json.containers.map((c) => [c.name, c.status]).sort()).toEqual([
      ['db-1', 'isolated'],
      ['web-1', 'isolated'],
    ])
    expect(r.stdout).not.toMatch(/Case CMD-1 opened/) // progress goes to stderr
    expect(r.stderr).toMatch(/Case CMD-1 opened/)
    const audit = await readFile(join(dir, 'CMD-1', 'audit.log'), 'utf8')
    expect(audit).toMatch(/"action":"isolate"/)
  })

  it('--network-only keeps processes running; the default pauses', async () => {
    await run(['web-1', '--network-only', '--yes'])
    expect(options().mode).toBe('network-only')
    expect(engine.calls.some((c) => /^(pause|stop) /.test(c))).toBe(false)
    expect(engine.calls.filter((c) => c.startsWith('disconnect '))).toHaveLength(2)
    vi.mocked(isolateOnHosts).mockClear()
    await run(['db-1', '--yes'])
    expect(options().mode).toBe('pause')
    expect(engine.calls).toContain(`pause ${DB}`)
  })

  it('--dry-run changes nothing, opens no case and needs no --yes', async () => {
    const r = await run(['web-1', '--dry-run', '--json'])
    expect(r.exitCode).toBe(0)
    expect(options()).toMatchObject({dryRun: true, mode: 'pause'})
    expect(options().kase).toBeUndefined()
    expect(engine.calls).toEqual([])
    expect(r.json()).toMatchObject({dryRun: true, containers: [{name: 'web-1', status: 'planned'}]})
    const {readdir} = await import('node:fs/promises')
    expect(await readdir(dir).catch(() => [])).toEqual([])
  })

  it('refuses without a TTY unless --yes: exit 7, the service is never called, nothing changes', async () => {
    const r = await run(['web-1', '--json'])
    expect(r.exitCode).toBe(7)
    expect(isolateOnHosts).not.toHaveBeenCalled()
    expect(engine.calls).toEqual([])
    expect(r.json()).toEqual({
      error: {
        message: 'Refusing to isolate containers without confirmation: no TTY',
        code: 'CONFIRMATION_REQUIRED',
        exitCode: 7,
        hint: 'Re-run with --yes to confirm, or --dry-run to see the plan.',
      },
    })
  })

  it('an unknown reference still isolates the others and exits 4; --stop with --network-only is a usage error', async () => {
    const r = await run(['nope', 'web-1', '--yes', '--json'])
    expect(r.exitCode).toBe(4)
    const json = r.json<{ok: boolean; containers: Array<{ref: string; status: string; error?: {code: string}}>}>()
    expect(json.ok).toBe(false)
    expect(json.containers.find((c) => c.ref === 'web-1')?.status).toBe('isolated')
    expect(json.containers.find((c) => c.ref === 'nope')).toMatchObject({status: 'failed', error: {code: 'NOT_FOUND'}})

    const usage = await run(['web-1', '--stop', '--network-only', '--yes'])
    expect(usage.exitCode).toBe(2)
    const nothing = await run(['--yes'])
    expect(nothing.exitCode).toBe(2)
    expect(nothing.stderr).toMatch(/Nothing to isolate/)
  })

  it('--host names engines through the factory: a qualified reference is isolated on its host only', async () => {
    const other = new FakeEngine([fakeContainer({id: WEB, name: 'web-1', networks: ['front']})], 'unix:///run/e2.sock')
    other.info = async () => ({id: 'ENGINE2', name: 'node-2', serverVersion: '28'})
    const first = new FakeEngine([fakeContainer({id: WEB, name: 'web-1', networks: ['front']})], 'unix:///run/e1.sock')
    first.info = async () => ({id: 'ENGINE1', name: 'node-1', serverVersion: '28'})
    const engines = fakeEngines(engine, {'unix:///run/e1.sock': first, 'unix:///run/e2.sock': other})
    const r = await runCommand(
      Isolate,
      ['-H', 'unix:///run/e1.sock', '-H', 'unix:///run/e2.sock', 'node-2/web-1', '--case', 'CMD-2', '--yes', '--json'],
      {engines, incidentsDir: dir},
    )
    expect(r.exitCode).toBe(0)
    expect(engines.connects).toBe(0) // the default engine is not used when hosts are named
    expect(options().hosts.multi).toBe(true)
    expect(options().selection.refs).toEqual(['node-2/web-1'])
    expect(first.calls).toEqual([])
    expect(other.calls).toContain(`pause ${WEB}`)
    expect(r.json()).toMatchObject({
      containers: [{host: 'unix:///run/e2.sock', engineId: 'ENGINE2', status: 'isolated'}],
      hosts: [
        {host: 'unix:///run/e1.sock', status: 'done'},
        {host: 'unix:///run/e2.sock', status: 'done'},
      ],
    })
  })
})
