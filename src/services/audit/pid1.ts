import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {engineKind} from '../../docker/engine-kind.js'
import type {ContainerDetails, Engine} from '../../docker/types.js'
import {errorMessage} from '../../errors.js'
import type {Pid1Observation} from './checks.js'

/**
 * Which uid really runs a container's PID 1. Preferred: read /proc/<pid>/status on the engine's
 * host (only trusted when /proc/<pid>/cgroup names this container, so a remote engine's pid that
 * happens to exist here is not misread). Otherwise: the engine's `docker top` with ps arguments
 * that print the numeric uid.
 */

/** The `Uid:` line of /proc/<pid>/status: real, effective, saved, filesystem. */
export function parseStatusUid(status: string): {real: number; effective: number} | undefined {
  const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status)
  if (!m) return undefined
  return {real: Number(m[1]), effective: Number(m[2])}
}

export interface UidRange {
  inside: number
  outside: number
  length: number
}

/** /proc/<pid>/uid_map: `inside outside length` per line. */
export function parseUidMap(text: string): UidRange[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((n) => n.length === 3 && n.every((x) => Number.isFinite(x)))
    .map(([inside, outside, length]) => ({inside: inside!, outside: outside!, length: length!}))
}

/** Translate a uid as the host sees it into the uid inside the container's user namespace. */
export function hostUidToContainer(ranges: readonly UidRange[], hostUid: number): number | undefined {
  if (ranges.length === 0) return hostUid
  for (const r of ranges) {
    if (hostUid >= r.outside && hostUid < r.outside + r.length) return r.inside + (hostUid - r.outside)
  }
  return undefined
}

/** Whether /proc/<pid>/cgroup belongs to the container with this id (cgroup v1 or v2, any driver). */
export function cgroupNamesContainer(cgroup: string, containerId: string): boolean {
  return containerId.length >= 12 && cgroup.includes(containerId)
}

/**
 * PID 1's uid from `docker top` output: the row whose PID is the container's host pid (the
 * first row otherwise), numeric from a UID column, or a name from a USER/UID column (ps -ef).
 */
export function pid1FromTop(
  top: {titles: string[]; processes: string[][]},
  hostPid: number,
): {uid?: number; user?: string} | undefined {
  const col = (name: string): number => top.titles.findIndex((t) => t.trim().toUpperCase() === name)
  const pidCol = col('PID')
  // Podman's descriptors list pids as the container sees them: PID 1 is then the row of pid 1.
  const byPid = (pid: number): string[] | undefined =>
    pidCol >= 0 ? top.processes.find((p) => p[pidCol]?.trim() === String(pid)) : undefined
  const row = byPid(hostPid) ?? byPid(1) ?? top.processes[0]
  if (!row) return undefined
  const uidCol = col('UID')
  const userCol = col('USER')
  const uidText = uidCol >= 0 ? row[uidCol]?.trim() : undefined
  // A USER column next to a numeric UID holds the engine host's name for that uid: not reported.
  if (uidText && /^\d+$/.test(uidText)) return {uid: Number(uidText)}
  const name = (userCol >= 0 ? row[userCol] : uidText)?.trim()
  if (!name) return undefined
  return name === 'root' ? {uid: 0, user: name} : {user: name}
}

export interface Pid1Options {
  /** Where the host's proc filesystem is (default /proc). */
  procRoot?: string
}

const TOP_ARGS = '-o pid,uid,user'
/**
 * Podman's compat `top` runs ps(1) *inside* the container for ps options it does not know (`-o ...`, `-ef`):
 * an exec into the evidence, whose only row is that ps itself (as root). Its own descriptors are read on the host.
 */
export const PODMAN_TOP_ARGS = 'pid,uid,user'

export async function observePid1(
  engine: Engine,
  d: ContainerDetails,
  opts: Pid1Options = {},
): Promise<Pid1Observation> {
  if ((d.state !== 'running' && d.state !== 'paused' && d.state !== 'restarting') || !(d.pid > 0)) {
    return {method: 'none', note: `the container is ${d.state}: no PID 1 to read`}
  }
  const notes: string[] = []
  const fromProc = await readFromProc(d, opts.procRoot ?? '/proc').catch((error: unknown) => {
    notes.push(`/proc not used (${errorMessage(error)})`)
    return undefined
  })
  if (fromProc) return fromProc

  const podman = (await engineKind(engine)) === 'podman'
  for (const psArgs of podman ? [PODMAN_TOP_ARGS] : [TOP_ARGS, '-ef']) {
    try {
      const top = await engine.containers.top(d.id, psArgs)
      const seen = pid1FromTop(top, d.pid)
      if (!seen) {
        notes.push(`docker top (ps ${psArgs}) listed no process`)
        continue
      }
      return {
        method: 'top',
        ...(seen.uid === undefined ? {} : {uid: seen.uid}),
        ...(seen.user ? {user: seen.user} : {}),
        source: podman
          ? `podman top (descriptors ${psArgs}, as the engine host sees it)`
          : `docker top (ps ${psArgs}, as the engine host sees it)`,
        ...(notes.length ? {note: notes.join('; ')} : {}),
      }
    } catch (error) {
      notes.push(`docker top (ps ${psArgs}) failed: ${errorMessage(error)}`)
    }
  }
  return {method: 'none', note: notes.join('; ')}
}

async function readFromProc(d: ContainerDetails, procRoot: string): Promise<Pid1Observation> {
  const dir = join(procRoot, String(d.pid))
  const cgroup = await readFile(join(dir, 'cgroup'), 'utf8')
  if (!cgroupNamesContainer(cgroup, d.id)) {
    throw new Error(`pid ${d.pid} on this machine is not this container's: ir is not running on the engine's host`)
  }
  const source = join(dir, 'status')
  const uid = parseStatusUid(await readFile(source, 'utf8'))
  if (!uid) throw new Error(`no Uid line in ${source}`)
  const map = parseUidMap(await readFile(join(dir, 'uid_map'), 'utf8').catch(() => ''))
  const inside = hostUidToContainer(map, uid.effective)
  return {
    method: 'proc',
    ...(inside === undefined ? {} : {uid: inside}),
    hostUid: uid.effective,
    source,
    ...(inside === undefined
      ? {note: `host uid ${uid.effective} is not mapped into the container's user namespace`}
      : {}),
  }
}
