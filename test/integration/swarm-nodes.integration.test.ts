import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import type Docker from 'dockerode'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runIr, tempDir} from '../helpers/cli.js'
import {TEST_IMAGE, TestDocker} from '../helpers/docker.js'
import {canRunExtraEngines, type ExtraEngine, ExtraEngines} from '../helpers/engines.js'
import {installKey, runIrAsHome, sshAvailable, startSshd, throwawayHome} from '../helpers/sshd.js'

/**
 * A real two-node swarm: a manager and a worker, each its own dockerd in a network namespace of
 * this test's own making, joined over a veth link (swarm traffic only between those namespaces).
 * The service's one task runs on the worker: ir finds it through the manager and acts on it through
 * the worker's own engine.
 */
const available = await canRunExtraEngines()
if (!available.ok) console.warn(`two-node swarm tests skipped: ${available.reason}`)

const t = new TestDocker('swn')
const extra = new ExtraEngines()
const CASE = `CASE-SWN-${t.runId}`
const SERVICE = t.name('web')
const labels = {'ir.test': 'true', 'ir.test.run': t.runId}
let manager: ExtraEngine
let worker: ExtraEngine
let m: Docker
let w: Docker
let incidents: string
let env: Record<string, string>
let task: {id: string; container: string; node: string}

interface RawTask {
  ID: string
  NodeID?: string
  Status: {State: string; ContainerStatus?: {ContainerID?: string}}
}

async function runningTasks(): Promise<RawTask[]> {
  const tasks = (await m.listTasks({
    filters: JSON.stringify({service: [SERVICE], 'desired-state': ['running']}),
  })) as unknown as RawTask[]
  return tasks.filter((x) => x.Status.State === 'running')
}

beforeAll(async () => {
  if (!available.ok) return
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  ;[manager, worker] = (await extra.start(2, {netns: true})) as [ExtraEngine, ExtraEngine]
  m = extra.docker(manager)
  w = extra.docker(worker)
  await extra.loadImage(t.docker, TEST_IMAGE, [1])
  await m.swarmInit({ListenAddr: `${manager.addr}:2377`, AdvertiseAddr: `${manager.addr}:2377`})
  const tokens = ((await m.swarmInspect()) as {JoinTokens: {Worker: string}}).JoinTokens
  await w.swarmJoin({
    ListenAddr: `${worker.addr}:2377`,
    AdvertiseAddr: worker.addr,
    RemoteAddrs: [`${manager.addr}:2377`],
    JoinToken: tokens.Worker,
  })
  await m.createService({
    Name: SERVICE,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {Image: TEST_IMAGE, Args: ['sleep', '3600'], Labels: labels},
      Placement: {Constraints: ['node.role==worker']},
    },
    Mode: {Replicated: {Replicas: 1}},
  } as never)
  for (let i = 0; i < 240 && (await runningTasks()).length !== 1; i++) await new Promise((r) => setTimeout(r, 500))
  const [x] = await runningTasks()
  if (!x) throw new Error('the service task did not start on the worker')
  task = {id: x.ID, container: x.Status.ContainerStatus!.ContainerID!, node: x.NodeID!}
}, 300_000)

afterAll(async () => {
  if (!available.ok) return
  await extra.cleanup()
}, 300_000)

describe.skipIf(!available.ok)('a two-node swarm (manager and worker in their own network namespaces)', () => {
  it('is real: two nodes, the task on the worker, its container only on the worker engine', async () => {
    const nodes = (await m.listNodes()) as Array<{
      ID: string
      Spec: {Role: string}
      Status: {State: string; Addr: string}
    }>
    expect(nodes.map((n) => n.Spec.Role).sort()).toEqual(['manager', 'worker'])
    const wInfo = (await w.info()) as {Swarm: {NodeID: string; NodeAddr: string}}
    expect(task.node).toBe(wInfo.Swarm.NodeID)
    expect(wInfo.Swarm.NodeAddr).toBe(worker.addr)
    expect((await w.getContainer(task.container).inspect()).State.Running).toBe(true)
    await expect(m.getContainer(task.container).inspect()).rejects.toMatchObject({statusCode: 404})
  })

  it('ir isolate --service, through the manager and the worker engine, isolates the task on the worker', async () => {
    const r = await runIr(
      [
        'isolate',
        '--service',
        SERVICE,
        '--host',
        manager.host,
        '--host',
        worker.host,
        '--case',
        CASE,
        '--yes',
        '--json',
      ],
      {env},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.containers).toEqual([
      expect.objectContaining({id: task.container, status: 'isolated', service: SERVICE, task: task.id}),
    ])
    const i = await w.getContainer(task.container).inspect()
    expect(i.State.Status).toBe('paused')
    expect(Object.keys(i.NetworkSettings.Networks ?? {})).toEqual([])
    // Still the service's task: the swarm did not replace it.
    expect((await runningTasks()).map((x) => x.ID)).toEqual([task.id])
  })

  it('the worker engine reached over ssh (an sshd whose sessions reach the worker dockerd): the task is found there, already isolated', async () => {
    const ssh = await sshAvailable()
    if (!ssh.ok && process.env.CI !== 'true') return
    const sshd = await startSshd({setEnv: {DOCKER_HOST: worker.host}})
    try {
      const h = await throwawayHome()
      await installKey(sshd.clientKey, join(h.ssh, 'id_ed25519'))
      await writeFile(join(h.ssh, 'known_hosts'), `${sshd.knownHostsLine}\n`)
      await writeFile(join(h.ssh, 'config'), `Host irworker\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n`)
      const r = await runIrAsHome(
        h,
        [
          'isolate',
          '--service',
          SERVICE,
          '--host',
          manager.host,
          '--host',
          'ssh://irworker',
          '--case',
          CASE,
          '--yes',
          '--json',
        ],
        env,
      )
      expect(r.exitCode, r.stderr).toBe(0)
      const result = JSON.parse(r.stdout)
      expect(result.containers).toEqual([
        expect.objectContaining({
          id: task.container,
          status: 'already-isolated',
          service: SERVICE,
          task: task.id,
          host: 'ssh://irworker',
        }),
      ])
      expect(sshd.logins()).toBe(1)
    } finally {
      await sshd.stop()
    }
  })

  it('ir snapshot --service labels the evidence with the service and the task, on the worker', async () => {
    const r = await runIr(
      [
        'snapshot',
        '--service',
        SERVICE,
        '--host',
        manager.host,
        '--host',
        worker.host,
        '--case',
        CASE,
        '--no-export',
        '--yes',
        '--json',
      ],
      {env},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    const images = await w.listImages({
      filters: JSON.stringify({label: [`ir.case=${CASE}`]}),
    } as unknown as Docker.ListImagesOptions)
    expect(images).toHaveLength(1)
    expect(images[0]!.Labels).toMatchObject({
      'ir.service': SERVICE,
      'ir.task': task.id,
      'ir.source.container': task.container,
    })
    expect(
      await m.listImages({
        filters: JSON.stringify({label: [`ir.case=${CASE}`]}),
      } as unknown as Docker.ListImagesOptions),
    ).toHaveLength(0)
    const manifest = JSON.parse(await readFile(join(incidents, CASE, 'manifest.json'), 'utf8')) as {
      artifacts: Array<{type: string; source?: {service?: string; task?: string; host?: string}}>
    }
    const tars = manifest.artifacts.filter((a) => a.type === 'image-tar')
    expect(tars).toHaveLength(1)
    expect(tars[0]!.source).toMatchObject({service: SERVICE, task: task.id, host: worker.host})
  })

  it('ir release restores the task on the worker, and the case verifies', async () => {
    const name = ((await w.getContainer(task.container).inspect()) as {Name: string}).Name.replace(/^\//, '')
    const r = await runIr(
      [
        'release',
        `${worker.host}/${name}`,
        '--host',
        manager.host,
        '--host',
        worker.host,
        '--case',
        CASE,
        '--yes',
        '--json',
      ],
      {env},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    const i = await w.getContainer(task.container).inspect()
    expect(i.State.Status).toBe('running')
    expect((await runningTasks()).map((x) => x.ID)).toEqual([task.id])
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout + v.stderr).toBe(0)
  })
})
