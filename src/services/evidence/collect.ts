import {createHash} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {mkdir, rm, rmdir} from 'node:fs/promises'
import {join} from 'node:path'
import {type Readable, Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import type {Case} from '../../case/case-store.js'
import {fileStamp, safeFileName} from '../../case/ids.js'
import {redactDeep, redactText} from '../../util/redact.js'
import type {ContainerDetails, Engine} from '../../docker/types.js'
import {type ErrorInfo, toErrorInfo} from '../../errors.js'
import {
  hostFailureAudit,
  type HostOutcome,
  runOnHosts,
  reportRefFailures,
  type OnHost,
  type StepOptions,
  type TransferProgress,
  eachContainer,
  type StepContainer,
} from '../fanout.js'
import {type ResolveFailure, selectTargets, type Target} from '../targets.js'
import {splitDockerStream} from './log-demux.js'
import {evidenceSource} from './source.js'
import type {ArtifactRef} from './snapshot.js'

export interface CollectOptions extends StepOptions {
  kase: Case
  /** Unix seconds. */
  since?: number
  until?: number
  transferProgress?: TransferProgress
}

export interface CollectedEntry {
  name: string
  sha256: string
  size: number
}

export interface ContainerCollection extends StepContainer {
  status: 'collected' | 'partial' | 'failed'
  archive?: ArtifactRef
  entries: CollectedEntry[]
  logDriver?: string
  logs: 'collected' | 'unavailable'
  notes: string[]
  error?: ErrorInfo
}

export interface CollectResult {
  caseId: string
  containers: ContainerCollection[]
  hosts?: HostOutcome[]
  ok: boolean
}

const UNREADABLE_DRIVERS = new Set(['none'])
const STATS_TIMEOUT_MS = 10_000

/**
 * Collect logs and runtime state into one .tar.gz per container: stdout and stderr logs
 * (timestamped, demultiplexed, optionally bounded by since/until), the redacted inspect, top,
 * diff, a stats sample and the engine events touching the container, plus SHA256SUMS of every
 * member. Streams end to end; the archive is hashed while written and verified on disk.
 */
export async function collectOnHosts(opts: CollectOptions): Promise<CollectResult> {
  const selection = await selectTargets(opts.hosts, opts.selection)
  const until = opts.until ?? Math.floor(Date.now() / 1000)
  const run = await runOnHosts<ContainerCollection>({
    hosts: opts.hosts,
    selection,
    maxHosts: opts.maxHosts,
    failed: (s: string): boolean => s === 'failed',
    done: (s) => s === 'collected',
    progress: opts.progress,
    work: (engine, host, targets) => collectTargets({...opts, engine, host}, targets, until),
    refFailures: (failed) => collectRefFailures(opts, failed),
    ...hostFailureAudit(opts.kase, 'collect', 'nothing was collected there'),
  })
  return {caseId: opts.kase.id, ...run}
}

/** What the step reports for a container it could not work on (or a reference that selected nothing). */
function failedEntry(base: Omit<StepContainer, 'status'>, error: ErrorInfo): ContainerCollection {
  return {...base, status: 'failed', entries: [], logs: 'unavailable', notes: [], error}
}

function collectTargets(
  opts: OnHost<CollectOptions>,
  targets: readonly Target[],
  until: number,
): Promise<ContainerCollection[]> {
  return eachContainer(opts, targets, {
    action: 'collect',
    concurrency: 2,
    one: (t, d) => collectOne(opts, t, d, until),
    audit: (name, message) => `Collection from ${name} failed: ${message}`,
    failed: (t, where, error) => failedEntry({ref: t.ref, ...where, id: t.id, name: t.name}, error),
  })
}

function collectRefFailures(
  opts: {kase: Case; progress?: ((line: string) => void) | undefined},
  failed: readonly ResolveFailure[],
): Promise<ContainerCollection[]> {
  return reportRefFailures(failed, {
    ...opts,
    action: 'collect',
    audit: (ref, message) => `Collection from ${ref} failed: ${message}`,
    entry: (ref, error) => failedEntry({ref}, error),
  })
}

class Hasher extends Transform {
  private readonly hash = createHash('sha256')
  size = 0
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.hash.update(chunk)
    this.size += chunk.length
    cb(null, chunk)
  }
  digest(): string {
    return this.hash.digest('hex')
  }
}

async function collectOne(
  opts: OnHost<CollectOptions>,
  target: Target,
  d: ContainerDetails,
  until: number,
): Promise<ContainerCollection> {
  const {engine, kase, host} = opts
  // When the acquisition began (recorded with its end line; the CASE export's startTime).
  const startedAt = new Date().toISOString()
  const targetRef = target.ref
  const {default: archiver} = await import('archiver')
  const stamp = fileStamp()
  const {where, source} = evidenceSource(engine, host, d, target)
  const notes: string[] = []
  const entries: CollectedEntry[] = []
  const root = `${safeFileName(d.name)}-${stamp}`

  const archive = archiver('tar', {gzip: true, gzipOptions: {level: 1}})
  archive.on('warning', (w: Error) => notes.push(`archiver warning: ${w.message}`))
  const p = opts.transferProgress?.(`${d.name}: collect`)
  const writing = kase.addEvidence({
    name: `${host?.dir ? `${host.dir}/` : ''}${safeFileName(d.name)}/collect-${stamp}.tar.gz`,
    type: 'log-archive',
    description: `logs, inspect, top, diff, stats and events of ${d.name}`,
    source,
    content: archive,
    ...(opts.signal ? {signal: opts.signal} : {}),
    ...(p ? {onProgress: p.onProgress} : {}),
    meta: {since: opts.since ?? null, until, logDriver: d.logDriver},
  })
  // If the file side fails, stop feeding the archive.
  writing.catch((error: unknown) => archive.destroy(error as Error))
  const archiveFailed = new Promise<never>((_, reject) => {
    archive.once('error', reject)
    writing.catch(reject)
  })
  archiveFailed.catch(() => undefined)

  // A tar header needs the member's size before its bytes, so archiver would hold a stream of
  // unknown length (a log) in memory. Streams are staged to a file first (hashed on the way), then
  // archived from disk: memory stays flat whatever the size of the logs.
  // The staging folder sits beside the archive, and every staged file is a `.partial`: if ir or the
  // engine dies mid-read, the bytes already read stay there as an incomplete transfer, reported by
  // the next command and by verify (never counted as evidence).
  const staging = join(
    kase.dir,
    'evidence',
    ...(host?.dir ? [host.dir] : []),
    safeFileName(d.name),
    `collect-${stamp}-${process.pid}.staging`,
  )
  await mkdir(staging, {recursive: true, mode: 0o700})
  let staged = 0
  /** Append one member and wait until the archive has consumed it, so only one source is open at a time. */
  const add = async (name: string, content: Readable | string): Promise<void> => {
    opts.signal?.throwIfAborted()
    const entered = new Promise<void>((resolve) => {
      const onEntry = (data: {name: string}): void => {
        if (data.name === `${root}/${name}`) {
          archive.off('entry', onEntry)
          resolve()
        }
      }
      archive.on('entry', onEntry)
    })
    if (typeof content === 'string') {
      const buf = Buffer.from(content)
      archive.append(buf, {name: `${root}/${name}`, mode: 0o600})
      await Promise.race([entered, archiveFailed])
      entries.push({name, sha256: createHash('sha256').update(buf).digest('hex'), size: buf.length})
      return
    }
    const file = await stage(content, name)
    await addStaged(name, file)
  }
  /** Stream into a staging file, hashing on the way. */
  const stagePath = (name: string): string =>
    join(staging, `${staged++}-${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.partial`)
  const stage = async (content: Readable, name: string): Promise<{path: string; sha256: string; size: number}> => {
    const hasher = new Hasher()
    const path = stagePath(name)
    await pipeline(content, hasher, createWriteStream(path, {mode: 0o600}), opts.signal ? {signal: opts.signal} : {})
    return {path, sha256: hasher.digest(), size: hasher.size}
  }
  /** Archive a staged file as a member, then drop it. */
  const addStaged = async (name: string, file: {path: string; sha256: string; size: number}): Promise<void> => {
    const entered = new Promise<void>((resolve) => {
      const onEntry = (data: {name: string}): void => {
        if (data.name === `${root}/${name}`) {
          archive.off('entry', onEntry)
          resolve()
        }
      }
      archive.on('entry', onEntry)
    })
    archive.file(file.path, {name: `${root}/${name}`, mode: 0o600})
    await Promise.race([entered, archiveFailed])
    await rm(file.path, {force: true})
    entries.push({name, sha256: file.sha256, size: file.size})
  }
  const json = (v: unknown): string => `${JSON.stringify(redactDeep(v), null, 2)}\n`

  let logs: ContainerCollection['logs'] = 'collected'
  try {
    // Logs: stdout and stderr as separate files. A TTY container has one raw stream.
    const tty = Boolean((d.raw.Config as {Tty?: boolean} | undefined)?.Tty)
    const window = {timestamps: true, until, ...(opts.since === undefined ? {} : {since: opts.since})}
    if (UNREADABLE_DRIVERS.has(d.logDriver)) {
      logs = 'unavailable'
      notes.push(`log driver "${d.logDriver}" keeps no logs the engine can read back`)
      await add(
        'logs/UNAVAILABLE.json',
        json({logDriver: d.logDriver, reason: 'the engine cannot read back logs from this driver'}),
      )
    } else {
      let stdout: Readable | undefined
      try {
        stdout = await engine.containers.logs(d.id, {...window, stdout: true, stderr: true})
      } catch (error) {
        // Only a driver the engine cannot read back is recorded as such; any other failure fails the collection.
        const info = toErrorInfo(error)
        if (!/does not support reading|not implemented|HTTP 501/i.test(info.message)) throw error
        logs = 'unavailable'
        notes.push(`logs could not be read (driver "${d.logDriver}"): ${info.message}`)
        await add('logs/UNAVAILABLE.json', json({logDriver: d.logDriver, reason: info.message}))
      }
      if (stdout && tty) await add('logs/stdout.log', stdout)
      if (stdout && !tty) {
        // One pass over the log (the engine decodes every line of it): frames are split into two files.
        const out = {hasher: new Hasher(), path: stagePath('logs/stdout.log')}
        const err = {hasher: new Hasher(), path: stagePath('logs/stderr.log')}
        const sig = opts.signal ? {signal: opts.signal} : {}
        await Promise.all([
          pipeline(stdout, splitDockerStream(out.hasher, err.hasher), sig),
          pipeline(out.hasher, createWriteStream(out.path, {mode: 0o600}), sig),
          pipeline(err.hasher, createWriteStream(err.path, {mode: 0o600}), sig),
        ])
        await addStaged('logs/stdout.log', {path: out.path, sha256: out.hasher.digest(), size: out.hasher.size})
        await addStaged('logs/stderr.log', {path: err.path, sha256: err.hasher.digest(), size: err.hasher.size})
      }
    }
    await add('inspect.json', json(d.raw))
    if (d.state === 'running' || d.state === 'paused') {
      // Podman refuses `top` on a paused container: that part is recorded as unavailable, with the reason.
      const top = await engine.containers
        .top(d.id)
        .catch((error: unknown) => ({unavailable: toErrorInfo(error).message, state: d.state}))
      if ('unavailable' in top) notes.push(`process list unavailable (${d.state}): ${top.unavailable}`)
      await add('top.json', json(top))
    }
    await add('diff.json', json(await engine.containers.diff(d.id)))
    await add('stats.json', json(await statsSample(engine, d, notes)))
    // Engine events about this container since it was created.
    const created = Math.floor(Date.parse(String((d.raw as {Created?: string}).Created ?? '')) / 1000)
    const events = await engine.events({
      since: Number.isFinite(created) ? created : until - 86_400,
      until,
      filters: {container: [d.id]},
    })
    const redactedEvents = jsonLinesRedactor()
    // pipeline (not pipe): a dropped engine connection fails the member instead of hanging it.
    const eventsDone = pipeline(events, redactedEvents)
    eventsDone.catch((error: Error) => redactedEvents.destroy(error))
    await add('events.jsonl', redactedEvents)
    await eventsDone
    await add(
      'collection.json',
      json({
        containerId: d.id,
        name: d.name,
        ...where,
        image: d.image,
        logDriver: d.logDriver,
        since: opts.since ?? null,
        until,
        collectedAt: new Date().toISOString(),
        collectedBy: kase.actor,
        notes,
      }),
    )
    await add('SHA256SUMS', entries.map((e) => `${e.sha256}  ${root}/${e.name}\n`).join(''))
    await archive.finalize()
  } catch (error) {
    // Fail the archive stream itself: the truncated file is kept as .partial, never recorded as evidence.
    archive.destroy(error as Error)
    await writing.catch(() => undefined)
    // Keep what was read (the staged .partial files); drop the folder only when nothing is in it.
    await rmdir(staging).catch(() => undefined)
    throw error
  } finally {
    p?.done()
  }
  await rm(staging, {recursive: true, force: true})
  const artifact = await writing
  const archiveRef = {
    id: artifact.id,
    path: artifact.path,
    type: artifact.type,
    sha256: artifact.sha256,
    size: artifact.size,
  }
  const status: ContainerCollection['status'] = logs === 'collected' ? 'collected' : 'partial'
  await kase.record({
    action: 'collect',
    target: d.name,
    outcome: status === 'collected' ? 'success' : 'partial',
    msg: `Collected ${entries.length} file(s) from ${d.name} into ${artifact.path}${logs === 'unavailable' ? ` (logs unavailable: driver ${d.logDriver})` : ''}`,
    details: {
      containerId: d.id,
      ...where,
      startedAt,
      archive: archiveRef,
      entries,
      logDriver: d.logDriver,
      logs,
      notes,
    },
  })
  opts.progress?.(`✓ ${d.name}: ${entries.length} file(s) → ${artifact.path}`)
  return {
    ref: targetRef,
    ...where,
    id: d.id,
    name: d.name,
    status,
    archive: archiveRef,
    entries,
    logDriver: d.logDriver,
    logs,
    notes,
  }
}

/**
 * One stats sample (`stream: false`, one-shot), also for a paused container, which is every
 * isolated one: Docker still reads its cgroup counters. When there is none to take (not running)
 * or the engine refuses, the file says why: stats.json is never silently missing.
 */
async function statsSample(engine: Engine, d: ContainerDetails, notes: string[]): Promise<Record<string, unknown>> {
  if (d.state !== 'running' && d.state !== 'paused')
    return {unavailable: `the container is ${d.state}: the engine keeps no live statistics for it`, state: d.state}
  const sample = await withTimeout(engine.containers.stats(d.id), STATS_TIMEOUT_MS).catch((error: unknown) => ({
    unavailable: toErrorInfo(error).message,
    state: d.state,
  }))
  if ('unavailable' in sample) notes.push(`stats unavailable (${d.state}): ${String(sample.unavailable)}`)
  return sample
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms))),
  ]).finally(() => clearTimeout(timer))
}

/** Redact each JSON line of a stream (engine events carry labels, which may hold secrets). */
export function jsonLinesRedactor(): Transform {
  let rest = ''
  const fix = (line: string): string => {
    if (line.trim() === '') return ''
    try {
      return `${JSON.stringify(redactDeep(JSON.parse(line)))}\n`
    } catch {
      return `${redactText(line)}\n`
    }
  }
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      const lines = (rest + chunk.toString('utf8')).split('\n')
      rest = lines.pop() ?? ''
      cb(null, lines.map(fix).join(''))
    },
    flush(cb) {
      cb(null, fix(rest))
    },
  })
}
