import {type ChildProcess, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {access, mkdir, mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import Docker from 'dockerode'
import {execa} from 'execa'

/**
 * Extra Docker engines on this machine, for multi-host tests: each a separate `dockerd` (with its
 * own managed containerd) with its own socket (/run/ir-test-<id>/docker-N.sock), data root (under a
 * temp dir), exec root, pidfile, its own bridge interface (never the host's docker0) and its own address pool for
 * user networks, and no iptables / ip-forward changes, so it never touches the shared engine's
 * state. Everything is removed by cleanup(): swarm left, containers and networks removed, dockerd
 * stopped, leftover mounts under its data root unmounted, roots deleted.
 */
export interface ExtraEngine {
  n: number
  /** Its daemon.json (--config-file). */
  config?: string
  socket: string
  host: string
  /** Also listening on tcp://127.0.0.1:<port> with TLS verification (client certificate required). */
  tls?: {host: string; port: number; dir: string}
  dataRoot: string
  execRoot: string
  pidfile: string
  log: string
  proc?: ChildProcess
  /** With `netns`: the engine runs in this network namespace of the test's own making. */
  netns?: string
  /** With `netns`: its address on the veth link to engine 1 (engine 1: its address on the link to engine 2). */
  addr?: string
}

export async function canRunExtraEngines(): Promise<{ok: boolean; reason?: string}> {
  if (process.getuid?.() !== 0)
    return {ok: false, reason: 'extra dockerd instances need root (the tests run as a non-root user)'}
  const which = await execa('sh', ['-c', 'command -v dockerd'], {reject: false})
  if (which.exitCode !== 0) return {ok: false, reason: 'dockerd is not installed'}
  return {ok: true}
}

export class ExtraEngines {
  readonly id = randomBytes(3).toString('hex')
  readonly runDir = `/run/ir-test-${this.id}`
  readonly engines: ExtraEngine[] = []
  private dataDir = ''

  /**
   * Start `count` engines concurrently and wait until each answers. Engines listed in `tls` also
   * listen on tcp://127.0.0.1 with --tlsverify, with a CA, server and client certificate made for
   * the run (in <dir>: ca.pem, cert.pem, key.pem as DOCKER_CERT_PATH expects).
   */
  /** Extra daemon.json settings per engine number (keys dockerd is not also given on its command line). */
  private daemonJson: Record<number, Record<string, unknown>> = {}

  async start(
    count: number,
    opts: {tls?: number[]; netns?: boolean; daemonJson?: Record<number, Record<string, unknown>>} = {},
  ): Promise<ExtraEngine[]> {
    this.daemonJson = opts.daemonJson ?? {}
    await mkdir(this.runDir, {recursive: true, mode: 0o700})
    this.dataDir = await mkdtemp(join(tmpdir(), `ir-test-engines-${this.id}-`))
    const tlsDir = opts.tls?.length ? await this.makeCerts() : undefined
    for (let n = 1; n <= count; n++) {
      const port = tlsDir && opts.tls?.includes(n) ? await freePort() : undefined
      this.engines.push({
        ...(tlsDir && port ? {tls: {host: `tcp://127.0.0.1:${port}`, port, dir: join(tlsDir, 'client')}} : {}),
        n,
        socket: join(this.runDir, `docker-${n}.sock`),
        host: `unix://${join(this.runDir, `docker-${n}.sock`)}`,
        dataRoot: join(this.dataDir, `data-${n}`),
        execRoot: join(this.runDir, `exec-${n}`),
        pidfile: join(this.runDir, `docker-${n}.pid`),
        log: join(this.dataDir, `dockerd-${n}.log`),
      })
    }
    if (opts.netns) await this.makeNetns()
    await Promise.all(this.engines.map((e) => this.startEngine(e)))
    return this.engines
  }

  /** Link subnet between engine 1 and engine n (inside the namespaces only; never a route on the host). */
  private linkNet(n: number): string {
    return `10.${200 + (parseInt(this.id.slice(0, 2), 16) % 50)}.${n}`
  }

  /**
   * One network namespace per engine (lo up), and a veth link from engine 1 to each other engine:
   * like separate machines on a wire. Engine n (n > 1) is <net n>.2, engine 1 is <net n>.1 on that link.
   */
  private async makeNetns(): Promise<void> {
    const ip = (args: string[]): Promise<unknown> => execa('ip', args, {stdin: 'ignore'})
    for (const e of this.engines) {
      e.netns = `irt-${this.id}-${e.n}`
      await ip(['netns', 'add', e.netns])
      await ip(['-n', e.netns, 'link', 'set', 'lo', 'up'])
    }
    const first = this.engines[0]!
    for (const e of this.engines.slice(1)) {
      const a = `irv${this.id}${e.n}a`
      const b = `irv${this.id}${e.n}b`
      await ip(['link', 'add', a, 'netns', first.netns!, 'type', 'veth', 'peer', 'name', b, 'netns', e.netns!])
      await ip(['-n', first.netns!, 'addr', 'add', `${this.linkNet(e.n)}.1/24`, 'dev', a])
      await ip(['-n', e.netns!, 'addr', 'add', `${this.linkNet(e.n)}.2/24`, 'dev', b])
      await ip(['-n', first.netns!, 'link', 'set', a, 'up'])
      await ip(['-n', e.netns!, 'link', 'set', b, 'up'])
      e.addr = `${this.linkNet(e.n)}.2`
      first.addr ??= `${this.linkNet(e.n)}.1`
    }
  }

  /** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate (openssl). */
  private async makeCerts(): Promise<string> {
    const dir = join(this.dataDir, 'tls')
    await mkdir(join(dir, 'client'), {recursive: true, mode: 0o700})
    const ossl = (args: string[]): Promise<unknown> => execa('openssl', args, {cwd: dir, stdin: 'ignore'})
    await ossl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca-key.pem',
      '-out',
      'client/ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=ir-test-ca',
    ])
    await writeFileText(join(dir, 'server.ext'), 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n')
    await writeFileText(join(dir, 'client.ext'), 'extendedKeyUsage = clientAuth\n')
    await ossl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server-key.pem',
      '-out',
      'server.csr',
      '-subj',
      '/CN=127.0.0.1',
    ])
    await ossl([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'client/ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-out',
      'server-cert.pem',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    ])
    await ossl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'client/key.pem',
      '-out',
      'client.csr',
      '-subj',
      '/CN=ir-test-client',
    ])
    await ossl([
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      'client/ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-out',
      'client/cert.pem',
      '-days',
      '2',
      '-extfile',
      'client.ext',
    ])
    return dir
  }

  docker(e: ExtraEngine): Docker {
    return new Docker({socketPath: e.socket})
  }

  /** (Re)start one engine with its own roots; resolves once it answers a ping. */
  /**
   * dockerd, when it starts again on an existing data root, clears its stale default bridge network and
   * with it the host's docker0 interface, which the shared engine needs. Put it back as it was.
   */
  private docker0: string[] | undefined

  private async rememberDocker0(): Promise<void> {
    if (this.docker0) return
    const r = await execa('ip', ['-o', '-4', 'addr', 'show', 'dev', 'docker0'], {reject: false})
    this.docker0 = r.exitCode === 0 ? [...r.stdout.matchAll(/inet (\S+)/g)].map((m) => m[1]!) : []
  }

  async restoreDocker0(): Promise<void> {
    if (!this.docker0 || this.docker0.length === 0) return
    if ((await execa('ip', ['link', 'show', 'docker0'], {reject: false})).exitCode === 0) return
    await execa('ip', ['link', 'add', 'name', 'docker0', 'type', 'bridge'], {reject: false})
    for (const a of this.docker0) await execa('ip', ['addr', 'add', a, 'dev', 'docker0'], {reject: false})
    await execa('ip', ['link', 'set', 'docker0', 'up'], {reject: false})
  }

  /** At most 15 characters (an interface name). */
  private bridgeName(e: ExtraEngine): string {
    return `irb${this.id.slice(0, 8)}${e.n}`.slice(0, 15)
  }

  async startEngine(e: ExtraEngine): Promise<void> {
    // A distinct private pool per engine and per run, so user networks of different engines never share a subnet.
    const second = 100 + (parseInt(this.id.slice(0, 2), 16) % 50) * 2 + e.n
    // Engines of docker 20.10 take their id from a trust key (default /etc/docker/key.json, shared with
    // the main engine): give each its own, as separate machines would have. Later engines keep the id in the data root.
    const {writeFile} = await import('node:fs/promises')
    await this.rememberDocker0()
    // Its own bridge interface. Not --bridge=none: a dockerd started without a bridge deletes the
    // host's docker0, which the shared engine (and every other test) needs.
    const bridge = this.bridgeName(e)
    const inNs = e.netns ? ['-n', e.netns] : []
    await execa('ip', [...inNs, 'link', 'add', 'name', bridge, 'type', 'bridge'], {reject: false})
    await execa('ip', [...inNs, 'addr', 'add', `10.${second}.255.1/24`, 'dev', bridge], {reject: false})
    await execa('ip', [...inNs, 'link', 'set', bridge, 'up'], {reject: false})
    const config = join(this.dataDir, `daemon-${e.n}.json`)
    e.config = config
    await writeFile(
      config,
      JSON.stringify({'deprecated-key-path': join(this.dataDir, `key-${e.n}.json`), ...this.daemonJson[e.n]}),
    )
    const args = [
      '--config-file',
      config,
      '--host',
      e.host,
      '--data-root',
      e.dataRoot,
      '--exec-root',
      e.execRoot,
      '--pidfile',
      e.pidfile,
      '--bridge',
      bridge,
      '--iptables=false',
      '--ip-masq=false',
      '--ip-forward=false',
      '--shutdown-timeout',
      '3',
      '--default-address-pool',
      `base=10.${second}.0.0/16,size=24`,
      '--log-level',
      'warn',
      ...(e.tls
        ? [
            '--host',
            e.tls.host,
            '--tlsverify',
            '--tlscacert',
            join(e.tls.dir, 'ca.pem'),
            '--tlscert',
            join(e.tls.dir, '..', 'server-cert.pem'),
            '--tlskey',
            join(e.tls.dir, '..', 'server-key.pem'),
          ]
        : []),
    ]
    const {openSync} = await import('node:fs')
    const out = openSync(e.log, 'a')
    // In its own network namespace only (the file system is shared: its socket is reachable from here).
    e.proc = e.netns
      ? spawn('nsenter', [`--net=/run/netns/${e.netns}`, '--', 'dockerd', ...args], {stdio: ['ignore', out, out]})
      : spawn('dockerd', args, {stdio: ['ignore', out, out]})
    const proc = e.proc
    let exited: number | null | undefined
    proc.once('exit', (code) => {
      exited = code
    })
    const docker = this.docker(e)
    for (let i = 0; i < 240; i++) {
      if (exited !== undefined)
        throw new Error(
          `dockerd ${e.n} exited (${exited}): ${(await readFile(e.log, 'utf8')).split('\n').slice(-15).join('\n')}`,
        )
      await this.restoreDocker0()
      try {
        await docker.ping()
        await this.restoreDocker0()
        return
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    throw new Error(`dockerd ${e.n} did not answer within 60 s (log: ${e.log})`)
  }

  /** Stop one engine (SIGTERM, as systemd would) and wait until the process is gone. */
  async stopEngine(e: ExtraEngine): Promise<void> {
    const proc = e.proc
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    const gone = new Promise<void>((r) => proc.once('exit', () => r()))
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 45_000)
    await gone
    clearTimeout(timer)
    e.proc = undefined
  }

  /** Copy an image from an engine (the shared one by default) into the extra engines (docker save | docker load, through the API); `only` picks them by index. */
  async loadImage(from: Docker, ref: string, only?: number[]): Promise<void> {
    await Promise.all(
      this.engines
        .filter((_, i) => !only || only.includes(i))
        .map(async (e) => {
          const tar = await from.getImage(ref).get()
          const stream = await this.docker(e).loadImage(tar)
          await new Promise<void>((resolve, reject) => {
            stream.on('error', reject)
            stream.on('end', resolve)
            stream.resume()
          })
        }),
    )
  }

  async cleanup(): Promise<void> {
    for (const e of this.engines) {
      // An engine a test left stopped is started again, so its networks (host bridges) can be removed.
      if (!e.proc && (await exists(e.dataRoot))) await this.startEngine(e).catch(() => undefined)
      if (!e.proc) continue
      const d = this.docker(e)
      try {
        const info = (await d.info()) as {Swarm?: {LocalNodeState?: string}}
        if (info.Swarm?.LocalNodeState && info.Swarm.LocalNodeState !== 'inactive') {
          for (const s of await d.listServices())
            await d
              .getService(s.ID)
              .remove()
              .catch(() => undefined)
          await d.swarmLeave({force: true}).catch(() => undefined)
        }
        for (const c of await d.listContainers({all: true})) {
          const ct = d.getContainer(c.Id)
          if (c.State === 'paused') await ct.unpause().catch(() => undefined)
          await ct.remove({force: true, v: true}).catch(() => undefined)
        }
        // Bridges (br-*, docker_gwbridge) outlive the daemon: remove every network it made.
        for (const n of await d.listNetworks()) {
          if (['bridge', 'host', 'none'].includes(n.Name)) continue
          await d
            .getNetwork(n.Id)
            .remove()
            .catch(() => undefined)
        }
      } catch {
        // the engine may already be stopped by the test
      }
    }
    await Promise.all(this.engines.map((e) => this.stopEngine(e)))
    for (const e of this.engines) {
      if (e.netns) await execa('ip', ['netns', 'del', e.netns], {reject: false})
      else await execa('ip', ['link', 'del', this.bridgeName(e)], {reject: false})
    }
    await this.restoreDocker0()
    // Anything still mounted under our roots (a daemon killed hard leaves overlay and netns mounts).
    const mounts = (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => (this.dataDir && m.startsWith(this.dataDir)) || m.startsWith(this.runDir))
    for (const m of mounts.reverse()) await execa('umount', ['-l', m], {reject: false})
    if (this.dataDir) await rm(this.dataDir, {recursive: true, force: true})
    await rm(this.runDir, {recursive: true, force: true})
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

async function writeFileText(path: string, text: string): Promise<void> {
  const {writeFile} = await import('node:fs/promises')
  await writeFile(path, text)
}

async function freePort(): Promise<number> {
  const {createServer} = await import('node:net')
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as {port: number}).port
      srv.close(() => resolve(port))
    })
  })
}
