/**
 * Facts about the engine's host, read only when ir runs there: which dockerd serves the socket ir
 * talks to (from /proc/<pid>/cmdline), its daemon.json, and the owner and mode of the files CIS
 * section 3 names. Only reads (stat, readFile, readdir): nothing is opened for writing, nothing
 * is executed.
 */
import {readdir, readFile, realpath, stat} from 'node:fs/promises'
import {join} from 'node:path'

import type {FileFacts, FileRole, LocalFacts} from './daemon.js'

export interface HostFactsOptions {
  /** The engine endpoint, e.g. unix:///var/run/docker.sock. */
  endpoint: string
  /** docker info DockerRootDir, to confirm the dockerd found is this engine's. */
  dockerRootDir?: string
  procRoot?: string
  /** Prefix for absolute host paths (tests). */
  root?: string
  /** The engine is rootless (docker info SecurityOptions name=rootless): its default daemon.json is the user's. */
  rootless?: boolean
  /** The swarm manager port of this node (default 2377), for CIS 7.2. */
  swarmPort?: number
}

const DEFAULT_SOCKET = '/var/run/docker.sock'
const DEFAULT_CONFIG = '/etc/docker/daemon.json'

/** argv values of a flag (`-H x`, `--host x`, `--host=x`). */
export function flagValues(args: readonly string[], names: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    for (const n of names) {
      if (a === n && args[i + 1] !== undefined) out.push(args[++i]!)
      else if (a.startsWith(`${n}=`)) out.push(a.slice(n.length + 1))
    }
  }
  return out
}

async function real(p: string): Promise<string> {
  return realpath(p).catch(() => p)
}

async function readJson(path: string): Promise<{exists: boolean; value: Record<string, unknown>}> {
  try {
    const text = await readFile(path, 'utf8')
    const v = JSON.parse(text) as unknown
    return {exists: true, value: v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}}
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {exists: false, value: {}}
    throw error
  }
}

async function statFile(path: string): Promise<FileFacts | null> {
  try {
    const s = await stat(path)
    return {path, uid: s.uid, gid: s.gid, mode: s.mode & 0o7777, isDirectory: s.isDirectory()}
  } catch {
    return null
  }
}

async function firstExisting(paths: readonly string[]): Promise<FileFacts | null> {
  for (const p of paths) {
    const s = await statFile(p)
    if (s) return s
  }
  return null
}

async function filesUnder(dir: string): Promise<FileFacts[]> {
  const out: FileFacts[] = []
  const entries = await readdir(dir, {withFileTypes: true}).catch(() => [])
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await filesUnder(p)))
    else {
      const s = await statFile(p)
      if (s) out.push(s)
    }
  }
  return out
}

/** Whether something listens on this TCP port on every interface (IPv4 0.0.0.0 or IPv6 ::), from /proc/net/tcp and tcp6. */
export function listensOnAll(procNetTcp: string, port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  return procNetTcp.split('\n').some((line) => {
    const cols = line.trim().split(/\s+/)
    const local = cols[1] ?? ''
    const state = cols[3] ?? ''
    return state === '0A' && /^0+:/.test(local) && local.endsWith(`:${hex}`)
  })
}

/** A rootless dockerd reads $XDG_CONFIG_HOME/docker/daemon.json (default ~/.config): from its environment, only those two names. */
async function rootlessConfig(procDir: string): Promise<string> {
  const environ = (await readFile(join(procDir, 'environ'), 'utf8').catch(() => '')).split('\0')
  const value = (name: string): string | undefined =>
    environ.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1)
  const base = value('XDG_CONFIG_HOME') ?? (value('HOME') ? join(value('HOME')!, '.config') : undefined)
  return base ? join(base, 'docker', 'daemon.json') : DEFAULT_CONFIG
}

/**
 * The local facts, or a note saying why there are none (not a unix socket, no dockerd for it in
 * this machine's /proc, not root).
 */
export async function readHostFacts(opts: HostFactsOptions): Promise<{local?: LocalFacts; note?: string}> {
  if (!opts.endpoint.startsWith('unix://'))
    return {note: `the engine is reached at ${opts.endpoint}, not through a local socket`}
  const procRoot = opts.procRoot ?? '/proc'
  const root = opts.root ?? ''
  const socket = opts.endpoint.slice('unix://'.length)
  const socketReal = await real(socket)
  const pids = (await readdir(procRoot).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d))
  for (const pid of pids) {
    const comm = await readFile(join(procRoot, pid, 'comm'), 'utf8').catch(() => '')
    if (comm.trim() !== 'dockerd') continue
    const args = (await readFile(join(procRoot, pid, 'cmdline'), 'utf8').catch(() => ''))
      .split('\0')
      .filter((a) => a !== '')
    if (args.length === 0) continue
    const configFile =
      flagValues(args, ['--config-file'])[0] ??
      (opts.rootless ? await rootlessConfig(join(procRoot, pid)) : DEFAULT_CONFIG)
    let config: {exists: boolean; value: Record<string, unknown>}
    try {
      config = await readJson(root + configFile)
    } catch (error) {
      return {note: `dockerd ${pid} found, but its ${configFile} cannot be read: ${(error as Error).message}`}
    }
    const fromConfig = Array.isArray(config.value.hosts) ? (config.value.hosts as unknown[]).map(String) : []
    const hosts = [...flagValues(args, ['-H', '--host']), ...fromConfig]
    const sockets = (hosts.length === 0 ? [`unix://${DEFAULT_SOCKET}`] : hosts).flatMap((h) =>
      h.startsWith('unix://') ? [h.slice(7)] : h.startsWith('fd://') ? ['/run/docker.sock', DEFAULT_SOCKET] : [],
    )
    const reals = await Promise.all(sockets.map(real))
    if (!reals.includes(socketReal)) continue
    const dataRoot =
      flagValues(args, ['--data-root', '-g', '--graph'])[0] ??
      (typeof config.value['data-root'] === 'string' ? config.value['data-root'] : '/var/lib/docker')
    if (opts.dockerRootDir && (await real(dataRoot)) !== (await real(opts.dockerRootDir))) continue

    const tls = (key: string): string | undefined =>
      flagValues(args, [`--${key}`])[0] ?? (typeof config.value[key] === 'string' ? config.value[key] : undefined)
    const maybe = async (p: string | undefined): Promise<FileFacts | null> => (p ? statFile(root + p) : null)
    const units = (name: string): string[] =>
      ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'].map((d) => `${root}${d}/${name}`)
    const certs = await filesUnder(`${root}/etc/docker/certs.d`)
    const files: LocalFacts['files'] = {
      'docker.service': await firstExisting(units('docker.service')),
      'docker.socket': await firstExisting(units('docker.socket')),
      'etc-docker': await statFile(`${root}/etc/docker`),
      'certs.d': certs.length ? certs : null,
      tlscacert: await maybe(tls('tlscacert')),
      tlscert: await maybe(tls('tlscert')),
      tlskey: await maybe(tls('tlskey')),
      'docker-sock': await statFile(socket),
      'daemon.json': config.exists ? await statFile(root + configFile) : null,
      'etc-default-docker': await statFile(`${root}/etc/default/docker`),
      'etc-sysconfig-docker': await statFile(`${root}/etc/sysconfig/docker`),
      'containerd-sock': await firstExisting([
        `${root}/run/containerd/containerd.sock`,
        ...flagValues(args, ['--containerd']).map((p) => root + p),
      ]),
    } satisfies Partial<Record<FileRole, FileFacts | FileFacts[] | null>>
    const group = await readFile(`${root}/etc/group`, 'utf8').catch(() => '')
    const dockerLine = group.split('\n').find((l) => l.startsWith('docker:'))
    const dockerGid = dockerLine ? Number(dockerLine.split(':')[2]) : undefined
    const tcp =
      (await readFile(join(procRoot, 'net', 'tcp'), 'utf8').catch(() => '')) +
      (await readFile(join(procRoot, 'net', 'tcp6'), 'utf8').catch(() => ''))
    return {
      local: {
        pid: Number(pid),
        args,
        configFile,
        config: config.value,
        configExists: config.exists,
        files,
        ...(dockerGid === undefined || Number.isNaN(dockerGid) ? {} : {dockerGid}),
        swarmPortOnAll: listensOnAll(tcp, opts.swarmPort ?? 2377),
      },
    }
  }
  return {
    note: `no dockerd serving ${socket} is visible in ${procRoot} (ir is not on the engine's host, or not allowed to read /proc)`,
  }
}
