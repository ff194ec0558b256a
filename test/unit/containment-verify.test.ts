import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {beforeEach, describe, expect, it} from 'vitest'

import {type Case, CaseStore} from '../../src/case/case-store.js'
import {singleHost} from '../../src/docker/hosts.js'
import type {ContainerDetails} from '../../src/docker/types.js'
import {readContainment} from '../../src/services/containment-state.js'
import {interfacesOf} from '../../src/services/containment-verify.js'
import {isolateOnHosts} from '../../src/services/isolate.js'
import {tempDir} from '../helpers/cli.js'
import {fakeContainer, FakeEngine} from '../helpers/fake-engine.js'

const ID = 'c'.repeat(64)
const NET_DEV_HEADER =
  'Inter-|   Receive                            |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n'
const devLine = (n: string): string =>
  `${n.padStart(6)}:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n`

/** An engine double whose disconnect answers "done" and changes nothing (what Podman does to a paused container). */
class LyingEngine extends FakeEngine {
  constructor(c: ContainerDetails, endpoint?: string) {
    super([c], endpoint)
    this.networks.disconnect = async (n, id) => (this.calls.push(`disconnect ${n} ${id}`), 'done')
  }
}

/** A proc filesystem for one container pid: its cgroup names the container, its net/dev lists the interfaces. */
async function fakeProc(pid: number, interfaces: string[]): Promise<string> {
  const root = await tempDir('ir-proc-')
  await mkdir(join(root, String(pid), 'net'), {recursive: true})
  await writeFile(join(root, String(pid), 'cgroup'), `12:pids:/docker/${ID}\n0::/\n`)
  await writeFile(join(root, String(pid), 'net', 'dev'), NET_DEV_HEADER + interfaces.map(devLine).join(''))
  return root
}

function withPid(c: ContainerDetails, pid: number): ContainerDetails {
  return {...c, pid}
}

describe('containment is verified after the cut', () => {
  let kase: Case
  beforeEach(async () => {
    kase = (await new CaseStore(await tempDir('ir-verify-')).open({id: 'CASE-VERIFY'})).kase
  })

  it('reads interfaces from /proc/<pid>/net/dev, leaving out lo and the kernel fallback tunnels', () => {
    expect(interfacesOf(NET_DEV_HEADER + ['lo', 'tunl0', 'sit0', 'eth0'].map(devLine).join(''))).toEqual(['eth0'])
    expect(interfacesOf(NET_DEV_HEADER + devLine('lo'))).toEqual([])
  })

  it('a disconnect that silently did nothing is reported NOT contained, with a failure exit code and the record saying so', async () => {
    const engine = new LyingEngine(fakeContainer({id: ID, name: 'web', networks: ['front']}))
    const r = await isolateOnHosts({
      hosts: await singleHost(engine),
      kase,
      selection: {refs: ['web']},
      mode: 'pause',
      dryRun: false,
    })
    expect(r.ok).toBe(false)
    const c = r.containers[0]!
    expect(c.status).toBe('not-contained')
    expect(c.error?.message).toMatch(/^NOT contained: web is still networked/)
    expect(c.error?.exitCode).toBe(1)
    expect(c.verification).toMatchObject({contained: false, inspectEndpoints: ['front']})
    const record = (await readContainment(kase)).containers[ID]!
    expect(record.networkCut).toBe(false)
    expect(record.verification?.how).toContain('inspect: still on front')
    const audit = (await readFile(join(kase.dir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(audit.find((e) => e.action === 'isolate')?.msg).toMatch(/^NOT contained: web/)
  })

  it('on the engine host, an interface left in the namespace is NOT contained even when the inspect shows none', async () => {
    const engine = new FakeEngine(
      [withPid(fakeContainer({id: ID, name: 'web', networks: ['front']}), 4242)],
      'unix:///run/test.sock',
    )
    const procRoot = await fakeProc(4242, ['lo', 'eth0'])
    const r = await isolateOnHosts({
      hosts: await singleHost(engine),
      kase,
      selection: {refs: ['web']},
      mode: 'pause',
      dryRun: false,
      procRoot,
    })
    expect(r.containers[0]!.status).toBe('not-contained')
    expect(r.containers[0]!.verification).toMatchObject({
      contained: false,
      inspectEndpoints: [],
      procInterfaces: ['eth0'],
      procPid: 4242,
    })
  })

  it('an effective cut is recorded as verified, by inspect and by the namespace', async () => {
    const engine = new FakeEngine(
      [withPid(fakeContainer({id: ID, name: 'web', networks: ['front']}), 4242)],
      'unix:///run/test.sock',
    )
    const procRoot = await fakeProc(4242, ['lo'])
    const r = await isolateOnHosts({
      hosts: await singleHost(engine),
      kase,
      selection: {refs: ['web']},
      mode: 'pause',
      dryRun: false,
      procRoot,
    })
    expect(r.ok).toBe(true)
    expect(r.containers[0]!.status).toBe('isolated')
    const record = (await readContainment(kase)).containers[ID]!
    expect(record.networkCut).toBe(true)
    expect(record.verification).toMatchObject({contained: true, procInterfaces: [], procPid: 4242})
    expect(record.verification?.how).toContain('no interface but lo')
  })

  it('a pid on this machine that is not the container (a remote or forwarded engine) is not read, and says why', async () => {
    const engine = new FakeEngine(
      [withPid(fakeContainer({id: 'd'.repeat(64), name: 'web', networks: ['front']}), 4242)],
      'unix:///run/test.sock',
    )
    const procRoot = await fakeProc(4242, ['lo', 'eth0'])
    const r = await isolateOnHosts({
      hosts: await singleHost(engine),
      kase,
      selection: {refs: ['web']},
      mode: 'pause',
      dryRun: false,
      procRoot,
    })
    expect(r.containers[0]!.status).toBe('isolated')
    expect(r.containers[0]!.verification?.procSkipped).toMatch(/not that container's/)
  })

  it('on Podman the network is cut before the pause (its disconnect of a paused container does nothing)', async () => {
    const engine = new FakeEngine([fakeContainer({id: ID, name: 'web', networks: ['front']})])
    engine.info = async () => ({id: 'podman-x', name: 'fake', serverVersion: '5.8.6', kind: 'podman' as const})
    const r = await isolateOnHosts({
      hosts: await singleHost(engine),
      kase,
      selection: {refs: ['web']},
      mode: 'pause',
      dryRun: false,
    })
    expect(r.containers[0]!.status).toBe('isolated')
    expect(engine.calls.filter((c) => /^(pause|disconnect)/.test(c))).toEqual([
      `disconnect net-front ${ID}`,
      `pause ${ID}`,
    ])
    const docker = new FakeEngine([fakeContainer({id: ID, name: 'web', networks: ['front']})])
    await isolateOnHosts({
      hosts: await singleHost(docker),
      kase: (await new CaseStore(await tempDir('ir-verify-')).open({id: 'CASE-VERIFY2'})).kase,
      selection: {refs: ['web']},
      mode: 'pause',
      dryRun: false,
    })
    expect(docker.calls.filter((c) => /^(pause|disconnect)/.test(c))).toEqual([
      `pause ${ID}`,
      `disconnect net-front ${ID}`,
    ])
  })
})
