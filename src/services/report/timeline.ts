import type {Case} from '../../case/case-store.js'
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

/** A row in Timesketch's import format (CSV/JSONL columns message, datetime, timestamp_desc) plus ours. */
export interface TimesketchRow {
  message: string
  datetime: string
  timestamp_desc: string
  seq: number
  actor: string
  action: string
  target: string
  outcome: string
  case_id: string
}

export const TIMESKETCH_COLUMNS: ReadonlyArray<keyof TimesketchRow> = [
  'message',
  'datetime',
  'timestamp_desc',
  'seq',
  'actor',
  'action',
  'target',
  'outcome',
  'case_id',
]

export function toTimesketch(rows: readonly TimelineRow[], caseId: string): TimesketchRow[] {
  return rows.map((r) => ({
    message: r.kind === 'responder' ? r.msg : r.msg || `${r.action}${r.target ? ` ${r.target}` : ''}: ${r.outcome}`,
    datetime: r.time,
    timestamp_desc: r.kind === 'responder' ? r.action : 'ir audit entry',
    seq: r.seq,
    actor: r.actor,
    action: r.action,
    target: r.target ?? '',
    outcome: r.outcome,
    case_id: caseId,
  }))
}

/** The case's timeline in Timesketch's columns (for `ir case timeline`). Reads only. */
export async function exportTimeline(kase: Case): Promise<{caseId: string; rows: TimesketchRow[]}> {
  return {caseId: kase.id, rows: toTimesketch(buildTimeline(await readAuditEntries(kase.audit.path)), kase.id)}
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
