import type {IdempotentOutcome, NetworkClient, NetworkSummary} from '../types.js'
import {already, type Caller} from './caller.js'

export class DockerodeNetworks implements NetworkClient {
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
      /** The endpoint's MAC address (Docker API 1.44+, Podman): peers' neighbour caches stay valid. */
      macAddress?: string
      links?: string[]
      driverOpts?: Record<string, string>
    },
  ): Promise<IdempotentOutcome> {
    const endpointConfig: Record<string, unknown> = {}
    if (ep.aliases?.length) endpointConfig.Aliases = ep.aliases
    if (ep.links?.length) endpointConfig.Links = ep.links
    if (ep.macAddress) endpointConfig.MacAddress = ep.macAddress
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
