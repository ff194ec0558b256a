import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {Case} from '../../case/case-store.js'
import type {Artifact} from '../../case/manifest.js'
import {exportIndexes, readExportIndex} from '../evidence/export-index.js'
import type {TarIndexEntry} from '../evidence/tar-index.js'
import {containerPath} from './timeline-bodyfile.js'
import {sha256} from '../../util/fs.js'
import {redactDeep} from '../../util/redact.js'
import {AbortError} from '../../errors.js'
import {type AuditEntry, detailsOf, readAuditEntries} from './audit-entries.js'
import type {TimelineRow} from './types.js'

export const RESPONDER_EVENT_ACTION = 'timeline.event'
/** Audit lines that record a state file's hash (see Case.writeTracked). */
export const STATE_ACTION = 'case.state'

/**
 * The incident timeline: one row per audit line (an unreadable line still gets a row, so none
 * disappears silently), plus one row per responder-added event (`ir case event`) at the time it
 * happened. Sorted by time; ties keep the audit order. `case.state` lines (the hash of a state file
 * at each change, for verification) stay too: the timeline is the whole record.
 */
export function buildTimeline(entries: readonly AuditEntry[]): TimelineRow[] {
  const rows: Array<TimelineRow & {order: number}> = []
  let lastTime = ''
  for (const [i, e] of entries.entries()) {
    if (!e.readable) {
      rows.push({
        kind: 'audit',
        time: lastTime,
        seq: e.line,
        actor: '',
        action: '(unreadable line)',
        outcome: 'unreadable',
        msg: `audit.log line ${e.line} is not a valid audit entry (see the verification result)`,
        order: i * 2,
      })
      continue
    }
    const time = isoOr(e.time, lastTime)
    lastTime = time
    rows.push({
      kind: 'audit',
      time,
      seq: e.seq,
      actor: e.actor ?? '',
      action: e.action,
      ...(e.target === undefined || e.target === null ? {} : {target: String(e.target)}),
      outcome: e.outcome,
      msg: e.msg ?? '',
      order: i * 2,
    })
    if (e.action === RESPONDER_EVENT_ACTION) {
      const d = detailsOf(e)
      const message = typeof d.message === 'string' ? d.message : e.msg
      rows.push({
        kind: 'responder',
        time: isoOr(d.at, time),
        seq: e.seq,
        actor: e.actor ?? '',
        action: d.kind === 'detected' ? 'detected' : 'responder event',
        outcome: 'info',
        msg: message ?? '',
        order: i * 2 + 1,
      })
    }
  }
  rows.sort(
    (a, b) =>
      Date.parse(a.time || '1970-01-01T00:00:00Z') - Date.parse(b.time || '1970-01-01T00:00:00Z') || a.order - b.order,
  )
  return redactDeep(rows.map(({order: _order, ...row}) => row))
}

function isoOr(value: unknown, fallback: string): string {
  if (typeof value !== 'string') return fallback
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? fallback : new Date(ms).toISOString()
}

/**
 * A row in Timesketch's import format: the columns it requires, `message`, `datetime` (ISO 8601 with
 * an offset, here always +00:00 with six fraction digits) and `timestamp_desc`, and `timestamp`, the
 * same instant in microseconds since the epoch; then ours.
 */
export interface TimesketchRow {
  message: string
  datetime: string
  timestamp: number
  timestamp_desc: string
  /** The audit line (null for a file's modification time and a capture, which are not audit lines). */
  seq: number | null
  actor: string
  action: string
  target: string
  outcome: string
  case_id: string
  /** A file's path in its container, or the captured artifact's path in the case. */
  path: string
  /** The evidence the row comes from (the export index, or the captured artifact). */
  artifact: string
}

export const TIMESKETCH_COLUMNS: ReadonlyArray<keyof TimesketchRow> = [
  'message',
  'datetime',
  'timestamp',
  'timestamp_desc',
  'seq',
  'actor',
  'action',
  'target',
  'outcome',
  'case_id',
  'path',
  'artifact',
]

/** timestamp_desc of each kind of row (a file's is plaso's name for it, as Timesketch shows plaso's). */
export const TIMESTAMP_DESC = {
  audit: 'ir audit entry',
  fileModified: 'Content Modification Time',
  capture: 'Live State Capture Time',
  processStart: 'Process Start Time',
} as const

/**
 * An ISO 8601 time as Timesketch's pair: `datetime` 2026-11-27T10:05:00.123456+00:00 and `timestamp`
 * in microseconds, the same instant (fraction digits beyond the millisecond kept up to six, not
 * rounded through a float). Undefined when the text is not a time.
 */
export function timesketchTime(iso: string): {datetime: string; timestamp: number} | undefined {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return undefined
  const seconds = Math.floor(ms / 1000)
  const digits = /T\d{2}:\d{2}:\d{2}[.,](\d+)/.exec(iso)?.[1]
  const fraction = digits === undefined ? (ms - seconds * 1000) * 1000 : Number(digits.slice(0, 6).padEnd(6, '0'))
  const datetime = `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(fraction).padStart(6, '0')}+00:00`
  return {datetime, timestamp: seconds * 1_000_000 + fraction}
}

/** Artifacts that record the live state of a container at one moment (their capture is a timeline event). */
const LIVE_STATE_TYPES = new Set([
  'process-list',
  'container-diff',
  'mounts',
  'recovered-executable',
  'process-memory',
  'process-memory-map',
])
export function isLiveStateCapture(type: string): boolean {
  return LIVE_STATE_TYPES.has(type) || type.startsWith('live-')
}

/**
 * The audit and responder rows in Timesketch's columns. A row without a time of its own (an unreadable
 * first line) takes `fallbackTime` (the case's opening), so every row has one.
 */
export function toTimesketch(rows: readonly TimelineRow[], caseId: string, fallbackTime?: string): TimesketchRow[] {
  const fallback = timesketchTime(fallbackTime ?? '') ?? timesketchTime('1970-01-01T00:00:00Z')!
  return rows.map((r) => ({
    message: r.kind === 'responder' ? r.msg : r.msg || `${r.action}${r.target ? ` ${r.target}` : ''}: ${r.outcome}`,
    ...(timesketchTime(r.time) ?? fallback),
    timestamp_desc: r.kind === 'responder' ? r.action : TIMESTAMP_DESC.audit,
    seq: r.seq,
    actor: r.actor,
    action: r.action,
    target: r.target ?? '',
    outcome: r.outcome,
    case_id: caseId,
    path: '',
    artifact: '',
  }))
}

/** One row per live-state capture of the manifest (process list, docker diff, mounts, live-*), at its collection time. */
export function captureRows(artifacts: readonly Artifact[], caseId: string): TimesketchRow[] {
  const out: TimesketchRow[] = []
  for (const a of artifacts) {
    const at = isLiveStateCapture(a.type) ? timesketchTime(a.collectedAt) : undefined
    if (!at) continue
    const container = a.source?.containerName ?? a.source?.containerId ?? ''
    out.push({
      message: `Live state captured: ${a.description ?? a.type}`,
      ...at,
      timestamp_desc: TIMESTAMP_DESC.capture,
      seq: null,
      actor: a.collectedBy,
      action: a.type,
      target: container.replace(/^\//, ''),
      outcome: 'success',
      case_id: caseId,
      path: a.path,
      artifact: a.id,
    })
  }
  return out
}

interface LiveProcessRecord {
  pid?: number
  nspid?: number
  name?: string
  cmdline?: string[]
  uid?: number[]
  startedAt?: string
  exe?: {path?: string; deleted?: boolean}
}

/**
 * One row per process start time of each live process table (`live-processes`, written by the live
 * capture of `ir snapshot`), read back and checked against its manifest SHA-256. The table is stored
 * redacted; the rows are redacted again like every timeline row.
 */
export async function processStartRows(kase: Case, artifacts: readonly Artifact[]): Promise<TimesketchRow[]> {
  const out: TimesketchRow[] = []
  for (const a of artifacts) {
    if (a.type !== 'live-processes') continue
    const bytes = await readFile(join(kase.dir, a.path))
    if (sha256(bytes) !== a.sha256)
      throw new AbortError(`${a.path} does not match its manifest SHA-256`, {
        exit: 'INTEGRITY',
        hint: `Run ir case verify ${kase.id}.`,
      })
    const doc = JSON.parse(bytes.toString('utf8')) as {processes?: LiveProcessRecord[]}
    const container = (a.source?.containerName ?? a.source?.containerId ?? '').replace(/^\//, '')
    for (const p of doc.processes ?? []) {
      const at = p.startedAt ? timesketchTime(p.startedAt) : undefined
      if (!at) continue
      const pid = p.nspid ?? p.pid
      const cmd = (p.cmdline ?? []).join(' ')
      out.push({
        message: `Process ${pid} (${p.name ?? '?'}) of ${container || 'the container'} started${cmd ? `: ${cmd}` : ''}${p.exe?.deleted ? ' [executable deleted on disk]' : ''}`,
        ...at,
        timestamp_desc: TIMESTAMP_DESC.processStart,
        seq: null,
        actor: p.uid?.[0] === undefined ? '' : `uid ${p.uid[0]}`,
        action: 'process.start',
        target: container,
        outcome: '',
        case_id: kase.id,
        path: p.exe?.path ?? '',
        artifact: a.id,
      })
    }
  }
  return redactDeep(out)
}

/** A file's modification time from an export index (none when the tar holds no mtime). */
export function fileRow(
  label: string,
  artifactId: string,
  e: TarIndexEntry,
  caseId: string,
): TimesketchRow | undefined {
  const at = e.mtime ? timesketchTime(e.mtime) : undefined
  if (!at) return undefined
  const path = containerPath(e.path)
  const what = e.type === 'file' || e.type === 'contiguous-file' ? `file, ${e.size} bytes` : e.type
  return {
    message: `${label}:${path}${e.type === 'symlink' && e.linkTarget !== undefined ? ` -> ${e.linkTarget}` : ''} modified (${what}, mode ${e.mode}, uid ${e.uid}, gid ${e.gid})`,
    ...at,
    timestamp_desc: TIMESTAMP_DESC.fileModified,
    seq: null,
    actor: '',
    action: 'file.modified',
    target: label,
    outcome: '',
    case_id: caseId,
    path,
    artifact: artifactId,
  }
}

/**
 * The case's timeline in Timesketch's columns (for `ir case timeline`): the audit and responder rows,
 * one row per live-state capture and per process start in a live process table, and one per file modification time of each filesystem export index
 * (each index checked against its manifest SHA-256). Sorted by timestamp; ties keep that order. Reads only.
 */
export async function exportTimeline(kase: Case): Promise<{caseId: string; rows: TimesketchRow[]}> {
  const rows = toTimesketch(buildTimeline(await readAuditEntries(kase.audit.path)), kase.id, kase.info.created)
  const manifest = await kase.manifest.read()
  rows.push(...captureRows(manifest.artifacts, kase.id))
  rows.push(...(await processStartRows(kase, manifest.artifacts)))
  for (const ref of await exportIndexes(kase)) {
    for await (const e of readExportIndex(kase, ref)) {
      const row = fileRow(ref.label, ref.artifact.id, e, kase.id)
      if (row) rows.push(row)
    }
  }
  const order = new Map(rows.map((r, i) => [r, i]))
  rows.sort((a, b) => a.timestamp - b.timestamp || order.get(a)! - order.get(b)!)
  return {caseId: kase.id, rows}
}

/** Kinds of responder event: a note, or the detection itself (which the report's metrics start from). */
export const EVENT_KINDS = ['note', 'detected'] as const
export type EventKind = (typeof EVENT_KINDS)[number]

export interface ResponderEventInput {
  /** When it happened: ISO 8601; without a zone it is taken as UTC. */
  at: string
  message: string
  /** Default `note`. */
  kind?: EventKind
}

/** Normalise a responder-given time to ISO 8601 UTC; without a zone designator it is UTC. */
export function parseEventTime(at: string): string {
  const s = at.trim()
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(s)
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(s)
  const candidate = dateOnly || hasZone ? s : `${s.replace(' ', 'T')}Z`
  const ms = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(candidate) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new AbortError(`Not an ISO 8601 time: "${at}"`, {
      exit: 'USAGE',
      hint: 'Use e.g. 2026-11-27T23:05:00Z (UTC) or 2026-11-28T00:05:00+01:00.',
    })
  }
  return new Date(ms).toISOString()
}

/** A detection time: ISO 8601 like any event time, and not in the future. */
export function parseDetectionTime(at: string): string {
  const iso = parseEventTime(at)
  if (Date.parse(iso) > Date.now() + 60_000) {
    throw new AbortError(`The detection time ${iso} is in the future`, {
      exit: 'USAGE',
      hint: 'Give the time the incident was noticed, e.g. 2026-11-27T22:41:00Z (UTC when no zone is given).',
    })
  }
  return iso
}

/** Add a responder event (something that happened outside ir: an alert, a call, a decision). */
export async function addResponderEvent(
  kase: Case,
  input: ResponderEventInput,
): Promise<{caseId: string; seq: number; at: string; kind: EventKind; message: string}> {
  const kind = input.kind ?? 'note'
  const at = kind === 'detected' ? parseDetectionTime(input.at) : parseEventTime(input.at)
  const message = input.message.trim() || (kind === 'detected' ? 'Incident detected' : '')
  if (message === '')
    throw new AbortError('The event message is empty', {exit: 'USAGE', hint: 'Give --message "what happened".'})
  const line = await kase.record({
    action: RESPONDER_EVENT_ACTION,
    outcome: 'info',
    details: {at, message, ...(kind === 'note' ? {} : {kind})},
    msg: kind === 'detected' ? `Detected at ${at}: ${message}` : `Responder event at ${at}: ${message}`,
  })
  return {caseId: kase.id, seq: line.seq, at, kind, message: String(line.details?.message ?? message)}
}
