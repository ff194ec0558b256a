import {randomBytes} from 'node:crypto'

import Docker from 'dockerode'
import {execa} from 'execa'

/**
 * Test-side access to the real engine. Everything created here carries the labels ir.test=true and
 * ir.test.run=<run id>, and `cleanup()` removes exactly that: tests never prune what they did not create.
 */
export const TEST_IMAGE = process.env.IR_TEST_IMAGE ?? 'ir-test/busybox:latest'
export const OWN_ENGINE = process.env.IR_TEST_OWN_ENGINE === '1'

export function dockerClient(): Docker {
  const host = process.env.DOCKER_HOST
  if (host?.startsWith('unix://')) return new Docker({socketPath: host.slice(7)})
  return new Docker()
}

export class TestDocker {
  readonly docker = dockerClient()
  readonly runId = randomBytes(4).toString('hex')
  readonly labels: Record<string, string>
  private readonly extraImages = new Set<string>()

  constructor(readonly prefix = 'irt') {
    this.labels = {'ir.test': 'true', 'ir.test.run': this.runId}
  }

  name(what: string): string {
    return `${this.prefix}-${this.runId}-${what}`
  }

  async network(what: string, opts: {subnet?: string} = {}): Promise<{id: string; name: string}> {
    const name = this.name(what)
    const net = await this.docker.createNetwork({
      Name: name,
      Labels: this.labels,
      ...(opts.subnet ? {IPAM: {Driver: 'default', Config: [{Subnet: opts.subnet}]}} : {}),
    })
    return {id: net.id, name}
  }

  async run(
    what: string,
    opts: {
      cmd: string[]
      network?: string
      aliases?: string[]
      ip?: string
      env?: string[]
      hostConfig?: Docker.HostConfig
      user?: string
      labels?: Record<string, string>
      image?: string
      healthcheck?: Docker.ContainerCreateOptions['Healthcheck']
    },
  ): Promise<{id: string; name: string}> {
    const name = this.name(what)
    const c = await this.docker.createContainer({
      name,
      ...(opts.healthcheck ? {Healthcheck: opts.healthcheck} : {}),
      Image: opts.image ?? TEST_IMAGE,
      Cmd: opts.cmd,
      Env: opts.env ?? [],
      Labels: {...this.labels, ...opts.labels},
      ...(opts.user ? {User: opts.user} : {}),
      HostConfig: {...(opts.network ? {NetworkMode: opts.network} : {}), ...opts.hostConfig},
      ...(opts.network && opts.network !== 'host' && !opts.network.startsWith('container:')
        ? {
            NetworkingConfig: {
              EndpointsConfig: {
                [opts.network]: {
                  ...(opts.aliases ? {Aliases: opts.aliases} : {}),
                  ...(opts.ip ? {IPAMConfig: {IPv4Address: opts.ip}} : {}),
                },
              },
            },
          }
        : {}),
    })
    await c.start()
    return {id: c.id, name}
  }

  /** An HTTP server (busybox httpd) serving a page with the given body. */
  httpServer(
    what: string,
    body: string,
    network: string,
    aliases: string[],
    extra: {env?: string[]; ip?: string} = {},
  ): Promise<{id: string; name: string}> {
    return this.run(what, {
      cmd: ['sh', '-c', `echo ${body} > /www/index.html && exec httpd -f -p 80 -h /www`],
      network,
      aliases,
      ...extra,
    })
  }

  async inspect(id: string): Promise<Docker.ContainerInspectInfo> {
    return this.docker.getContainer(id).inspect()
  }

  /** Fetch http://ip/ from inside a client container, bounded by nc's and our own timeouts. */
  async fetch(client: string, ip: string): Promise<{ok: boolean; body: string}> {
    const r = await execa(
      'docker',
      ['exec', client, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} 80`],
      {reject: false, timeout: 15_000},
    )
    return {ok: r.exitCode === 0 && /200 OK/.test(r.stdout), body: r.stdout}
  }

  trackImage(ref: string): void {
    this.extraImages.add(ref)
  }

  async cleanup(): Promise<void> {
    const filters = {label: [`ir.test.run=${this.runId}`]}
    const containers = await this.docker.listContainers({all: true, filters})
    await Promise.all(
      containers.map(async (c) => {
        const ct = this.docker.getContainer(c.Id)
        if (c.State === 'paused') await ct.unpause().catch(() => undefined)
        await ct.remove({force: true, v: true}).catch(() => undefined)
      }),
    )
    const networks = await this.docker.listNetworks({filters})
    await Promise.all(
      networks.map((n) =>
        this.docker
          .getNetwork(n.Id)
          .remove()
          .catch(() => undefined),
      ),
    )
    const images = await this.docker.listImages({filters})
    for (const ref of [...images.map((i) => i.Id), ...this.extraImages]) {
      await this.docker
        .getImage(ref)
        .remove({force: true})
        .catch(() => undefined)
    }
    const volumes = await this.docker.listVolumes({filters})
    await Promise.all(
      (volumes.Volumes ?? []).map((v) =>
        this.docker
          .getVolume(v.Name)
          .remove()
          .catch(() => undefined),
      ),
    )
  }
}

/**
 * GET a URL published on the engine's host (e.g. http://127.0.0.1:<port>/). The sid test engines run in
 * their own network namespace (IR_ENGINE_NETNS, set by scripts/engines): their published ports are on that
 * namespace's loopback, so the request is made from inside it.
 */
export async function hostFetch(url: string, timeoutMs = 10_000): Promise<{status: number; text: string}> {
  const ns = process.env.IR_ENGINE_NETNS
  if (!ns) {
    const r = await fetch(url, {signal: AbortSignal.timeout(timeoutMs)})
    return {status: r.status, text: await r.text()}
  }
  const script =
    'fetch(process.argv[1],{signal:AbortSignal.timeout(Number(process.argv[2]))}).then(async(r)=>{process.stdout.write(JSON.stringify({status:r.status,text:await r.text()}))},(e)=>{console.error(String(e.cause??e));process.exit(1)})'
  const r = await execa('nsenter', [`--net=/run/netns/${ns}`, process.execPath, '-e', script, url, String(timeoutMs)], {
    reject: false,
    timeout: timeoutMs + 5_000,
  })
  if (r.exitCode !== 0) throw new Error(`fetch ${url} in network namespace ${ns} failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as {status: number; text: string}
}
