import {rm} from 'node:fs/promises'

import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import Isolate from '../../src/commands/isolate.js'
import Release from '../../src/commands/release.js'
import {releaseOnHosts} from '../../src/services/release.js'
import {tempDir} from '../helpers/cli.js'
import {fakeEngines, runCommand} from '../helpers/command.js'
import {fakeContainer, FakeEngine} from '../helpers/fake-engine.js'

vi.mock('../../src/services/release.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/services/release.js')>()
  return {...real, releaseOnHosts: vi.fn(real.releaseOnHosts)}
})

const WEB = 'a'.repeat(64)

describe('ir release: flags -> service options (fake engine, no Docker)', () => {
  let engine: FakeEngine
  let dir: string
  beforeEach(async () => {
    vi.mocked(releaseOnHosts).mockClear()
    engine = new FakeEngine([fakeContainer({id: WEB, name: 'web-1', networks: ['front'], labels: {app: 'web'}})])
    dir = await tempDir('ir-cmd-release-')
    const isolated = await runCommand(Isolate, ['web-1', '--case', 'REL-1', '--yes'], {
      engines: fakeEngines(engine),
      incidentsDir: dir,
    })
    expect(isolated.exitCode).toBe(0)
    engine.calls = []
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })
  const run = (argv: string[]) => runCommand(Release, argv, {engines: fakeEngines(engine), incidentsDir: dir})
  const options = () => vi.mocked(releaseOnHosts).mock.calls[0]![0]

  it('passes references, --filter, --case, concurrency and the store; reconnects and unpauses', async () => {
    const r = await run([
      '--filter',
      'label=app=web',
      '--case',
      'REL-1',
      '--concurrency',
      '3',
      '--max-hosts',
      '2',
      '--yes',
      '--json',
    ])
    expect(r.exitCode).toBe(0)
    expect(options()).toMatchObject({
      selection: {refs: [], filters: {label: ['app=web']}},
      dryRun: false,
      concurrency: 3,
      maxHosts: 2,
    })
    expect(options().kase?.id).toBe('REL-1')
    expect(options().store.root).toBe(dir)
    expect(engine.calls).toEqual([`connect net-front ${WEB}`, `unpause ${WEB}`])
    expect(r.json()).toMatchObject({dryRun: false, ok: true, containers: [{name: 'web-1', status: 'released'}]})
  })

  it('without --case finds the isolating case; --dry-run plans and changes nothing', async () => {
    const dry = await run(['web-1', '--dry-run', '--json'])
    expect(dry.exitCode).toBe(0)
    expect(options().kase).toBeUndefined()
    expect(options().dryRun).toBe(true)
    expect(engine.calls).toEqual([])
    expect(dry.json()).toMatchObject({dryRun: true, containers: [{name: 'web-1', status: 'planned', caseId: 'REL-1'}]})
    const real = await run(['web-1', '--yes', '--json'])
    expect(real.json()).toMatchObject({containers: [{status: 'released', caseId: 'REL-1'}]})
  })

  it('refuses without a TTY unless --yes (exit 7); an unknown case is exit 4; nothing named is exit 2', async () => {
    const refused = await run(['web-1'])
    expect(refused.exitCode).toBe(7)
    expect(refused.stderr).toMatch(/Refusing to release containers without confirmation: no TTY/)
    expect(releaseOnHosts).not.toHaveBeenCalled()
    expect(engine.calls).toEqual([])
    const noCase = await run(['web-1', '--case', 'NO-SUCH', '--yes', '--json'])
    expect(noCase.exitCode).toBe(4)
    expect(noCase.json()).toMatchObject({error: {code: 'NOT_FOUND'}})
    expect((await run(['--yes'])).exitCode).toBe(2)
  })

  it('a container that is not isolated is reported, not an error; an unknown one exits 4', async () => {
    const first = await run(['web-1', '--yes'])
    expect(first.exitCode).toBe(0)
    const again = await run(['web-1', 'ghost', '--yes', '--json'])
    expect(again.exitCode).toBe(4)
    const json = again.json<{containers: Array<{ref: string; status: string}>}>()
    expect(json.containers.map((c) => [c.ref, c.status])).toEqual([
      ['web-1', 'not-isolated'],
      ['ghost', 'failed'],
    ])
  })
})
