import type {AuditLine} from '../../case/audit-log.js'
import {detailsOf} from './audit-entries.js'
import type {Duration, KeyTime, ReportMetrics} from './types.js'

export interface DetectionTime {
  /** ISO 8601 UTC. */
  at: string
  /** The audit entry that recorded it (a responder event of kind `detected`). */
  seq?: number
  basis: string
  /** Set when the detection time is only a stand-in (the moment the case was opened). */
  open?: string
}

/** The audit action and details kind of a responder-recorded detection (`ir case event --kind detected`). */
export const DETECTED_KIND = 'detected'

/**
 * Detection: the responder's own record of it (`ir case create --detected-at`, `ir case event --kind
 * detected`; the last one recorded wins, so a correction replaces an earlier guess), else a `detectedAt`
 * written into case.json by hand, else the moment the case was opened, said as such.
 */
export function detectionTime(
  meta: {created: string; detectedAt?: unknown},
  entries: readonly AuditLine[] = [],
): DetectionTime {
  const recorded = entries.filter(
    (e) =>
      e.action === 'timeline.event' &&
      detailsOf(e).kind === DETECTED_KIND &&
      typeof detailsOf(e).at === 'string' &&
      !Number.isNaN(Date.parse(String(detailsOf(e).at))),
  )
  const last = [...recorded].sort((a, b) => a.seq - b.seq).at(-1)
  if (last)
    return {
      at: new Date(String(detailsOf(last).at)).toISOString(),
      seq: last.seq,
      basis: 'detection time recorded by the responder',
    }
  if (typeof meta.detectedAt === 'string' && !Number.isNaN(Date.parse(meta.detectedAt))) {
    return {at: new Date(meta.detectedAt).toISOString(), basis: 'detection time in the case record'}
  }
  return {
    at: meta.created,
    basis: 'when the case was opened',
    open: 'the real detection time is not recorded: every "since detection" figure is a lower bound (record it with `ir case event <case> --kind detected --at <time>`)',
  }
}

function byTime(a: AuditLine, b: AuditLine): number {
  return Date.parse(a.time) - Date.parse(b.time) || a.seq - b.seq
}

function firstSuccess(sorted: readonly AuditLine[], action: string): AuditLine | undefined {
  return sorted.find((e) => e.action === action && e.outcome === 'success')
}

/**
 * The key times of the incident, from the audit entries:
 * - contained: first successful `isolate`;
 * - evidence secured: first successful `snapshot` or `collect`; when both exist, the later of the two firsts
 *   (the evidence is secured when both the filesystem and the logs are);
 * - credentials rotated: the last `rotate.summary` reporting nothing undecided and nothing skipped (a skipped
 *   credential still holds its old value); credentials marked as rotated elsewhere are named as unchecked;
 * - recovered: first successful `rebuild` (success means the rebuilt services are healthy).
 */
export function computeKeyTimes(entries: readonly AuditLine[], detected: DetectionTime): KeyTime[] {
  const sorted = [...entries].sort(byTime)
  const contained = firstSuccess(sorted, 'isolate')
  const snapshot = firstSuccess(sorted, 'snapshot')
  const collect = firstSuccess(sorted, 'collect')
  const secured = snapshot && collect ? (byTime(snapshot, collect) >= 0 ? snapshot : collect) : (snapshot ?? collect)
  const summaries = sorted.filter((e) => e.action === 'rotate.summary')
  const done = (e: AuditLine): boolean => detailsOf(e).remaining === 0 && (Number(detailsOf(e).skipped) || 0) === 0
  const lastSummary = summaries.at(-1)
  const rotated = lastSummary && done(lastSummary) ? summaries.filter(done).at(-1) : undefined
  const recovered = firstSuccess(sorted, 'rebuild')
  const at = (e: AuditLine | undefined): {at?: string; seq?: number} =>
    e ? {at: new Date(e.time).toISOString(), seq: e.seq} : {}
  return [
    {
      id: 'detected',
      label: 'Detected',
      at: detected.at,
      ...(detected.seq ? {seq: detected.seq} : {}),
      basis: detected.basis,
      ...(detected.open ? {open: detected.open} : {}),
    },
    {id: 'contained', label: 'Contained', ...at(contained), basis: 'first successful isolate'},
    {
      id: 'evidenceSecured',
      label: 'Evidence secured',
      ...at(secured),
      basis:
        snapshot && collect
          ? 'later of the first successful snapshot and the first successful collect'
          : 'first successful snapshot or collect',
    },
    {
      id: 'credentialsRotated',
      label: 'Credentials rotated',
      ...at(rotated),
      basis: 'last rotate summary with nothing undecided and nothing skipped',
      ...rotationOpen(lastSummary),
    },
    {id: 'recovered', label: 'Recovered', ...at(recovered), basis: 'first successful (healthy) rebuild'},
  ]
}

/** What the last rotation summary leaves open: skipped and undecided credentials, and those ir did not change itself. */
function rotationOpen(summary: AuditLine | undefined): {open?: string} {
  if (!summary) return {}
  const d = detailsOf(summary)
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  const names = (v: unknown): string => (Array.isArray(v) && v.length > 0 ? ` (${v.map(String).join(', ')})` : '')
  const parts: string[] = []
  if (n(d.skipped) > 0) parts.push(`${n(d.skipped)} skipped, still holding the old value${names(d.skippedNames)}`)
  if (n(d.remaining) > 0) parts.push(`${n(d.remaining)} not decided${names(d.remainingNames)}`)
  if (n(d.marked) > 0) parts.push(`${n(d.marked)} marked as rotated elsewhere, not checked by ir`)
  return parts.length > 0 ? {open: parts.join('; ')} : {}
}

/** Time to contain, time to recover and total duration (detection to the last audit entry). */
export function computeMetrics(keyTimes: readonly KeyTime[], entries: readonly AuditLine[]): ReportMetrics {
  const t = (id: KeyTime['id']): string | undefined => keyTimes.find((k) => k.id === id)?.at
  const detected = t('detected')
  const last = entries.reduce<number | undefined>((max, e) => {
    const ms = Date.parse(e.time)
    return Number.isNaN(ms) ? max : max === undefined || ms > max ? ms : max
  }, undefined)
  const between = (from: string | undefined, to: string | number | undefined): Duration | undefined => {
    if (from === undefined || to === undefined) return undefined
    const ms = (typeof to === 'number' ? to : Date.parse(to)) - Date.parse(from)
    return Number.isNaN(ms) ? undefined : duration(ms)
  }
  const timeToContain = between(detected, t('contained'))
  const timeToRecover = between(detected, t('recovered'))
  const totalDuration = between(detected, last)
  return {
    ...(timeToContain ? {timeToContain} : {}),
    ...(timeToRecover ? {timeToRecover} : {}),
    ...(totalDuration ? {totalDuration} : {}),
  }
}

export function duration(ms: number): Duration {
  return {ms, display: formatDuration(ms)}
}

/** 0s, 42s, 3m 05s, 2h 03m 10s, 1d 04h 05m. Sub-second precision is dropped (rounded down). */
export function formatDuration(ms: number): string {
  if (ms < 0) return `-${formatDuration(-ms)}`
  const total = Math.floor(ms / 1000)
  const d = Math.floor(total / 86_400)
  const h = Math.floor((total % 86_400) / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const p = (n: number): string => String(n).padStart(2, '0')
  if (d > 0) return `${d}d ${p(h)}h ${p(m)}m`
  if (h > 0) return `${h}h ${p(m)}m ${p(s)}s`
  if (m > 0) return `${m}m ${p(s)}s`
  return `${s}s`
}
