import {AbortError} from '../../errors.js'
import {dockerStatus} from '../errors.js'
import type {SwarmClient, SwarmNode, SwarmNodeState, SwarmService, SwarmTask} from '../types.js'
import {notManager, type Caller} from './caller.js'

type RawService = {
  ID: string
  Version?: {Index?: number}
  CreatedAt?: string
  UpdatedAt?: string
  Spec?: {
    Name?: string
    Labels?: Record<string, string>
    TaskTemplate?: {ContainerSpec?: {Image?: string}}
    Mode?: {Replicated?: {Replicas?: number}; Global?: object}
  }
}
type RawTask = {
  ID: string
  ServiceID: string
  Slot?: number
  NodeID?: string
  DesiredState?: string
  CreatedAt?: string
  Status?: {State?: string; Message?: string; Err?: string; ContainerStatus?: {ContainerID?: string}}
  Spec?: {ContainerSpec?: {Image?: string}}
}
type RawNode = {
  ID: string
  Description?: {Hostname?: string; Engine?: {EngineVersion?: string}}
  Spec?: {Role?: string; Availability?: string}
  Status?: {State?: string; Addr?: string}
}

export function toSwarmService(r: RawService): SwarmService {
  const mode = r.Spec?.Mode?.Replicated
    ? 'replicated'
    : r.Spec?.Mode?.Global
      ? 'global'
      : (Object.keys(r.Spec?.Mode ?? {})[0]?.toLowerCase() ?? 'replicated')
  const replicas = r.Spec?.Mode?.Replicated?.Replicas
  return {
    id: r.ID,
    name: r.Spec?.Name ?? r.ID,
    version: r.Version?.Index ?? 0,
    labels: r.Spec?.Labels ?? {},
    image: r.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '',
    mode,
    ...(replicas === undefined ? {} : {replicas}),
    spec: r.Spec ?? {},
    ...(r.CreatedAt ? {createdAt: r.CreatedAt} : {}),
    ...(r.UpdatedAt ? {updatedAt: r.UpdatedAt} : {}),
  }
}

function toSwarmTask(t: RawTask): SwarmTask {
  const containerId = t.Status?.ContainerStatus?.ContainerID
  const message = t.Status?.Err || t.Status?.Message
  return {
    id: t.ID,
    serviceId: t.ServiceID,
    ...(t.Slot === undefined ? {} : {slot: t.Slot}),
    ...(t.NodeID ? {nodeId: t.NodeID} : {}),
    desiredState: t.DesiredState ?? '',
    state: t.Status?.State ?? 'unknown',
    ...(message ? {message} : {}),
    ...(containerId ? {containerId} : {}),
    image: t.Spec?.ContainerSpec?.Image ?? '',
    ...(t.CreatedAt ? {createdAt: t.CreatedAt} : {}),
  }
}

export class DockerodeSwarm implements SwarmClient {
  constructor(private readonly c: Caller) {}

  async state(): Promise<SwarmNodeState> {
    const i = (await this.c.call('read swarm state', () => this.c.docker.info())) as {
      Swarm?: {
        NodeID?: string
        NodeAddr?: string
        LocalNodeState?: string
        ControlAvailable?: boolean
        Cluster?: {ID?: string} | null
      }
    }
    const s = i.Swarm ?? {}
    return {
      localNodeState: s.LocalNodeState || 'inactive',
      ...(s.NodeID ? {nodeId: s.NodeID} : {}),
      ...(s.NodeAddr ? {nodeAddr: s.NodeAddr} : {}),
      controlAvailable: Boolean(s.ControlAvailable),
      ...(s.Cluster?.ID ? {clusterId: s.Cluster.ID} : {}),
    }
  }

  async inspectService(nameOrId: string): Promise<SwarmService> {
    try {
      return toSwarmService(
        await this.c.call(
          `inspect service ${nameOrId}`,
          () => this.c.docker.getService(nameOrId).inspect() as Promise<RawService>,
        ),
      )
    } catch (error) {
      const status = dockerStatus((error as {cause?: unknown}).cause)
      if (status === 503 || status === 406) {
        throw new AbortError(`${this.c.endpoint} is not a swarm manager: cannot look up service "${nameOrId}"`, {
          exit: 'NOT_FOUND',
          hint: 'Point --host (or --context) at a manager node of the swarm.',
          cause: error,
        })
      }
      throw error
    }
  }

  async services(filters?: Record<string, string[]>): Promise<SwarmService[]> {
    const rows = await this.c.call(
      'list swarm services',
      () => this.c.docker.listServices(filters ? {filters: filters as unknown as string} : {}) as Promise<RawService[]>,
      notManager,
    )
    return rows.map(toSwarmService)
  }

  async tasks(filters?: Record<string, string[]>): Promise<SwarmTask[]> {
    const rows = await this.c.call(
      'list swarm tasks',
      () => this.c.docker.listTasks(filters ? {filters: filters as unknown as string} : {}) as Promise<RawTask[]>,
      notManager,
    )
    return rows.map(toSwarmTask)
  }

  async nodes(): Promise<SwarmNode[]> {
    const rows = await this.c.call(
      'list swarm nodes',
      () => this.c.docker.listNodes() as Promise<RawNode[]>,
      notManager,
    )
    return rows.map((n) => ({
      id: n.ID,
      hostname: n.Description?.Hostname ?? '',
      role: n.Spec?.Role ?? '',
      availability: n.Spec?.Availability ?? '',
      state: n.Status?.State ?? '',
      ...(n.Status?.Addr ? {addr: n.Status.Addr} : {}),
      ...(n.Description?.Engine?.EngineVersion ? {engineVersion: n.Description.Engine.EngineVersion} : {}),
    }))
  }
}
