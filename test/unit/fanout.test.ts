import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {beforeEach, describe, expect, it} from 'vitest'

import {type Case, CaseStore} from '../../src/case/case-store.js'
import {connectHosts, type HostSet, hostSpecFromFlag} from '../../src/docker/hosts.js'
import {readContainment} from '../../src/services/containment-state.js'
import {readFanout} from '../../src/services/fanout.js'
import {isolateOnHosts} from '../../src/services/isolate.js'
import {releaseOnHosts} from '../../src/services/release.js'
import {retryFailedHosts} from '../../src/services/retry.js'
import {parseFilters, parseRef} from '../../src/services/targets.js'
import {silentLogger} from '../../src/util/logger.js'
import {tempDir} from '../helpers/cli.js'
import {fakeContainer, FakeEngine} from '../helpers/fake-engine.js'

const IMAGE = 'shop/web:1.4'
const id = (c: string, n: number): string => `${c}${String(n)}`.padEnd(64, '0')

/** Three fake engines: two web containers of the image on each, one other container; c3 can be made unreachable. */
function fleet(): {engines: Map<string, FakeEngine>; down: Set<string>} {
  const engines = new Map<string, FakeEngine>()
  for (const [i, host] of ['unix:///run/e1.sock', 'unix:///run/e2.sock', 'unix:///run/e3.sock'].entries()) {
    const n = i + 1
    const e = new FakeEngine(
      [
        fakeContainer({id: id('a', n), name: `web-a`, image: IMAGE, networks: ['front']}),
        fakeContainer({
          id: id('b', n),
          name: `web-b-${n}`,
          image: IMAGE,
          networks: ['front', 'back'],
          labels: {app: 'web'},
        }),
        fakeContainer({id: id('d', n), name: `db-${n}`, image: 'postgres:16', networks: ['back']}),
      ],
      host,
    )
    e.info = async () => ({id: `ENGINE${n}:AAAA:BBBB`, name: 'vm', serverVersion: '20.10'})
    engines.set(host, e)
  }
  return {engines, down: new Set()}
}

async function connect(f: ReturnType<typeof fleet>, names = [...f.engines.keys()]): Promise<HostSet> {
  return connectHosts(
    names.map((n) => hostSpecFromFlag(n, {})),
    {
      log: silentLogger,
      makeEngine: (s) => {
        const e = f.engines.get(s.name)!
        if (f.down.has(s.name))
          return Object.assign(Object.create(e) as FakeEngine, {
            ping: async () => Promise.reject(Object.assign(new Error('connect ENOENT'), {code: 'ENOENT'})),
          })
        return e
      },
      allowNone: true,
      multi: true,
    },
  )
}

async function audit(
  kase: Case,
): Promise<Array<{action: string; target?: string; outcome: string; details?: Record<string, unknown>}>> {
  return (await readFile(join(kase.dir, 'audit.log'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
}

const stateChanging = (e: FakeEngine): string[] =>
  e.calls.filter((c) => /^(pause|stop|disconnect|unpause|start|connect) /.test(c))

describe('selectors and references', () => {
  it('parses the docker CLI filter syntax and refuses unknown keys', () => {
    expect(parseFilters(['label=app=web', 'ancestor=nginx:1.25', 'label=tier'])).toEqual({
      label: ['app=web', 'tier'],
      ancestor: ['nginx:1.25'],
    })
    expect(parseFilters([])).toBeUndefined()
    expect(() => parseFilters(['colour=red'])).toThrow(/unknown filter "colour"/)
    expect(() => parseFilters(['ancestor='])).toThrow(/no value/)
  })

  it('parses a reference once: trimmed, host/container split at the last slash (endpoints hold slashes, container names never do)', () => {
    expect(parseRef('web-1')).toEqual({ref: 'web-1', container: 'web-1'})
    expect(parseRef(' node-2/web-1 ')).toEqual({ref: ' node-2/web-1 ', host: 'node-2', container: 'web-1'})
    expect(parseRef('unix:///run/e1.sock/web-1')).toEqual({
      ref: 'unix:///run/e1.sock/web-1',
      host: 'unix:///run/e1.sock',
      container: 'web-1',
    })
    expect(parseRef('/web-1')).toEqual({ref: '/web-1', container: 'web-1'})
  })
})

describe('isolate across hosts (fake engines)', () => {
  let kase: Case
  let f: ReturnType<typeof fleet>
  beforeEach(async () => {
    kase = (await new CaseStore(await tempDir('ir-fanout-')).open({id: 'CASE-FANOUT'})).kase
    f = fleet()
  })

  it('refuses an ambiguous bare reference naming the hosts, and isolates a qualified one', async () => {
    const hosts = await connect(f)
    const r = await isolateOnHosts({
      hosts,
      kase,
      selection: {refs: ['web-a', 'unix:///run/e2.sock/web-a', 'web-b-3', 'nope']},
      mode: 'pause',
      dryRun: false,
    })
    const byRef = Object.fromEntries(r.containers.map((c) => [c.ref, c]))
    expect(byRef['web-a']!.status).toBe('failed')
    expect(byRef['web-a']!.error).toMatchObject({code: 'NOT_FOUND', exitCode: 4})
    expect(byRef['web-a']!.error!.message).toMatch(
      /ambiguous: it matches on 3 hosts: unix:\/\/\/run\/e1\.sock .*e2\.sock .*e3\.sock/,
    )
    expect(byRef['unix:///run/e2.sock/web-a']).toMatchObject({
      status: 'isolated',
      host: 'unix:///run/e2.sock',
      engineId: 'ENGINE2:AAAA:BBBB',
      id: id('a', 2),
    })
    expect(byRef['web-b-3']).toMatchObject({status: 'isolated', host: 'unix:///run/e3.sock'})
    expect(byRef.nope!.error!.message).toMatch(/No container named or with id "nope" on any of 3 hosts/)
    expect(stateChanging(f.engines.get('unix:///run/e1.sock')!)).toEqual([])
    expect(r.ok).toBe(false)
  })

  it('isolates a selector everywhere; an unreachable host is reported, audited and finished by retryFailedHosts without touching the others', async () => {
    f.down.add('unix:///run/e3.sock')
    const first = await isolateOnHosts({
      hosts: await connect(f),
      kase,
      selection: {refs: [], filters: {ancestor: [IMAGE]}},
      mode: 'pause',
      dryRun: false,
      concurrency: 2,
      maxHosts: 2,
    })
    expect(first.ok).toBe(false)
    expect(first.hosts).toEqual([
      expect.objectContaining({
        host: 'unix:///run/e1.sock',
        reachable: true,
        status: 'done',
        engineId: 'ENGINE1:AAAA:BBBB',
      }),
      expect.objectContaining({host: 'unix:///run/e2.sock', reachable: true, status: 'done'}),
      expect.objectContaining({
        host: 'unix:///run/e3.sock',
        reachable: false,
        status: 'failed',
        error: expect.objectContaining({code: 'ENGINE_UNREACHABLE'}),
      }),
    ])
    expect(first.containers.map((c) => `${c.host}/${c.name}:${c.status}`).sort()).toEqual([
      'unix:///run/e1.sock/web-a:isolated',
      'unix:///run/e1.sock/web-b-1:isolated',
      'unix:///run/e2.sock/web-a:isolated',
      'unix:///run/e2.sock/web-b-2:isolated',
    ])
    // The db containers are not of the image: untouched.
    expect(stateChanging(f.engines.get('unix:///run/e1.sock')!).filter((c) => c.includes(id('d', 1)))).toEqual([])
    const hostFailure = (await audit(kase)).find((e) => e.action === 'isolate' && e.outcome === 'failure')
    expect(hostFailure).toMatchObject({
      target: 'unix:///run/e3.sock',
      details: {host: 'unix:///run/e3.sock', error: expect.objectContaining({code: 'ENGINE_UNREACHABLE'})},
    })
    const fan = await readFanout(kase, 'isolate')
    expect(Object.fromEntries(Object.entries(fan!.hosts).map(([k, v]) => [k, v.status]))).toEqual({
      'unix:///run/e1.sock': 'done',
      'unix:///run/e2.sock': 'done',
      'unix:///run/e3.sock': 'failed',
    })

    // One evidence tree per host; containment keyed by engine id: the same container name twice does not collide.
    const manifest = await kase.manifest.read()
    expect(manifest.artifacts.map((a) => a.path).sort()).toEqual([
      expect.stringMatching(/^evidence\/unix_run_e1\.sock\/web-a\/inspect-.*\.json$/),
      expect.stringMatching(/^evidence\/unix_run_e1\.sock\/web-b-1\/inspect-/),
      expect.stringMatching(/^evidence\/unix_run_e2\.sock\/web-a\/inspect-/),
      expect.stringMatching(/^evidence\/unix_run_e2\.sock\/web-b-2\/inspect-/),
    ])
    expect(manifest.artifacts[0]!.source).toMatchObject({
      host: expect.stringMatching(/e[12]\.sock/),
      engineId: expect.stringMatching(/^ENGINE[12]/),
    })
    expect(Object.keys((await readContainment(kase)).containers).sort()).toEqual([
      `ENGINE1:AAAA:BBBB/${id('a', 1)}`,
      `ENGINE1:AAAA:BBBB/${id('b', 1)}`,
      `ENGINE2:AAAA:BBBB/${id('a', 2)}`,
      `ENGINE2:AAAA:BBBB/${id('b', 2)}`,
    ])

    // The third engine is back: finish it, and only it.
    f.down.delete('unix:///run/e3.sock')
    const callsBefore = [1, 2].map((n) => stateChanging(f.engines.get(`unix:///run/e${n}.sock`)!).length)
    const retry = await retryFailedHosts({
      kase,
      action: 'isolate',
      log: silentLogger,
      makeEngine: (s) => f.engines.get(s.name)!,
    })
    expect(retry.retried).toEqual(['unix:///run/e3.sock'])
    expect(retry.ok).toBe(true)
    expect(retry.containers.map((c) => `${c.host}/${c.name}:${c.status}`).sort()).toEqual([
      'unix:///run/e3.sock/web-a:isolated',
      'unix:///run/e3.sock/web-b-3:isolated',
    ])
    expect([1, 2].map((n) => stateChanging(f.engines.get(`unix:///run/e${n}.sock`)!).length)).toEqual(callsBefore)
    expect((await kase.manifest.read()).artifacts).toHaveLength(6)
    expect(Object.values((await readFanout(kase, 'isolate'))!.hosts).map((h) => h.status)).toEqual([
      'done',
      'done',
      'done',
    ])
    expect((await readFanout(kase, 'isolate'))!.hosts['unix:///run/e3.sock']!.attempts).toBe(2)

    // Nothing left to do: a retry is a no-op, and re-running the whole isolate changes nothing and adds no evidence.
    expect(
      (await retryFailedHosts({kase, action: 'isolate', log: silentLogger, makeEngine: (s) => f.engines.get(s.name)!}))
        .retried,
    ).toEqual([])
    const before = [...f.engines.values()].map((e) => stateChanging(e).length)
    const again = await isolateOnHosts({
      hosts: await connect(f),
      kase,
      selection: {refs: [], filters: {ancestor: [IMAGE]}},
      mode: 'pause',
      dryRun: false,
    })
    expect(again.ok).toBe(true)
    expect(again.containers.every((c) => c.status === 'already-isolated')).toBe(true)
    expect(again.containers).toHaveLength(6)
    expect([...f.engines.values()].map((e) => stateChanging(e).length)).toEqual(before)
    expect((await kase.manifest.read()).artifacts).toHaveLength(6)
  })

  it('release across hosts restores each container on its own engine', async () => {
    const hosts = await connect(f)
    await isolateOnHosts({
      hosts,
      kase,
      selection: {refs: [], filters: {label: ['app=web']}},
      mode: 'pause',
      dryRun: false,
    })
    const e2 = f.engines.get('unix:///run/e2.sock')!
    expect((await e2.containers.inspect(id('b', 2))).state).toBe('paused')
    const r = await releaseOnHosts({
      hosts,
      store: new CaseStore(join(kase.dir, '..')),
      kase,
      selection: {refs: ['unix:///run/e2.sock/web-b-2']},
      dryRun: false,
    })
    expect(r.containers).toEqual([expect.objectContaining({status: 'released', host: 'unix:///run/e2.sock'})])
    const after = await e2.containers.inspect(id('b', 2))
    expect(after.state).toBe('running')
    expect(after.endpoints.map((e) => e.networkId).sort()).toEqual(['net-back', 'net-front'])
    // The container of the same label on e1 stays isolated.
    expect((await f.engines.get('unix:///run/e1.sock')!.containers.inspect(id('b', 1))).state).toBe('paused')
    const state = (await readContainment(kase)).containers
    expect(state[`ENGINE2:AAAA:BBBB/${id('b', 2)}`]!.status).toBe('released')
    expect(state[`ENGINE1:AAAA:BBBB/${id('b', 1)}`]!.status).toBe('isolated')
  })
})
