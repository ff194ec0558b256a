import type {Readable} from 'node:stream'

/**
 * The small interfaces the services use. dockerode sits behind them (src/docker/dockerode/*.ts, one file per resource);
 * unit tests use fakes of these, integration tests the real engine.
 */

export interface ContainerSummary {
  id: string
  names: string[]
  image: string
  imageId: string
  state: string
  status: string
  labels: Record<string, string>
}

export interface EndpointRecord {
  networkId: string
  networkName: string
  aliases: string[]
  ipv4Address?: string
  ipv6Address?: string
  /** true when the address was configured (IPAMConfig), false when the engine chose it. */
  staticIp: boolean
  links: string[]
  macAddress?: string
  ipAddress?: string
  driverOpts?: Record<string, string>
}

/** The parts of a container inspect the services use, plus the raw document for evidence. */
export interface ContainerDetails {
  id: string
  name: string
  image: string
  imageId: string
  state: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead' | string
  pid: number
  startedAt?: string
  networkMode: string
  endpoints: EndpointRecord[]
  mounts: Array<{type: string; source: string; destination: string; name?: string; rw: boolean}>
  labels: Record<string, string>
  logDriver: string
  raw: Record<string, unknown>
}

/** 'already': the container, network or image was in the asked state (paused, disconnected, gone) before the call. */
export type IdempotentOutcome = 'done' | 'already'

export interface ContainerClient {
  list(opts?: {all?: boolean; filters?: Record<string, string[]>}): Promise<ContainerSummary[]>
  inspect(id: string): Promise<ContainerDetails>
  pause(id: string): Promise<IdempotentOutcome>
  unpause(id: string): Promise<IdempotentOutcome>
  stop(id: string, timeoutSeconds?: number): Promise<IdempotentOutcome>
  start(id: string): Promise<IdempotentOutcome>
  /** Processes of a running container, as the engine host's `ps` lists them (psArgs default `-ef`). */
  top(id: string, psArgs?: string): Promise<{titles: string[]; processes: string[][]}>
  diff(id: string): Promise<Array<{path: string; kind: 'changed' | 'added' | 'deleted'}>>
  export(id: string): Promise<Readable>
  logs(
    id: string,
    opts: {since?: number; until?: number; timestamps?: boolean; stdout?: boolean; stderr?: boolean},
  ): Promise<Readable>
  stats(id: string): Promise<Record<string, unknown>>
  /** A tar of a path inside the container (volumes mounted there included), like `docker cp`. */
  getArchive(id: string, path: string): Promise<Readable>
  commit(
    id: string,
    opts: {
      repo: string
      tag: string
      labels: Record<string, string>
      pause: boolean
      comment?: string
      config?: CommitConfig
    },
  ): Promise<string>
  /** Remove a container (force: even a running one; volumes: with its anonymous volumes). Already gone: 'already'. */
  remove(id: string, opts?: {force?: boolean; volumes?: boolean}): Promise<IdempotentOutcome>
}

export interface NetworkSummary {
  id: string
  name: string
  labels: Record<string, string>
}

export interface NetworkClient {
  list(opts?: {filters?: Record<string, string[]>}): Promise<NetworkSummary[]>
  /** Remove a network (fails while containers are attached). Already gone: 'already'. */
  remove(id: string): Promise<IdempotentOutcome>
  disconnect(networkId: string, containerId: string): Promise<IdempotentOutcome>
  connect(
    networkId: string,
    containerId: string,
    endpoint: {
      aliases?: string[]
      ipv4Address?: string
      ipv6Address?: string
      /** The endpoint's MAC address (Docker API 1.44+, Podman): peers' neighbour caches stay valid. */
      macAddress?: string
      links?: string[]
      driverOpts?: Record<string, string>
    },
  ): Promise<IdempotentOutcome>
}

export interface VolumeSummary {
  name: string
  labels: Record<string, string>
}

export interface VolumeClient {
  list(opts?: {filters?: Record<string, string[]>}): Promise<VolumeSummary[]>
  /** Remove a volume (fails while a container uses it). Already gone: 'already'. */
  remove(name: string): Promise<IdempotentOutcome>
}

export interface ImageInfo {
  id: string
  repoTags: string[]
  labels: Record<string, string>
  created: string
  size: number
  user: string
  repoDigests: string[]
}

export interface ImageClient {
  inspect(ref: string): Promise<ImageInfo>
  list(opts?: {
    filters?: Record<string, string[]>
    all?: boolean
  }): Promise<Array<{id: string; repoTags: string[]; labels: Record<string, string>}>>
  save(ref: string): Promise<Readable>
  /** Never removes an image labelled ir.evidence=true (refuses with exit 11). */
  remove(ref: string, opts?: {force?: boolean}): Promise<IdempotentOutcome>
  /**
   * Remove one name (like `docker rmi name:tag`): the image itself is deleted only when nothing else holds
   * it (another tag, or an image built or committed from it, such as an evidence snapshot). Refuses an
   * evidence image, like remove(). Already gone: 'already'.
   */
  untag(ref: string): Promise<IdempotentOutcome>
  /** Prune unused (or only dangling) images, always excluding evidence images by label. */
  prune(opts: {dangling: boolean}): Promise<{deleted: number; spaceReclaimed: number}>
  /**
   * Import a root filesystem tar as the image repo:tag (like `docker import`), applying Dockerfile-style
   * `changes` (CMD, ENV, LABEL, ...). Returns the new image id.
   */
  importImage(tar: Readable, opts: {repo: string; tag: string; changes: string[]}): Promise<string>
}

export interface EngineEventsOptions {
  since: number
  until: number
  filters?: Record<string, string[]>
}

/**
 * Raw read-only documents for the hardening audit: every method is a GET (/info, /networks, /networks/{id},
 * /swarm, /exec/{id}/json, /images/{id}/json) and none makes the engine emit an event.
 */
export interface InspectReader {
  info(): Promise<Record<string, unknown>>
  networks(): Promise<Array<Record<string, unknown>>>
  network(idOrName: string): Promise<Record<string, unknown> | undefined>
  /** GET /swarm; undefined off a manager. */
  swarm(): Promise<Record<string, unknown> | undefined>
  /** An exec instance; undefined when the engine no longer knows it. */
  exec(id: string): Promise<{id: string; privileged: boolean; user: string} | undefined>
  image(ref: string): Promise<Record<string, unknown>>
}

export interface Engine {
  /** e.g. unix:///var/run/docker.sock */
  readonly endpoint: string
  /** Raw read-only documents for the audit (absent on fakes that do not model them). */
  readonly inspector?: InspectReader
  readonly containers: ContainerClient
  readonly networks: NetworkClient
  readonly images: ImageClient
  readonly swarm: SwarmClient
  readonly volumes: VolumeClient
  ping(): Promise<void>
  /** id: a stable engine identity (Podman's /info ID changes on every call: derived there from host name and storage root). */
  info(): Promise<{id: string; name: string; serverVersion: string; apiVersion?: string; kind?: EngineKind}>
  events(opts: EngineEventsOptions): Promise<Readable>
  /** Swarm secrets and configs by name (metadata only); empty when the engine is not a swarm manager. */
  swarmObjects(): Promise<{secrets: SwarmObject[]; configs: SwarmObject[]}>
}

/** Docker, or Podman through its Docker-compatible API (which differs in places: see services/containment-verify.ts). */
export type EngineKind = 'docker' | 'podman'

export interface SwarmObject {
  id: string
  name: string
  labels: Record<string, string>
}

/** This engine's place in a swarm (from `docker info`). */
export interface SwarmNodeState {
  /** inactive | pending | active | error | locked */
  localNodeState: string
  nodeId?: string
  nodeAddr?: string
  /** true on a manager: it can list services, tasks and nodes. */
  controlAvailable: boolean
  clusterId?: string
}

export interface SwarmService {
  id: string
  name: string
  version: number
  labels: Record<string, string>
  image: string
  /** replicated (with replicas) or global. */
  mode: 'replicated' | 'global' | string
  replicas?: number
  /** The full spec as the engine returns it, to record and to restore (secret values are redacted when stored). */
  spec: Record<string, unknown>
  createdAt?: string
  updatedAt?: string
}

export interface SwarmTask {
  id: string
  serviceId: string
  slot?: number
  nodeId?: string
  desiredState: string
  state: string
  message?: string
  containerId?: string
  image: string
  createdAt?: string
}

export interface SwarmNode {
  id: string
  hostname: string
  role: string
  availability: string
  state: string
  addr?: string
  engineVersion?: string
}

/**
 * Swarm orchestration, read-only: what runs where. Lists are empty off a swarm manager; state() answers anywhere
 * (inactive outside a swarm; a worker is active with controlAvailable false).
 */
export interface SwarmClient {
  state(): Promise<SwarmNodeState>
  /** A service by exact name or id; NOT_FOUND when there is none. */
  inspectService(nameOrId: string): Promise<SwarmService>
  services(filters?: Record<string, string[]>): Promise<SwarmService[]>
  /** Tasks, e.g. filters {service: [name], 'desired-state': ['running']}. */
  tasks(filters?: Record<string, string[]>): Promise<SwarmTask[]>
  nodes(): Promise<SwarmNode[]>
}

/** The parts of a container's config a commit overrides (secret values redacted; see redactedConfig). */
export interface CommitConfig {
  Env?: string[]
  Cmd?: string[]
  Entrypoint?: string[]
  Healthcheck?: {Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number}
  /** Container labels whose values were redacted (merged under the evidence labels). */
  Labels?: Record<string, string>
}
