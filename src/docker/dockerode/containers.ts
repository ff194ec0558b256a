import type Docker from 'dockerode'
import type {Readable} from 'node:stream'

import type {
  CommitConfig,
  ContainerClient,
  ContainerDetails,
  ContainerSummary,
  EndpointRecord,
  IdempotentOutcome,
} from '../types.js'
import {already, type Caller} from './caller.js'

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
      links: (ep.Links ?? []) as string[],
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

export class DockerodeContainers implements ContainerClient {
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
            (err: Error | null, stream: unknown) => (err ? reject(err) : resolve(stream as Readable)),
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
            (err: Error | null, data: unknown) => (err ? reject(err) : resolve(data as {Id: string})),
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
