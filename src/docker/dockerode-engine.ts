import Docker from 'dockerode'
import {createHash} from 'node:crypto'
import type {Readable} from 'node:stream'

import type {Logger} from '../util/logger.js'
import {defaultEndpoint, type EngineEndpoint} from './engine-config.js'
import {SshConnection} from './ssh.js'
import type {
  ContainerClient,
  Engine,
  EngineEventsOptions,
  EngineKind,
  ImageClient,
  InspectReader,
  NetworkClient,
  SwarmClient,
  SwarmObject,
  VolumeClient,
} from './types.js'
import {Caller, notManager} from './dockerode/caller.js'
import {DockerodeContainers} from './dockerode/containers.js'
import {DockerodeImages} from './dockerode/images.js'
import {DockerodeInspector} from './dockerode/inspector.js'
import {DockerodeNetworks} from './dockerode/networks.js'
import {DockerodeSwarm} from './dockerode/swarm.js'
import {DockerodeVolumes} from './dockerode/volumes.js'

// The mappers of raw engine documents, for callers (and the fake engine) that build details themselves.
export {toContainerDetails} from './dockerode/containers.js'
export {toSwarmService} from './dockerode/swarm.js'

/**
 * The dockerode engine: one client per resource (src/docker/dockerode/*.ts), all sharing one Caller
 * (log before and after, map failures through engineError). What is left here is the engine itself:
 * the connection (socket, tcp, ssh), ping, info, swarm secrets/configs and the events stream.
 */

const PING_TIMEOUT_MS = 5000

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
    const secrets = await this.caller.call(
      'list swarm secrets',
      () => this.caller.docker.listSecrets() as Promise<Spec[]>,
      notManager,
    )
    const configs = await this.caller.call(
      'list swarm configs',
      () => this.caller.docker.listConfigs() as Promise<Spec[]>,
      notManager,
    )
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
