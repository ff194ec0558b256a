import {Readable} from 'node:stream'

import {toContainerDetails} from '../../src/docker/dockerode-engine.js'
import {engineError} from '../../src/docker/errors.js'
import type {IrError} from '../../src/errors.js'
import type {
  ContainerClient,
  ContainerDetails,
  Engine,
  ImageClient,
  NetworkClient,
  SwarmClient,
  VolumeClient,
} from '../../src/docker/types.js'

/**
 * What the real client throws when the engine answers `status`: dockerode's error (statusCode, json.message)
 * passed through the same mapping (src/docker/errors.ts engineError), so a 404 is an AbortError with exit NOT_FOUND
 * naming the call. Fakes throw this, never a raw `{statusCode}`, so production code needs only one check.
 */
export function engineFailure(
  doing: string,
  message: string,
  opts: {status?: number; endpoint?: string} = {},
): IrError {
  const status = opts.status ?? 404
  const raw = Object.assign(new Error(`(HTTP code ${status}) unexpected - ${message}`), {
    statusCode: status,
    json: {message},
  })
  return engineError(raw, opts.endpoint ?? 'fake://engine', doing)
}

/** A fake engine behind the project's own interfaces, for unit tests of services (no Docker socket). */
export function fakeContainer(
  over: {
    id?: string
    name?: string
    state?: string
    env?: string[]
    image?: string
    labels?: Record<string, string>
    networks?: string[]
  } = {},
): ContainerDetails {
  const networks = Object.fromEntries(
    (over.networks ?? []).map((n) => [n, {NetworkID: `net-${n}`, Aliases: [], Links: null, IPAddress: '10.9.0.2'}]),
  )
  return toContainerDetails({
    Id: over.id ?? 'f'.repeat(64),
    Name: `/${over.name ?? 'fake'}`,
    Image: 'sha256:' + 'e'.repeat(64),
    Created: new Date().toISOString(),
    State: {Status: over.state ?? 'running', Pid: 0, StartedAt: new Date().toISOString()},
    Config: {Image: over.image ?? 'fake:latest', Env: over.env ?? [], Labels: over.labels ?? {}},
    HostConfig: {NetworkMode: over.networks?.[0] ?? 'bridge', LogConfig: {Type: 'json-file', Config: {}}},
    NetworkSettings: {Networks: networks},
    Mounts: [],
  } as never)
}

/** The subset of `docker ps --filter` the fakes understand: label (key or key=value), ancestor (image name), id, name. */
function matches(c: ContainerDetails, filters: Record<string, string[]> | undefined): boolean {
  if (!filters) return true
  for (const [key, values] of Object.entries(filters)) {
    const ok = values.some((v) => {
      if (key === 'label') {
        const [k, val] = v.split(/=(.*)/s)
        return val === undefined ? k! in c.labels : c.labels[k!] === val
      }
      if (key === 'ancestor') return c.image === v || c.imageId === v
      if (key === 'id') return c.id.startsWith(v)
      if (key === 'name') return c.name.includes(v)
      throw new Error(`fake engine: filter ${key} not supported`)
    })
    if (!ok) return false
  }
  return true
}

/**
 * A stateful fake: pause/unpause/stop/start change the container's state, disconnect/connect its
 * endpoints, so idempotence can be tested without Docker.
 */
export class FakeEngine implements Engine {
  readonly endpoint: string = 'fake://engine'
  calls: string[] = []
  exportTar: () => Readable = () => Readable.from([Buffer.alloc(1024)])
  saveTar: () => Readable = () => Readable.from([Buffer.alloc(1024)])

  constructor(
    private readonly containers_: ContainerDetails[],
    endpoint?: string,
  ) {
    if (endpoint) this.endpoint = endpoint
  }

  private find(id: string, doing = `inspect container ${id}`): ContainerDetails {
    const c = this.containers_.find((x) => x.id === id || x.name === id)
    if (!c) throw engineFailure(doing, `No such container: ${id}`, {endpoint: this.endpoint})
    return c
  }

  private setState(verb: string, id: string, from: string[], to: string): 'done' | 'already' {
    const c = this.find(id, `${verb} container ${id}`)
    if (!from.includes(c.state)) return 'already'
    c.state = to
    return 'done'
  }

  readonly containers: ContainerClient = {
    list: async (opts = {}) =>
      this.containers_
        .filter((c) => (opts.all ?? true) || c.state === 'running' || c.state === 'paused')
        .filter((c) => matches(c, opts.filters))
        .map((c) => ({
          id: c.id,
          names: [c.name],
          image: c.image,
          imageId: c.imageId,
          state: c.state,
          status: c.state,
          labels: c.labels,
        })),
    inspect: async (id) => structuredClone(this.find(id)),
    pause: async (id) => (this.calls.push(`pause ${id}`), this.setState('pause', id, ['running'], 'paused')),
    unpause: async (id) => (this.calls.push(`unpause ${id}`), this.setState('unpause', id, ['paused'], 'running')),
    stop: async (id) => (this.calls.push(`stop ${id}`), this.setState('stop', id, ['running', 'paused'], 'exited')),
    start: async (id) => (this.calls.push(`start ${id}`), this.setState('start', id, ['exited', 'created'], 'running')),
    top: async () => ({titles: ['PID', 'CMD'], processes: [['1', 'sleep']]}),
    diff: async () => [{path: '/tmp/x', kind: 'added'}],
    export: async () => this.exportTar(),
    logs: async () => Readable.from([]),
    stats: async () => ({}),
    getArchive: async () => Readable.from([Buffer.alloc(1024)]),
    commit: async (id) => (this.calls.push(`commit ${id}`), 'sha256:' + 'c'.repeat(64)),
    remove: async (id) => (this.calls.push(`remove ${id}`), 'done'),
  }

  readonly networks: NetworkClient = {
    list: async () => [],
    remove: async (id) => (this.calls.push(`remove network ${id}`), 'done'),
    disconnect: async (n, id) => {
      this.calls.push(`disconnect ${n} ${id}`)
      const c = this.find(id, `disconnect ${id} from network ${n}`)
      const before = c.endpoints.length
      c.endpoints = c.endpoints.filter((e) => e.networkId !== n)
      return c.endpoints.length < before ? 'done' : 'already'
    },
    connect: async (n, id) => {
      this.calls.push(`connect ${n} ${id}`)
      const c = this.find(id, `connect ${id} to network ${n}`)
      if (c.endpoints.some((e) => e.networkId === n)) return 'already'
      c.endpoints.push({networkId: n, networkName: n.replace(/^net-/, ''), aliases: [], staticIp: false, links: []})
      return 'done'
    },
  }

  readonly images: ImageClient = {
    inspect: async (ref) => ({
      id: ref,
      repoTags: [],
      labels: {},
      created: new Date().toISOString(),
      size: 0,
      user: '',
      repoDigests: [],
    }),
    list: async () => [],
    save: async () => this.saveTar(),
    remove: async () => 'done',
    untag: async (ref) => (this.calls.push(`untag ${ref}`), 'done'),
    prune: async () => ({deleted: 0, spaceReclaimed: 0}),
    importImage: async (_tar, opts) => (this.calls.push(`import ${opts.repo}:${opts.tag}`), 'sha256:' + 'd'.repeat(64)),
  }

  readonly volumes: VolumeClient = {
    list: async () => [],
    remove: async (name) => (this.calls.push(`remove volume ${name}`), 'done'),
  }

  readonly swarm: SwarmClient = {
    state: async () => ({localNodeState: 'inactive', controlAvailable: false}),
    inspectService: async (name) => {
      throw engineFailure(`inspect service ${name}`, `service ${name} not found`, {endpoint: this.endpoint})
    },
    services: async () => [],
    tasks: async () => [],
    nodes: async () => [],
  }

  async ping(): Promise<void> {}
  async info() {
    return {id: 'FAKE', name: 'fake', serverVersion: '0'}
  }
  async events() {
    return Readable.from([])
  }
  async swarmObjects() {
    return {secrets: [], configs: []}
  }
}
