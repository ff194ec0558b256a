import Docker from 'dockerode'
import {createHash} from 'node:crypto'
import type {Readable} from 'node:stream'

import type {Logger} from '../util/logger.js'
import {defaultEndpoint, type EngineEndpoint} from './engine-config.js'
import {AbortError} from '../errors.js'
import {dockerMessage, dockerStatus, engineError} from './errors.js'
import {SshConnection} from './ssh.js'
import {isEvidenceImage, LABEL} from './labels.js'
import type {
  CommitConfig,
  ContainerClient,
  ContainerDetails,
  ContainerSummary,
  EndpointRecord,
  Engine,
  EngineEventsOptions,
  EngineKind,
  IdempotentOutcome,
  ImageClient,
  InspectReader,
  ImageInfo,
  NetworkClient,
  NetworkSummary,
  SwarmClient,
  SwarmNode,
  SwarmNodeState,
  SwarmObject,
  SwarmService,
  SwarmTask,
  VolumeClient,
  VolumeSummary,
} from './types.js'

const PING_TIMEOUT_MS = 5000

/** Runs one engine call: logs before and after, maps failures to IrErrors naming the call. */
class Caller {
  constructor(
    readonly docker: Docker,
    readonly endpoint: string,
    private readonly log: Logger,
  ) {}

  async call<T>(doing: string, fn: () => Promise<T>, idempotent?: (err: unknown) => T | undefined): Promise<T> {
    this.log.debug({doing}, 'engine call')
    try {
      const out = await fn()
      this.log.debug({doing}, 'engine call done')
      return out
    } catch (error) {
      const tolerated = idempotent?.(error)
      if (tolerated !== undefined) {
        this.log.debug(
          {doing, status: dockerStatus(error), message: dockerMessage(error)},
          'engine call: already in that state',
        )
        return tolerated
      }
      this.log.debug({doing, err: dockerMessage(error)}, 'engine call failed')
      throw engineError(error, this.endpoint, doing)
    }
  }
}

function already(statusCodes: number[], pattern?: RegExp): (err: unknown) => IdempotentOutcome | undefined {
  return (err) => {
    const status = dockerStatus(err)
    if (status === undefined) return undefined
    if (statusCodes.includes(status) && (!pattern || pattern.test(dockerMessage(err)))) return 'already'
    return undefined
  }
}

export function toContainerDetails(raw: Docker.ContainerInspectInfo): ContainerDetails {
  const networks = raw.NetworkSettings?.Networks ?? {}
  const shortId = raw.Id.slice(0, 12)
  const endpoints: EndpointRecord[] = Object.entries(networks).map(([networkName, ep]) => {
    const ipam = (ep.IPAMConfig ?? {}) as {IPv4Address?: string; IPv6Address?: string}
    const staticIp = Boolean(ipam.IPv4Address || ipam.IPv6Address)
    return {
      networkId: ep.NetworkID,
      networkName,
      // The engine adds the short id as an alias by itself; do not record it as the user's.
      aliases: ((ep.Aliases ?? []) as string[]).filter((a: string) => a !== shortId && a !== raw.Id),
      ...(ipam.IPv4Address ? {ipv4Address: ipam.IPv4Address} : {}),
      ...(ipam.IPv6Address ? {ipv6Address: ipam.IPv6Address} : {}),
      staticIp,
      links: ep.Links ?? [],
      ...(ep.MacAddress ? {macAddress: ep.MacAddress} : {}),
      ...(ep.IPAddress ? {ipAddress: ep.IPAddress} : {}),
      ...((ep as {DriverOpts?: Record<string, string> | null}).DriverOpts
        ? {driverOpts: (ep as {DriverOpts?: Record<string, string>}).DriverOpts}
        : {}),
    }
  })
  return {
    id: raw.Id,
    name: raw.Name.replace(/^\//, ''),
    image: raw.Config?.Image ?? '',
    imageId: raw.Image,
    state: raw.State?.Status ?? 'unknown',
    pid: raw.State?.Pid ?? 0,
    ...(raw.State?.StartedAt ? {startedAt: raw.State.StartedAt} : {}),
    networkMode: raw.HostConfig?.NetworkMode ?? 'default',
    endpoints,
    mounts: (raw.Mounts ?? []).map((m) => ({
      type: m.Type ?? 'bind',
      source: m.Source,
      destination: m.Destination,
      ...(m.Name ? {name: m.Name} : {}),
      rw: Boolean(m.RW),
    })),
    labels: raw.Config?.Labels ?? {},
    logDriver: raw.HostConfig?.LogConfig?.Type ?? 'json-file',
    raw: raw as unknown as Record<string, unknown>,
  }
}

class DockerodeContainers implements ContainerClient {
  constructor(private readonly c: Caller) {}

  async list(opts: {all?: boolean; filters?: Record<string, string[]>} = {}): Promise<ContainerSummary[]> {
    const rows = await this.c.call('list containers', () =>
      this.c.docker.listContainers({all: opts.all ?? true, ...(opts.filters ? {filters: opts.filters} : {})}),
    )
    return rows.map((r) => ({
      id: r.Id,
      names: (r.Names ?? []).map((n) => n.replace(/^\//, '')),
      image: r.Image,
      imageId: r.ImageID,
      state: r.State,
      status: r.Status,
      labels: r.Labels ?? {},
    }))
  }

  async inspect(id: string): Promise<ContainerDetails> {
    const raw = await this.c.call(`inspect container ${id}`, () => this.c.docker.getContainer(id).inspect())
    return toContainerDetails(raw)
  }

  pause(id: string): Promise<IdempotentOutcome> {
    return this.c.call(
      `pause container ${id}`,
      async () => {
        await this.c.docker.getContainer(id).pause()
        return 'done' as const
      },
      already([409], /already paused/i),
    )
  }

  unpause(id: string): Promise<IdempotentOutcome> {
    return this.c.call(
      `unpause container ${id}`,
      async () => {
        await this.c.docker.getContainer(id).unpause()
        return 'done' as const
      },
      already([409], /not paused/i),
    )
  }

  stop(id: string, timeoutSeconds = 10): Promise<IdempotentOutcome> {
    return this.c.call(
      `stop container ${id}`,
      async () => {
        await this.c.docker.getContainer(id).stop({t: timeoutSeconds})
        return 'done' as const
      },
      already([304]),
    )
  }

  start(id: string): Promise<IdempotentOutcome> {
    return this.c.call(
      `start container ${id}`,
      async () => {
        await this.c.docker.getContainer(id).start()
        return 'done' as const
      },
      already([304]),
    )
  }

  async top(id: string, psArgs = '-ef'): Promise<{titles: string[]; processes: string[][]}> {
    const out = (await this.c.call(`list processes of ${id} (ps ${psArgs})`, () =>
      this.c.docker.getContainer(id).top({ps_args: psArgs}),
    )) as {Titles?: string[]; Processes?: string[][]}
    return {titles: out.Titles ?? [], processes: out.Processes ?? []}
  }

  async diff(id: string): Promise<Array<{path: string; kind: 'changed' | 'added' | 'deleted'}>> {
    const rows = (await this.c.call(`diff container ${id}`, () => this.c.docker.getContainer(id).changes())) as Array<{
      Path: string
      Kind: number
    }> | null
    const kinds = ['changed', 'added', 'deleted'] as const
    return (rows ?? []).map((r) => ({path: r.Path, kind: kinds[r.Kind] ?? 'changed'}))
  }

  export(id: string): Promise<Readable> {
    return this.c.call(`export container ${id}`, () => this.c.docker.getContainer(id).export() as Promise<Readable>)
  }

  logs(
    id: string,
    opts: {since?: number; until?: number; timestamps?: boolean; stdout?: boolean; stderr?: boolean},
  ): Promise<Readable> {
    // dockerode only streams logs with follow=true; dial the endpoint directly to stream a finite log.
    const query: Record<string, unknown> = {
      stdout: opts.stdout ?? true,
      stderr: opts.stderr ?? true,
      follow: false,
      timestamps: opts.timestamps ?? true,
    }
    if (opts.since !== undefined) query.since = opts.since
    if (opts.until !== undefined) query.until = opts.until
    return this.c.call(
      `read logs of ${id}`,
      () =>
        new Promise<Readable>((resolve, reject) => {
          this.c.docker.modem.dial(
            {
              path: `/containers/${encodeURIComponent(id)}/logs?`,
              method: 'GET',
              isStream: true,
              statusCodes: {200: true, 404: 'no such container', 500: 'server error', 501: 'not implemented'},
              options: query,
            },
            (err: unknown, stream: unknown) => (err ? reject(err) : resolve(stream as Readable)),
          )
        }),
    )
  }

  async stats(id: string): Promise<Record<string, unknown>> {
    return (await this.c.call(`sample stats of ${id}`, () =>
      this.c.docker.getContainer(id).stats({stream: false, 'one-shot': true} as {stream: false}),
    )) as unknown as Record<string, unknown>
  }

  getArchive(id: string, path: string): Promise<Readable> {
    return this.c.call(
      `read ${path} from ${id}`,
      () => this.c.docker.getContainer(id).getArchive({path}) as Promise<Readable>,
    )
  }

  async commit(
    id: string,
    opts: {
      repo: string
      tag: string
      labels: Record<string, string>
      pause: boolean
      comment?: string
      config?: CommitConfig
    },
  ): Promise<string> {
    const out = await this.c.call(
      `commit container ${id}`,
      () =>
        new Promise<{Id: string}>((resolve, reject) => {
          this.c.docker.modem.dial(
            {
              path: '/commit?',
              method: 'POST',
              statusCodes: {200: true, 201: true, 404: 'no such container', 500: 'server error'},
              options: {
                _query: {
                  container: id,
                  repo: opts.repo,
                  tag: opts.tag,
                  pause: opts.pause,
                  ...(opts.comment ? {comment: opts.comment} : {}),
                },
                _body: {...opts.config, Labels: {...opts.config?.Labels, ...opts.labels}},
              },
            },
            (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as {Id: string})),
          )
        }),
    )
    return out.Id
  }

  remove(id: string, opts: {force?: boolean; volumes?: boolean} = {}): Promise<IdempotentOutcome> {
    return this.c.call(
      `remove container ${id}`,
      async () => {
        await this.c.docker.getContainer(id).remove({force: opts.force ?? false, v: opts.volumes ?? false})
        return 'done' as const
      },
      already([404]),
    )
  }
}

class DockerodeNetworks implements NetworkClient {
  constructor(private readonly c: Caller) {}

  async list(opts: {filters?: Record<string, string[]>} = {}): Promise<NetworkSummary[]> {
    const rows = await this.c.call('list networks', () =>
      this.c.docker.listNetworks(opts.filters ? {filters: opts.filters} : {}),
    )
    return rows.map((n) => ({id: n.Id, name: n.Name, labels: n.Labels ?? {}}))
  }

  remove(id: string): Promise<IdempotentOutcome> {
    return this.c.call(
      `remove network ${id}`,
      async () => {
        await this.c.docker.getNetwork(id).remove()
        return 'done' as const
      },
      already([404]),
    )
  }

  disconnect(networkId: string, containerId: string): Promise<IdempotentOutcome> {
    return this.c.call(
      `disconnect ${containerId} from network ${networkId}`,
      async () => {
        await this.c.docker.getNetwork(networkId).disconnect({Container: containerId, Force: false})
        return 'done' as const
      },
      already([403, 404, 500], /is not connected/i),
    )
  }

  connect(
    networkId: string,
    containerId: string,
    ep: {
      aliases?: string[]
      ipv4Address?: string
      ipv6Address?: string
      links?: string[]
      driverOpts?: Record<string, string>
    },
  ): Promise<IdempotentOutcome> {
    const endpointConfig: Record<string, unknown> = {}
    if (ep.aliases?.length) endpointConfig.Aliases = ep.aliases
    if (ep.links?.length) endpointConfig.Links = ep.links
    if (ep.driverOpts && Object.keys(ep.driverOpts).length > 0) endpointConfig.DriverOpts = ep.driverOpts
    if (ep.ipv4Address || ep.ipv6Address) {
      endpointConfig.IPAMConfig = {
        ...(ep.ipv4Address ? {IPv4Address: ep.ipv4Address} : {}),
        ...(ep.ipv6Address ? {IPv6Address: ep.ipv6Address} : {}),
      }
    }
    return this.c.call(
      `connect ${containerId} to network ${networkId}`,
      async () => {
        await this.c.docker.getNetwork(networkId).connect({Container: containerId, EndpointConfig: endpointConfig})
        return 'done' as const
      },
      already([403, 409, 500], /already exists|already attached|already connected/i),
    )
  }
}

class DockerodeImages implements ImageClient {
  constructor(private readonly c: Caller) {}

  async inspect(ref: string): Promise<ImageInfo> {
    const raw = await this.c.call(`inspect image ${ref}`, () => this.c.docker.getImage(ref).inspect())
    return {
      id: raw.Id,
      repoTags: raw.RepoTags ?? [],
      labels: raw.Config?.Labels ?? {},
      created: raw.Created,
      size: raw.Size,
      user: raw.Config?.User ?? '',
      repoDigests: raw.RepoDigests ?? [],
    }
  }

  async list(
    opts: {filters?: Record<string, string[]>; all?: boolean} = {},
  ): Promise<Array<{id: string; repoTags: string[]; labels: Record<string, string>}>> {
    const rows = await this.c.call('list images', () =>
      this.c.docker.listImages({
        all: opts.all ?? false,
        ...(opts.filters ? {filters: opts.filters as unknown as string} : {}),
      }),
    )
    return rows.map((r) => ({id: r.Id, repoTags: r.RepoTags ?? [], labels: r.Labels ?? {}}))
  }

  save(ref: string): Promise<Readable> {
    return this.c.call(`save image ${ref}`, () => this.c.docker.getImage(ref).get() as Promise<Readable>)
  }

  remove(ref: string, opts: {force?: boolean} = {}): Promise<IdempotentOutcome> {
    return this.c.call(
      `remove image ${ref}`,
      async () => {
        // The one place ir removes images: an evidence image is never removed, whatever the caller asked.
        const info = await this.c.docker.getImage(ref).inspect()
        if (isEvidenceImage(info.Config?.Labels)) {
          throw new AbortError(`Refusing to remove ${ref}: it is an evidence image (label ${LABEL.evidence}=true)`, {
            exit: 'PRECONDITION',
          })
        }
        await this.c.docker.getImage(info.Id).remove({force: opts.force ?? false})
        return 'done' as const
      },
      already([404]),
    )
  }

  untag(ref: string): Promise<IdempotentOutcome> {
    return this.c.call(
      `untag image ${ref}`,
      async () => {
        const info = await this.c.docker.getImage(ref).inspect()
        if (isEvidenceImage(info.Config?.Labels)) {
          throw new AbortError(`Refusing to remove ${ref}: it is an evidence image (label ${LABEL.evidence}=true)`, {
            exit: 'PRECONDITION',
          })
        }
        // By name, the engine removes that reference and deletes the image only if nothing else holds it.
        await this.c.docker.getImage(ref).remove({force: false})
        return 'done' as const
      },
      already([404]),
    )
  }

  async prune(opts: {dangling: boolean}): Promise<{deleted: number; spaceReclaimed: number}> {
    // Label filters keep evidence out whatever the engine considers unused.
    const filters = {dangling: [String(opts.dangling)], 'label!': [`${LABEL.evidence}=true`]}
    const out = (await this.c.call('prune images', () =>
      this.c.docker.pruneImages({filters: filters as unknown as string}),
    )) as {ImagesDeleted?: unknown[] | null; SpaceReclaimed?: number}
    return {deleted: out.ImagesDeleted?.length ?? 0, spaceReclaimed: out.SpaceReclaimed ?? 0}
  }

  async importImage(tar: Readable, opts: {repo: string; tag: string; changes: string[]}): Promise<string> {
    const ref = `${opts.repo}:${opts.tag}`
    await this.c.call(`import image ${ref}`, async () => {
      // POST /images/create?fromSrc=- with the tar as body; `changes` is repeated in the query string.
      const progress = (await this.c.docker.importImage(tar, {
        repo: opts.repo,
        tag: opts.tag,
        changes: [...opts.changes],
      } as never)) as unknown as Readable
      // The answer is a JSON-lines progress stream: an {error} line is a failure even with HTTP 200.
      await new Promise<void>((resolve, reject) => {
        this.c.docker.modem.followProgress(
          progress,
          (err: Error | null, lines: Array<{error?: string; errorDetail?: {message?: string}}>) => {
            const failed = err ?? lines.find((l) => l.error)
            if (!failed) return resolve()
            reject(
              failed instanceof Error
                ? failed
                : new Error(failed.errorDetail?.message ?? failed.error ?? 'import failed'),
            )
          },
        )
      })
    })
    return (await this.inspect(ref)).id
  }
}

class DockerodeVolumes implements VolumeClient {
  constructor(private readonly c: Caller) {}

  async list(opts: {filters?: Record<string, string[]>} = {}): Promise<VolumeSummary[]> {
    const out = await this.c.call('list volumes', () =>
      this.c.docker.listVolumes(opts.filters ? {filters: opts.filters} : {}),
    )
    return (out.Volumes ?? []).map((v) => ({name: v.Name, labels: (v.Labels as Record<string, string> | null) ?? {}}))
  }

  remove(name: string): Promise<IdempotentOutcome> {
    return this.c.call(
      `remove volume ${name}`,
      async () => {
        await this.c.docker.getVolume(name).remove()
        return 'done' as const
      },
      already([404]),
    )
  }
}

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
    spec: (r.Spec ?? {}) as Record<string, unknown>,
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

/** 503 / 406: this engine is not a swarm manager (or not in a swarm). */
const notManager = (err: unknown): [] | undefined =>
  dockerStatus(err) === 503 || dockerStatus(err) === 406 ? [] : undefined

class DockerodeSwarm implements SwarmClient {
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
    const rows = (await this.c.call(
      'list swarm services',
      () => this.c.docker.listServices(filters ? {filters: filters as unknown as string} : {}) as Promise<RawService[]>,
      notManager,
    )) as RawService[]
    return rows.map(toSwarmService)
  }

  async tasks(filters?: Record<string, string[]>): Promise<SwarmTask[]> {
    const rows = (await this.c.call(
      'list swarm tasks',
      () => this.c.docker.listTasks(filters ? {filters: filters as unknown as string} : {}) as Promise<RawTask[]>,
      notManager,
    )) as RawTask[]
    return rows.map(toSwarmTask)
  }

  async nodes(): Promise<SwarmNode[]> {
    const rows = (await this.c.call(
      'list swarm nodes',
      () => this.c.docker.listNodes() as Promise<RawNode[]>,
      notManager,
    )) as RawNode[]
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

class DockerodeInspector implements InspectReader {
  constructor(private readonly c: Caller) {}

  async info(): Promise<Record<string, unknown>> {
    return (await this.c.call('read engine info', () => this.c.docker.info())) as Record<string, unknown>
  }

  async networks(): Promise<Array<Record<string, unknown>>> {
    return (await this.c.call('list networks', () => this.c.docker.listNetworks())) as unknown as Array<
      Record<string, unknown>
    >
  }

  async network(idOrName: string): Promise<Record<string, unknown> | undefined> {
    return this.c
      .call(
        `inspect network ${idOrName}`,
        () => this.c.docker.getNetwork(idOrName).inspect() as unknown as Promise<Record<string, unknown>>,
        (err) => (dockerStatus(err) === 404 ? ({} as Record<string, unknown>) : undefined),
      )
      .then((n) => (Object.keys(n).length === 0 ? undefined : n))
  }

  async swarm(): Promise<Record<string, unknown> | undefined> {
    const s = await this.c.call(
      'inspect the swarm',
      () => this.c.docker.swarmInspect() as Promise<Record<string, unknown>>,
      (err) => {
        const status = dockerStatus(err)
        return status === 503 || status === 406 ? ({} as Record<string, unknown>) : undefined
      },
    )
    return Object.keys(s).length === 0 ? undefined : s
  }

  async exec(id: string): Promise<{id: string; privileged: boolean; user: string} | undefined> {
    type ExecDoc = {ID?: string; Privileged?: boolean; ProcessConfig?: {user?: string; privileged?: boolean}}
    const e = await this.c.call<ExecDoc>(
      `inspect exec ${id.slice(0, 12)}`,
      () => this.c.docker.getExec(id).inspect() as unknown as Promise<ExecDoc>,
      (err) => (dockerStatus(err) === 404 ? {} : undefined),
    )
    if (!e.ID) return undefined
    return {
      id: e.ID,
      privileged: Boolean(e.Privileged ?? e.ProcessConfig?.privileged),
      user: e.ProcessConfig?.user ?? '',
    }
  }

  async image(ref: string): Promise<Record<string, unknown>> {
    return (await this.c.call(`inspect image ${ref}`, () =>
      this.c.docker.getImage(ref).inspect(),
    )) as unknown as Record<string, unknown>
  }
}

export class DockerodeEngine implements Engine {
  readonly endpoint: string
  readonly inspector: InspectReader
  readonly containers: ContainerClient
  readonly networks: NetworkClient
  readonly images: ImageClient
  readonly swarm: SwarmClient
  readonly volumes: VolumeClient
  private readonly caller: Caller

  /** The shared ssh connection of an ssh:// engine. */
  readonly ssh?: SshConnection
  private readonly pingTimeoutMs: number

  constructor(endpoint: EngineEndpoint, log: Logger) {
    let options = endpoint.options as Docker.DockerOptions
    if (endpoint.ssh) {
      // Plain HTTP over `docker system dial-stdio` sessions; the host name is never resolved (the agent dials).
      this.ssh = new SshConnection(endpoint.ssh, {log})
      options = {protocol: 'http', host: 'localhost', port: 80, agent: this.ssh.agent} as Docker.DockerOptions
    }
    const docker = new Docker(options)
    // The first call over ssh logs in (TCP, key exchange, authentication): ssh's own timeout bounds it.
    this.pingTimeoutMs = endpoint.ssh ? 35_000 : PING_TIMEOUT_MS
    this.endpoint = endpoint.display
    this.caller = new Caller(docker, endpoint.display, log)
    this.containers = new DockerodeContainers(this.caller)
    this.networks = new DockerodeNetworks(this.caller)
    this.images = new DockerodeImages(this.caller)
    this.swarm = new DockerodeSwarm(this.caller)
    this.volumes = new DockerodeVolumes(this.caller)
    this.inspector = new DockerodeInspector(this.caller)
  }

  async ping(): Promise<void> {
    await this.caller.call('ping the engine', async () => {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error('ping timed out'), {code: 'ETIMEDOUT'})),
          this.pingTimeoutMs,
        )
      })
      try {
        await Promise.race([this.caller.docker.ping(), timeout])
      } finally {
        clearTimeout(timer)
      }
    })
  }

  async info(): Promise<{id: string; name: string; serverVersion: string; apiVersion?: string; kind?: EngineKind}> {
    const i = (await this.caller.call('read engine info', () => this.caller.docker.info())) as {
      ID: string
      Name: string
      ServerVersion: string
      DockerRootDir?: string
      BuildahVersion?: string
    }
    // Podman answers /info with a new random ID on every call: identify it by host name and storage root instead.
    if (typeof i.BuildahVersion === 'string') {
      const id = `podman-${createHash('sha256')
        .update(`${i.Name}\0${i.DockerRootDir ?? ''}`)
        .digest('hex')
        .slice(0, 32)}`
      return {id, name: i.Name, serverVersion: i.ServerVersion, kind: 'podman'}
    }
    return {id: i.ID, name: i.Name, serverVersion: i.ServerVersion, kind: 'docker'}
  }

  async swarmObjects(): Promise<{secrets: SwarmObject[]; configs: SwarmObject[]}> {
    type Spec = {ID: string; Spec?: {Name?: string; Labels?: Record<string, string>}}
    const toObj = (s: Spec): SwarmObject => ({id: s.ID, name: s.Spec?.Name ?? s.ID, labels: s.Spec?.Labels ?? {}})
    const secrets = (await this.caller.call(
      'list swarm secrets',
      () => this.caller.docker.listSecrets() as Promise<Spec[]>,
      notManager,
    )) as Spec[]
    const configs = (await this.caller.call(
      'list swarm configs',
      () => this.caller.docker.listConfigs() as Promise<Spec[]>,
      notManager,
    )) as Spec[]
    return {secrets: secrets.map(toObj), configs: configs.map(toObj)}
  }

  events(opts: EngineEventsOptions): Promise<Readable> {
    return this.caller.call(
      'read engine events',
      () =>
        this.caller.docker.getEvents({
          since: opts.since,
          until: opts.until,
          ...(opts.filters ? {filters: opts.filters as unknown as string} : {}),
        }) as Promise<Readable>,
    )
  }
}

/** Connect to the engine the docker CLI would use (DOCKER_HOST, DOCKER_CONTEXT, the current context, the default socket) and check it answers. */
export async function connectEngine(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const engine = new DockerodeEngine((await defaultEndpoint(env)).endpoint, log)
  await engine.ping()
  return engine
}
