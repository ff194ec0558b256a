import {createReadStream} from 'node:fs'
import {readFile, readlink} from 'node:fs/promises'

import type {Case} from '../../../case/case-store.js'
import type {Artifact, ArtifactSource} from '../../../case/manifest.js'
import type {ContainerDetails, Engine} from '../../../docker/types.js'
import {toErrorInfo} from '../../../errors.js'
import {redactArgs, redactEnvEntry} from '../../../util/redact.js'
import {findContainment, readContainment, withContainerLock} from '../../containment-state.js'
import {
  bootTime,
  exeIdentity,
  type InetSocket,
  type MemoryRegion,
  parseInetTable,
  parseMaps,
  parseStat,
  parseStatus,
  parseUnixTable,
  pidBelongsTo,
  pidsInNamespaceOf,
  procPath,
  readFds,
  readMemory,
  socketInode,
  splitNul,
  type SocketProto,
  type UnixSocket,
  USER_HZ,
} from './proc.js'

/**
 * Live state of a container, read from the engine host's /proc while the container is frozen (RFC 3227: the
 * process table, connections and memory go first). Per process: command line, environment (redacted), cwd,
 * uid/gid, parent, start time, state, open descriptors and the memory map; a copy of each distinct executable
 * through /proc/<pid>/exe (which recovers a binary deleted after it started); the network namespace's sockets,
 * each mapped to its processes by inode (what `ss -tunapx` prints inside the container); with `memory`, every
 * readable region of each process, raw, beside an index of where each region sits in the file.
 *
 * Memory dumps and recovered executables are forensic copies and are NOT redacted (like the filesystem export);
 * they are written at mode 0600 and nothing of their content goes into a report, a notification or an IOC
 * export. The process and socket documents are JSON evidence and are redacted as every other.
 *
 * It needs `ir` on the engine's host, in its pid namespace: the container's pid must be a process here whose
 * cgroup names the container. Otherwise (tcp://, ssh://, ir inside a container) it says so in one line.
 */

export interface LiveCaptureOptions {
  engine: Engine
  kase: Case
  details: ContainerDetails
  /** Folder under evidence/ and the file stamp, as the snapshot names its files. */
  dir: string
  stamp: string
  source: ArtifactSource
  /** Dump the readable memory of every process (default true). */
  memory: boolean
  /** Whether the caller froze the container for this read (see whileFrozen). */
  frozen: boolean
  procRoot?: string
  signal?: AbortSignal
  progress?: (line: string) => void
}

export interface LiveProcess {
  pid: number
  /** The pid inside the container's namespace. */
  nspid?: number
  ppid: number
  name: string
  state: string
  cmdline: string[]
  environ: string[]
  cwd?: string
  exe?: {path: string; deleted: boolean; sha256?: string; artifact?: string; error?: string}
  uid: number[]
  gid: number[]
  startedAt?: string
  fds: Array<{fd: number; target: string}>
  maps: MemoryRegion[]
  memory?: {artifact: string; sha256: string; bytes: number; regions: number; unreadable: number}
  errors: string[]
}

export interface LiveSocket {
  proto: SocketProto | 'unix'
  state: string
  local?: {address: string; port: number}
  remote?: {address: string; port: number}
  path?: string
  inode: number
  /** The processes holding it: pid (host), nspid, name, fd. */
  processes: Array<{pid: number; nspid?: number; name: string; fd: number}>
}

export interface LiveCaptureResult {
  status: 'captured' | 'partial' | 'unavailable'
  reason?: string
  frozen: boolean
  processes: number
  sockets: number
  executables: number
  memoryBytes: number
  artifacts: Artifact[]
  errors: string[]
  /** The documents as written (for the findings); not part of the result shown. */
  documents?: {processesArtifact: string; socketsArtifact: string; processes: LiveProcess[]; sockets: LiveSocket[]}
}

const unavailable = (reason: string): LiveCaptureResult => ({
  status: 'unavailable',
  reason,
  frozen: false,
  processes: 0,
  sockets: 0,
  executables: 0,
  memoryBytes: 0,
  artifacts: [],
  errors: [],
})

/** Can the live state of this container be read here? Undefined when it can, else the one-line reason. */
/** The one progress line of a capture: what was read, and whether the container was frozen while it was read. */
export function liveStateLine(name: string, l: LiveCaptureResult, memory: boolean): string {
  const mib = memory ? `, ${(l.memoryBytes / 1048576).toFixed(1)} MiB of memory` : ''
  return `  ${l.status === 'unavailable' ? '!' : '✓'} ${name}: live state: ${l.processes} process(es), ${l.sockets} socket(s), ${l.executables} executable(s)${mib}${l.frozen ? '' : ' (not frozen)'}`
}

export async function liveCaptureUnavailable(d: ContainerDetails, procRoot = '/proc'): Promise<string | undefined> {
  if (d.state !== 'running' && d.state !== 'paused') return `the container is ${d.state}: it has no processes`
  if (!d.pid) return 'the engine reports no process for the container'
  if (!(await pidBelongsTo(procRoot, d.pid, d.id)))
    return `live capture needs ir on the engine's host: process ${d.pid} here is not the container's (remote engine, or ir in another pid namespace)`
  return undefined
}

export interface FrozenScope {
  /** The container as inspected once the lock was held. */
  details: ContainerDetails
  /** Paused for the whole of fn: by this call, or already (by ir isolate, or by someone else). */
  frozen: boolean
  /** Why it could not be paused, if it could not. */
  pauseError?: string
}

/**
 * Run fn while the container is frozen, holding its containment lock (the one `ir isolate` and `ir release`
 * take), so that two snapshots, or a snapshot and an isolate, of one container never interleave: without it the
 * second snapshot's unpause could unfreeze the container while the first still reads it. A running container is
 * paused here and unpaused afterwards; a paused one (isolated, or paused by its owner) is read as it is and never
 * unpaused, and a container that an isolation recorded in this case froze is never unpaused either. With `freeze`
 * false, only the lock is held (the commit pauses by itself, and must not unpause under another reader).
 */
export async function whileFrozen<T>(
  opts: {engine: Engine; kase: Case; details: ContainerDetails; engineId?: string | undefined; freeze: boolean},
  fn: (scope: FrozenScope) => Promise<T>,
): Promise<T> {
  const {engine, kase} = opts
  const id = opts.details.id
  return withContainerLock(kase, id, opts.engineId, async () => {
    const details = await engine.containers.inspect(id).catch(() => opts.details)
    let pausedHere = false
    let pauseError: string | undefined
    if (opts.freeze && details.state === 'running') {
      try {
        pausedHere = (await engine.containers.pause(id)) === 'done'
      } catch (error) {
        pauseError = toErrorInfo(error).message
      }
    }
    try {
      return await fn({
        details,
        frozen: pausedHere || details.state === 'paused',
        ...(pauseError ? {pauseError} : {}),
      })
    } finally {
      if (pausedHere) {
        const record = findContainment((await readContainment(kase)).containers, id, opts.engineId)?.record
        const isolated = record?.status === 'isolated' && record.froze
        if (!isolated) await engine.containers.unpause(id).catch(() => undefined)
      }
    }
  })
}

/** Read the live state; the caller freezes the container first (whileFrozen) and says whether it did. */
export async function captureLiveState(opts: LiveCaptureOptions): Promise<LiveCaptureResult> {
  const {details: d, source} = opts
  const proc = opts.procRoot ?? '/proc'
  const reason = await liveCaptureUnavailable(d, proc)
  if (reason) return unavailable(reason)
  return capture(opts, proc, source, opts.frozen)
}

async function capture(
  opts: LiveCaptureOptions,
  proc: string,
  source: ArtifactSource,
  frozenAtStart: boolean,
): Promise<LiveCaptureResult> {
  const {kase, details: d} = opts
  const base = `${opts.dir}/live-${opts.stamp}`
  const artifacts: Artifact[] = []
  const errors: string[] = []
  const btime = await bootTime(proc).catch(() => 0)
  const pids = await pidsInNamespaceOf(proc, d.pid)
  const processes: LiveProcess[] = []
  for (const pid of pids) {
    opts.signal?.throwIfAborted()
    processes.push(await readProcess(proc, pid, btime))
  }

  // Executables: one copy per distinct file, through /proc/<pid>/exe (a deleted one included).
  const copies = new Map<string, {artifact: Artifact} | {error: string}>()
  for (const p of processes) {
    if (!p.exe) continue
    const id = await exeIdentity(proc, p.pid)
    if (!id) {
      p.exe.error = 'not readable'
      continue
    }
    let copy = copies.get(id.key)
    if (!copy) {
      const file = `${p.nspid ?? p.pid}-${(p.exe.path.split('/').pop() ?? 'exe').replace(/[^\w.-]+/g, '_')}`
      try {
        const artifact = await kase.addEvidence({
          name: `${base}/exe/${file}`,
          type: 'recovered-executable',
          description: `the executable of process ${p.nspid ?? p.pid} (${p.name}) of ${d.name}, copied through /proc/<pid>/exe: ${p.exe.path}${p.exe.deleted ? ' (deleted on disk)' : ''}`,
          source,
          content: createReadStream(procPath(proc, p.pid, 'exe')),
          meta: {pid: p.pid, nspid: p.nspid, path: p.exe.path, deleted: p.exe.deleted, forensicCopy: true},
          ...(opts.signal ? {signal: opts.signal} : {}),
        })
        artifacts.push(artifact)
        copy = {artifact}
      } catch (error) {
        copy = {error: toErrorInfo(error).message}
        errors.push(`executable of ${p.pid}: ${copy.error}`)
      }
      copies.set(id.key, copy)
    }
    if ('artifact' in copy) Object.assign(p.exe, {sha256: copy.artifact.sha256, artifact: copy.artifact.path})
    else p.exe.error = copy.error
  }

  // Memory: every readable region of each process, raw, hashed while it streams.
  let memoryBytes = 0
  if (opts.memory) {
    for (const p of processes) {
      opts.signal?.throwIfAborted()
      const regions: Array<MemoryRegion & {fileOffset: number; bytes: number; error?: string}> = []
      let offset = 0
      try {
        const artifact = await kase.addEvidence({
          name: `${base}/memory/${p.nspid ?? p.pid}.raw`,
          type: 'process-memory',
          description: `readable memory of process ${p.nspid ?? p.pid} (${p.name}) of ${d.name}, region after region as listed in ${p.nspid ?? p.pid}.regions.json (raw; not redacted)`,
          source,
          content: readMemory(proc, p.pid, p.maps, (r, read, error) => {
            regions.push({...r, fileOffset: offset, bytes: read, ...(error ? {error} : {})})
            offset += read
          }),
          meta: {pid: p.pid, nspid: p.nspid, forensicCopy: true},
          ...(opts.signal ? {signal: opts.signal} : {}),
        })
        artifacts.push(artifact)
        const index = await kase.addJsonEvidence({
          name: `${base}/memory/${p.nspid ?? p.pid}.regions.json`,
          type: 'process-memory-map',
          description: `where each memory region of process ${p.nspid ?? p.pid} sits in ${p.nspid ?? p.pid}.raw`,
          source,
          data: {pid: p.pid, nspid: p.nspid, raw: artifact.path, rawSha256: artifact.sha256, regions},
        })
        artifacts.push(index)
        memoryBytes += artifact.size
        p.memory = {
          artifact: artifact.path,
          sha256: artifact.sha256,
          bytes: artifact.size,
          regions: regions.filter((r) => r.bytes > 0).length,
          unreadable: regions.filter((r) => r.error && r.error !== 'skipped' && r.error !== 'not readable').length,
        }
      } catch (error) {
        const msg = toErrorInfo(error).message
        p.errors.push(`memory: ${msg}`)
        errors.push(`memory of ${p.pid}: ${msg}`)
        if ((error as Error).name === 'AbortError' || opts.signal?.aborted) throw error
      }
    }
  }

  const sockets = await readSockets(proc, d.pid, processes)
  // Frozen means frozen from the first read to the last: checked once the last read is done, not assumed.
  const frozen =
    frozenAtStart && (await opts.engine.containers.inspect(d.id).catch(() => undefined))?.state === 'paused'
  if (frozenAtStart && !frozen)
    errors.push('the container was unpaused while it was read: the processes may have changed meanwhile')
  const processesDoc = await kase.addJsonEvidence({
    name: `${base}/processes.json`,
    type: 'live-processes',
    description: `live process table of ${d.name} from /proc (${processes.length} processes${frozen ? ', frozen' : ''})`,
    source,
    data: {capturedAt: new Date().toISOString(), frozen, pid1: d.pid, processes},
    meta: {processes: processes.length},
  })
  const socketsDoc = await kase.addJsonEvidence({
    name: `${base}/sockets.json`,
    type: 'live-sockets',
    description: `sockets of ${d.name}'s network namespace, each with its processes (as ss -tunapx inside it)`,
    source,
    data: {capturedAt: new Date().toISOString(), sockets},
    meta: {sockets: sockets.length},
  })
  artifacts.push(processesDoc, socketsDoc)
  for (const p of processes)
    for (const e of p.errors) if (!errors.some((x) => x.includes(e))) errors.push(`${p.pid}: ${e}`)
  return {
    status: errors.length === 0 ? 'captured' : 'partial',
    frozen,
    processes: processes.length,
    sockets: sockets.length,
    executables: [...copies.values()].filter((c) => 'artifact' in c).length,
    memoryBytes,
    artifacts,
    errors,
    // The redacted forms, as written: findings quote these, never the raw process memory.
    documents: {
      processesArtifact: processesDoc.path,
      socketsArtifact: socketsDoc.path,
      processes: processes.map((p) => ({...p, environ: []})),
      sockets,
    },
  }
}

async function readProcess(proc: string, pid: number, btime: number): Promise<LiveProcess> {
  const errors: string[] = []
  const get = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn()
    } catch (error) {
      errors.push(`${what}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
      return undefined
    }
  }
  const status = await get('status', async () => parseStatus(await readFile(procPath(proc, pid, 'status'), 'utf8')))
  const stat = await get('stat', async () => parseStat(await readFile(procPath(proc, pid, 'stat'), 'utf8')))
  const cmdline = (await get('cmdline', async () => splitNul(await readFile(procPath(proc, pid, 'cmdline'))))) ?? []
  const environ = (await get('environ', async () => splitNul(await readFile(procPath(proc, pid, 'environ'))))) ?? []
  const cwd = await get('cwd', () => readlink(procPath(proc, pid, 'cwd')))
  const exeLink = await get('exe', () => readlink(procPath(proc, pid, 'exe')))
  const fds = (await get('fd', () => readFds(proc, pid))) ?? []
  const maps = (await get('maps', async () => parseMaps(await readFile(procPath(proc, pid, 'maps'), 'utf8')))) ?? []
  const deleted = exeLink?.endsWith(' (deleted)') ?? false
  // A zombie has no executable, descriptors or memory left: that is its state, not a failed read.
  if ((status?.state ?? stat?.state ?? '').startsWith('Z')) errors.length = 0
  const nspid = status?.nspid.at(-1)
  return {
    pid,
    ...(nspid === undefined ? {} : {nspid}),
    ppid: status?.ppid ?? stat?.ppid ?? 0,
    name: status?.name ?? stat?.comm ?? '',
    state: status?.state ?? stat?.state ?? '',
    cmdline: redactArgs(cmdline),
    environ: environ.map(redactEnvEntry),
    ...(cwd === undefined ? {} : {cwd}),
    ...(exeLink === undefined
      ? {}
      : {exe: {path: deleted ? exeLink.slice(0, -' (deleted)'.length) : exeLink, deleted}}),
    uid: status?.uid ?? [],
    gid: status?.gid ?? [],
    ...(stat && btime ? {startedAt: new Date((btime + stat.startTicks / USER_HZ) * 1000).toISOString()} : {}),
    fds,
    maps,
    errors,
  }
}

/** The sockets of the namespace that `pid1` lives in, each with the processes whose descriptors hold it. */
async function readSockets(proc: string, pid1: number, processes: readonly LiveProcess[]): Promise<LiveSocket[]> {
  const holders = new Map<number, LiveSocket['processes']>()
  for (const p of processes)
    for (const f of p.fds) {
      const inode = socketInode(f.target)
      if (inode === undefined) continue
      const list = holders.get(inode) ?? []
      list.push({pid: p.pid, ...(p.nspid === undefined ? {} : {nspid: p.nspid}), name: p.name, fd: f.fd})
      holders.set(inode, list)
    }
  const out: LiveSocket[] = []
  const table = async (name: string): Promise<string> =>
    readFile(procPath(proc, pid1, 'net', name), 'utf8').catch(() => '')
  const inet: InetSocket[] = []
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6'] as const) inet.push(...parseInetTable(await table(proto), proto))
  for (const s of inet)
    out.push({
      proto: s.proto,
      state: s.state,
      local: s.local,
      remote: s.remote,
      inode: s.inode,
      processes: holders.get(s.inode) ?? [],
    })
  const unix: UnixSocket[] = parseUnixTable(await table('unix'))
  for (const s of unix) {
    const processes = holders.get(s.inode)
    // Unix sockets the container's processes hold (the namespace's table also lists the kernel's own).
    if (!processes) continue
    out.push({proto: 'unix', state: s.listening ? 'LISTEN' : s.state, path: s.path, inode: s.inode, processes})
  }
  return out
}
