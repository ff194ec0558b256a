import {open, readdir, readFile, readlink, stat} from 'node:fs/promises'
import {join} from 'node:path'

/**
 * Readers of the engine host's /proc for the live state of a container's processes (RFC 3227's order of
 * volatility: processes, connections and memory first). Each reads one file and parses it; a process that exits
 * meanwhile gives ENOENT/ESRCH, which the callers record instead of failing. `procRoot` is '/proc' except in
 * unit tests, which point it at a folder of fixture files.
 */

/** Clock ticks per second of /proc/<pid>/stat's start time: USER_HZ, 100 on every Linux architecture Docker runs. */
export const USER_HZ = 100

export interface ProcStatus {
  name: string
  state: string
  ppid: number
  uid: number[]
  gid: number[]
  /** The pid in each nested pid namespace, outermost (the host's) first. */
  nspid: number[]
}

export interface ProcStat {
  comm: string
  state: string
  ppid: number
  /** Clock ticks after boot. */
  startTicks: number
}

export interface MemoryRegion {
  start: number
  end: number
  perms: string
  offset: string
  dev: string
  inode: number
  path: string
}

export type SocketProto = 'tcp' | 'tcp6' | 'udp' | 'udp6'

export interface InetSocket {
  proto: SocketProto
  local: {address: string; port: number}
  remote: {address: string; port: number}
  state: string
  uid: number
  inode: number
}

export interface UnixSocket {
  proto: 'unix'
  type: 'stream' | 'dgram' | 'seqpacket' | string
  state: string
  inode: number
  path: string
  listening: boolean
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
  '0C': 'NEW_SYN_RECV',
}

export const procPath = (procRoot: string, pid: number, ...rest: string[]): string =>
  join(procRoot, String(pid), ...rest)

/** The pids on this host (numeric entries of /proc). */
export async function listPids(procRoot: string): Promise<number[]> {
  return (await readdir(procRoot))
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b)
}

/** Every pid in the same pid namespace as `pid1` (a container's processes, `docker exec` ones included). */
export async function pidsInNamespaceOf(procRoot: string, pid1: number): Promise<number[]> {
  const ns = await readlink(procPath(procRoot, pid1, 'ns', 'pid'))
  const out: number[] = []
  for (const pid of await listPids(procRoot)) {
    const other = await readlink(procPath(procRoot, pid, 'ns', 'pid')).catch(() => undefined)
    if (other === ns) out.push(pid)
  }
  return out
}

/** Does this host's process `pid` belong to the container (its cgroup path names the full id)? */
export async function pidBelongsTo(procRoot: string, pid: number, containerId: string): Promise<boolean> {
  const cgroup = await readFile(procPath(procRoot, pid, 'cgroup'), 'utf8').catch(() => '')
  return containerId.length >= 12 && cgroup.includes(containerId)
}

export function parseStatus(text: string): ProcStatus {
  const field = (key: string): string => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? ''
  const nums = (key: string): number[] =>
    field(key)
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isFinite(n))
  return {
    name: field('Name'),
    state: field('State'),
    ppid: Number(field('PPid') || 0),
    uid: nums('Uid'),
    gid: nums('Gid'),
    nspid: nums('NSpid'),
  }
}

/** /proc/<pid>/stat: the command name is in parentheses and may itself hold spaces and parentheses. */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  const comm = text.slice(open + 1, close)
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/)
  // rest[0] is field 3 (state); the start time is field 22.
  return {comm, state: rest[0] ?? '', ppid: Number(rest[1] ?? 0), startTicks: Number(rest[19] ?? 0)}
}

/** The boot time (seconds since the epoch) from /proc/stat. */
export async function bootTime(procRoot: string): Promise<number> {
  const text = await readFile(join(procRoot, 'stat'), 'utf8')
  return Number(/^btime\s+(\d+)/m.exec(text)?.[1] ?? 0)
}

/** NUL-separated lists (cmdline, environ). */
export function splitNul(buf: Buffer): string[] {
  const s = buf.toString('utf8')
  const parts = s.split('\0')
  if (parts.at(-1) === '') parts.pop()
  return parts
}

export function parseMaps(text: string): MemoryRegion[] {
  const out: MemoryRegion[] = []
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+(\S+)\s+(\d+)\s*(.*)$/.exec(line)
    if (!m) continue
    out.push({
      start: Number.parseInt(m[1]!, 16),
      end: Number.parseInt(m[2]!, 16),
      perms: m[3]!,
      offset: m[4]!,
      dev: m[5]!,
      inode: Number(m[6]),
      path: m[7]!,
    })
  }
  return out
}

/** "0100007F:1F90" (IPv4, little-endian word) or 32 hex digits (IPv6, four little-endian words). */
export function parseHexAddress(hex: string): {address: string; port: number} {
  const [a = '', p = '0'] = hex.split(':')
  const port = Number.parseInt(p, 16)
  if (a.length === 8) {
    const bytes = [6, 4, 2, 0].map((i) => Number.parseInt(a.slice(i, i + 2), 16))
    return {address: bytes.join('.'), port}
  }
  const bytes: number[] = []
  for (let w = 0; w < 4; w++) {
    const word = a.slice(w * 8, w * 8 + 8)
    for (const i of [6, 4, 2, 0]) bytes.push(Number.parseInt(word.slice(i, i + 2), 16))
  }
  // An IPv4-mapped address reads best as such.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return {address: `::ffff:${bytes.slice(12).join('.')}`, port}
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
  return {address: compressIpv6(groups), port}
}

function compressIpv6(groups: string[]): string {
  let best = {at: -1, len: 0}
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < groups.length && groups[j] === '0') j++
    if (j - i > best.len) best = {at: i, len: j - i}
    i = j
  }
  if (best.len < 2) return groups.join(':')
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`
}

export function parseInetTable(text: string, proto: SocketProto): InetSocket[] {
  const out: InetSocket[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 10) continue
    const st = f[3]!.toUpperCase()
    const udp = proto.startsWith('udp')
    out.push({
      proto,
      local: parseHexAddress(f[1]!),
      remote: parseHexAddress(f[2]!),
      // UDP has no connection states: 07 is an unconnected socket (listening, as ss shows it), 01 a connected one.
      state: udp ? (st === '01' ? 'ESTABLISHED' : 'UNCONN') : (TCP_STATES[st] ?? st),
      uid: Number(f[7]),
      inode: Number(f[9]),
    })
  }
  return out
}

export function parseUnixTable(text: string): UnixSocket[] {
  const types: Record<string, string> = {'0001': 'stream', '0002': 'dgram', '0005': 'seqpacket'}
  const states: Record<string, string> = {
    '01': 'UNCONNECTED',
    '02': 'CONNECTING',
    '03': 'CONNECTED',
    '04': 'DISCONNECTING',
  }
  const out: UnixSocket[] = []
  for (const line of text.split('\n').slice(1)) {
    const m = /^\s*\S+:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s?(.*)$/.exec(line)
    if (!m) continue
    const flags = Number.parseInt(m[3]!, 16)
    out.push({
      proto: 'unix',
      type: types[m[4]!] ?? m[4]!,
      state: states[m[5]!] ?? m[5]!,
      inode: Number(m[6]),
      path: m[7] ?? '',
      // __SO_ACCEPTCON: a listening stream socket.
      listening: (flags & 0x10000) !== 0,
    })
  }
  return out
}

/** The open descriptors of a process: number → target (a path, `socket:[inode]`, `pipe:[inode]`, …). */
export async function readFds(procRoot: string, pid: number): Promise<Array<{fd: number; target: string}>> {
  const dir = procPath(procRoot, pid, 'fd')
  const out: Array<{fd: number; target: string}> = []
  for (const n of await readdir(dir)) {
    const target = await readlink(join(dir, n)).catch(() => undefined)
    if (target !== undefined) out.push({fd: Number(n), target})
  }
  return out.sort((a, b) => a.fd - b.fd)
}

export const socketInode = (target: string): number | undefined => {
  const m = /^socket:\[(\d+)\]$/.exec(target)
  return m ? Number(m[1]) : undefined
}

/** The executable's identity (the file /proc/<pid>/exe opens, deleted or not): one copy per file. */
export async function exeIdentity(procRoot: string, pid: number): Promise<{key: string; size: number} | undefined> {
  const s = await stat(procPath(procRoot, pid, 'exe')).catch(() => undefined)
  return s ? {key: `${s.dev}:${s.ino}`, size: s.size} : undefined
}

/**
 * Every readable region of a process's memory, read from /proc/<pid>/mem in bounded chunks (memory stays flat).
 * Yields the bytes; `onRegion` learns, per region, how many bytes were read and why a region stopped short.
 */
export async function* readMemory(
  procRoot: string,
  pid: number,
  regions: readonly MemoryRegion[],
  onRegion: (r: MemoryRegion, read: number, error?: string) => void,
  chunk = 1 << 20,
): AsyncGenerator<Buffer> {
  const fh = await open(procPath(procRoot, pid, 'mem'), 'r')
  try {
    for (const r of regions) {
      // Not readable, or beyond what a JavaScript number addresses exactly (the legacy vsyscall page).
      if (
        !r.perms.startsWith('r') ||
        r.end > Number.MAX_SAFE_INTEGER ||
        r.path === '[vvar]' ||
        r.path === '[vsyscall]'
      ) {
        onRegion(r, 0, r.perms.startsWith('r') ? 'skipped' : 'not readable')
        continue
      }
      let read = 0
      let error: string | undefined
      while (r.start + read < r.end) {
        const want = Math.min(chunk, r.end - r.start - read)
        const buf = Buffer.allocUnsafe(want)
        try {
          const {bytesRead} = await fh.read(buf, 0, want, r.start + read)
          if (bytesRead === 0) {
            error = 'end of file'
            break
          }
          read += bytesRead
          yield bytesRead === want ? buf : buf.subarray(0, bytesRead)
        } catch (error_) {
          error = (error_ as NodeJS.ErrnoException).code ?? String(error_)
          break
        }
      }
      onRegion(r, read, error)
    }
  } finally {
    await fh.close()
  }
}
