import {randomUUID} from 'node:crypto'
import {readFile, readdir, rm, stat, utimes, writeFile} from 'node:fs/promises'
import {hostname} from 'node:os'
import {extname, join} from 'node:path'

import {ensureDir} from '../util/fs.js'

/**
 * Transfers in flight, so that one process's reconcile never reports another live process's `.partial`
 * as left by a kill. Each writer registers the evidence path it is about to stream in
 * `<case>/.ir-inflight/<marker>` (a small JSON file naming its host, pid and the process's start time)
 * and removes it once the artifact is committed or has failed. A marker's owner is alive when, on the
 * same host, its pid exists with the same start time (so a recycled pid does not count); a marker of
 * another host (an incidents folder on shared storage) counts while its owner keeps touching it.
 */
export const INFLIGHT_DIR = '.ir-inflight'
const TOUCH_MS = 30_000
const FOREIGN_STALE_MS = 120_000

interface Marker {
  host: string
  pid: number
  start: string | undefined
  /** The evidence path (relative to the case) the writer asked for; it may add a `-N` suffix. */
  wanted: string
}

/** Register a transfer; the returned function removes the marker (idempotent, never throws). */
export async function markInFlight(caseDir: string, wantedRel: string): Promise<() => Promise<void>> {
  const dir = join(caseDir, INFLIGHT_DIR)
  const path = join(dir, `${process.pid}-${randomUUID()}.json`)
  const marker: Marker = {host: hostname(), pid: process.pid, start: await processStart(process.pid), wanted: wantedRel}
  try {
    await ensureDir(dir)
    await writeFile(path, JSON.stringify(marker), {flag: 'wx', mode: 0o600})
  } catch {
    // A marker that cannot be written (a full disk, a read-only case) must never fail the transfer itself:
    // without it another process's reconcile may at worst report this partial as interrupted. The
    // transfer's own write then meets the same condition and reports it in its own words.
    await rm(path, {force: true}).catch(() => undefined)
    return async () => undefined
  }
  const touch = setInterval(() => {
    const now = new Date()
    utimes(path, now, now).catch(() => undefined)
  }, TOUCH_MS)
  touch.unref()
  let done = false
  return async () => {
    if (done) return
    done = true
    clearInterval(touch)
    await rm(path, {force: true}).catch(() => undefined)
  }
}

/**
 * The wanted paths of every live transfer of the case; markers whose owner is gone are removed.
 * `covers(set, partialRel)` then tells whether a `.partial` belongs to one of them.
 */
export async function liveInFlight(caseDir: string): Promise<Set<string>> {
  const dir = join(caseDir, INFLIGHT_DIR)
  const names = await readdir(dir).catch(() => [] as string[])
  const live = new Set<string>()
  for (const name of names) {
    const path = join(dir, name)
    const marker = await readFile(path, 'utf8')
      .then((t) => JSON.parse(t) as Marker)
      .catch(() => undefined)
    if (!marker || typeof marker.wanted !== 'string') continue
    if (await isAlive(marker, path)) live.add(marker.wanted)
    else await rm(path, {force: true}).catch(() => undefined)
  }
  return live
}

/**
 * A file's extension for the name counter, compound ones whole (`.tar.gz`, `.tar.zst`): a second
 * `collect-…Z.tar.gz` within one second is `collect-…Z-1.tar.gz`, not `collect-…Z.tar-1.gz`.
 */
export function evidenceExtension(path: string): string {
  const ext = extname(path)
  const inner = extname(path.slice(0, path.length - ext.length))
  return inner === '.tar' && ext !== '' ? `${inner}${ext}` : ext
}

/** Whether the evidence file `finalRel` (a partial without its suffix) is the target of a live transfer. */
export function coveredByInFlight(live: Set<string>, finalRel: string): boolean {
  for (const wanted of live) {
    if (finalRel === wanted) return true
    const ext = evidenceExtension(wanted)
    const stem = wanted.slice(0, wanted.length - ext.length)
    if (finalRel.startsWith(`${stem}-`) && finalRel.endsWith(ext)) {
      const n = finalRel.slice(stem.length + 1, finalRel.length - ext.length)
      if (/^\d+$/.test(n)) return true
    }
  }
  return false
}

async function isAlive(marker: Marker, path: string): Promise<boolean> {
  if (marker.host !== hostname()) {
    const st = await stat(path).catch(() => undefined)
    return st !== undefined && Date.now() - st.mtimeMs < FOREIGN_STALE_MS
  }
  try {
    process.kill(marker.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const start = await processStart(marker.pid)
  return marker.start === undefined || start === undefined || start === marker.start
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined without /proc. */
async function processStart(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  if (!text) return undefined
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return fields[19]
}
