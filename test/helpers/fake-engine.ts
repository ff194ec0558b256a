import {Readable} from 'node:stream'

import {toContainerDetails} from '../../src/docker/dockerode-engine.js'
import type {ContainerClient, ContainerDetails, Engine, ImageClient, NetworkClient, SwarmClient} from '../../src/docker/types.js'

/** A fake engine behind the project's own interfaces, for unit tests of services (no Docker socket). */
export function fakeContainer(over: {id?: string; name?: string; state?: string; env?: string[]} = {}): ContainerDetails {
  return toContainerDetails({
    Id: over.id ?? 'f'.repeat(64),
    Name: `/${over.name ?? 'fake'}`,
    Image: 'sha256:' + 'e'.repeat(64),
    Created: new Date().toISOString(),
    State: {Status: over.state ?? 'running', Pid: 0, StartedAt: new Date().toISOString()},
    Config: {Image: 'fake:latest', Env: over.env ?? [], Labels: {}},
    HostConfig: {NetworkMode: 'bridge', LogConfig: {Type: 'json-file', Config: {}}},
    NetworkSettings: {Networks: {}},
    Mounts: [],
  } as never)
}

export class FakeEngine implements Engine {
  readonly endpoint = 'fake://engine'
  calls: string[] = []
  exportTar: () => Readable = () => Readable.from([Buffer.alloc(1024)])
  saveTar: () => Readable = () => Readable.from([Buffer.alloc(1024)])

  constructor(private readonly containers_: ContainerDetails[]) {}

  readonly containers: ContainerClient = {
    list: async () => this.containers_.map((c) => ({id: c.id, names: [c.name], image: c.image, imageId: c.imageId, state: c.state, status: c.state, labels: c.labels})),
    inspect: async (id) => {
      const c = this.containers_.find((x) => x.id === id || x.name === id)
      if (!c) throw Object.assign(new Error('no such container'), {statusCode: 404})
      return c
    },
    pause: async (id) => (this.calls.push(`pause ${id}`), 'done'),
    unpause: async (id) => (this.calls.push(`unpause ${id}`), 'done'),
    stop: async (id) => (this.calls.push(`stop ${id}`), 'done'),
    start: async (id) => (this.calls.push(`start ${id}`), 'done'),
    top: async () => ({titles: ['PID', 'CMD'], processes: [['1', 'sleep']]}),
    diff: async () => [{path: '/tmp/x', kind: 'added'}],
    export: async () => this.exportTar(),
    logs: async () => Readable.from([]),
    stats: async () => ({}),
    getArchive: async () => Readable.from([Buffer.alloc(1024)]),
    commit: async (id) => (this.calls.push(`commit ${id}`), 'sha256:' + 'c'.repeat(64)),
  }

  readonly networks: NetworkClient = {
    disconnect: async (n, id) => (this.calls.push(`disconnect ${n} ${id}`), 'done'),
    connect: async (n, id) => (this.calls.push(`connect ${n} ${id}`), 'done'),
  }

  readonly images: ImageClient = {
    inspect: async (ref) => ({id: ref, repoTags: [], labels: {}, created: new Date().toISOString(), size: 0, user: ''}),
    list: async () => [],
    save: async () => this.saveTar(),
    remove: async () => 'done',
    prune: async () => ({deleted: 0, spaceReclaimed: 0}),
  }

  readonly swarm: SwarmClient = {
    state: async () => ({localNodeState: 'inactive', controlAvailable: false}),
    inspectService: async (name) => {
      throw Object.assign(new Error(`service ${name} not found`), {statusCode: 404})
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
