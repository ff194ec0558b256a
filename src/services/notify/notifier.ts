import type {AuditLine, AuditSink, NotifyTarget} from '../../case/audit-log.js'
import {redactDeep, redactText} from '../../util/redact.js'
import {deliver, type DeliveryResult, displayUrl, inferFormat, type NotifyFormat} from './webhook.js'

/** The commands that are response steps: each sends a start and an end message when it works on a case. */
export const STEP_COMMANDS = new Set([
  'isolate',
  'release',
  'snapshot',
  'collect',
  'rotate',
  'rebuild',
  'audit',
  'report',
])

/** Lines that are bookkeeping, not news: not quoted in a step's end message. */
const QUIET_ACTIONS = new Set([
  'evidence.add',
  'case.state',
  'case.open',
  'case.update',
  'evidence.partial',
  // The end message names the error itself.
  'command.failed',
])

export const NOTIFY_DEFAULTS = {timeoutMs: 3000, retries: 2, maxFindings: 25, maxInFlight: 4, quotedLines: 8}

export type NotifyEvent = 'step.start' | 'step.end' | 'finding' | 'playbook.start' | 'playbook.end'

/** The generic JSON message (`--notify-format json`). Slack gets `{"text": <text>}`. */
export interface NotifyMessage {
  source: 'ir'
  tool: string
  event: NotifyEvent
  caseId: string
  time: string
  /** The command or playbook action (isolate, snapshot, ...). */
  step?: string
  /** A playbook step's id. */
  stepId?: string
  target?: string
  outcome?: string
  exitCode?: number
  /** The step's own audit lines (end messages), each as recorded. */
  lines?: {seq: number; action: string; target?: string; outcome: string; msg: string}[]
  finding?: {check: string; severity: string; message: string; container: string; cis?: string}
  examiner?: string
  text: string
}

export interface NotifierSettings {
  url?: string
  /** Where the URL came from: --notify (or IR_NOTIFY_URL), or a playbook. */
  from?: string
  format?: NotifyFormat | 'auto'
  timeoutMs?: number
  retries?: number
  maxFindings?: number
  /** The oclif command id (isolate, case:verify, playbook:run, ...). */
  command: string
  tool: string
  examiner: string
  /** Debug lines (stderr with --debug). */
  debug?: (line: string) => void
}

export interface DeliveryRecord {
  caseId: string
  caseDir: string
  event: NotifyEvent
  step?: string
  stepId?: string
  target?: string
  format: NotifyFormat
  endpoint: string
  result: DeliveryResult
}

interface CaseState {
  dir: string
  /** The command's step started on this case (start message sent). */
  started: boolean
  /** Lines since the current step started, quoted in its end message. */
  lines: AuditLine[]
  findings: number
  findingsDropped: number
}

interface Pending {
  record: Omit<DeliveryRecord, 'result'>
  done: Promise<DeliveryResult>
  result?: DeliveryResult
}

const ICON: Record<string, string> = {success: '✓', failure: '✗', partial: '◐', skipped: '–', info: '▶'}

/**
 * Turns a command's audit lines into webhook messages: a start and an end message for each response
 * step (a step command, or a playbook step), one per hardening-audit finding, and the playbook's start
 * and end. It is the store's event sink (one hook for every command); messages are sent in the
 * background, each with a timeout and bounded retries, and never fail or hold up the response:
 * drain() waits for what is still in flight for a bounded time at the end of the command.
 */
export class Notifier implements AuditSink {
  private url: string | undefined
  private from: string | undefined
  private format: NotifyFormat = 'json'
  private readonly timeoutMs: number
  private readonly retries: number
  private readonly maxFindings: number
  private readonly cases = new Map<string, CaseState>()
  private readonly pending: Pending[] = []
  private readonly end = new AbortController()
  private inFlight = 0
  private readonly waiting: (() => void)[] = []
  private sent = 0

  constructor(private readonly settings: NotifierSettings) {
    this.timeoutMs = settings.timeoutMs ?? NOTIFY_DEFAULTS.timeoutMs
    this.retries = settings.retries ?? NOTIFY_DEFAULTS.retries
    this.maxFindings = settings.maxFindings ?? NOTIFY_DEFAULTS.maxFindings
    if (settings.url) this.setTarget(settings.url, settings.format ?? 'auto', settings.from ?? '--notify')
  }

  get enabled(): boolean {
    return this.url !== undefined
  }

  /** The webhook as recorded: scheme, host and port, never its path or query. */
  get endpoint(): string | undefined {
    return this.url === undefined ? undefined : displayUrl(this.url)
  }

  get source(): string | undefined {
    return this.from
  }

  private setTarget(url: string, format: NotifyFormat | 'auto', from: string): void {
    this.url = url
    this.from = from
    this.format = format === 'auto' ? inferFormat(url) : format
  }

  /** A playbook's `notify:`: used only when neither --notify nor IR_NOTIFY_URL named a webhook. */
  useTarget(target: NotifyTarget, from: string): void {
    if (this.url !== undefined) return
    this.setTarget(target.url, target.format ?? 'auto', from)
    this.settings.debug?.(`notify: webhook ${displayUrl(target.url)} from ${from}`)
  }

  private state(caseId: string, dir: string): CaseState {
    let s = this.cases.get(caseId)
    if (!s) {
      s = {dir, started: false, lines: [], findings: 0, findingsDropped: 0}
      this.cases.set(caseId, s)
    }
    if (dir) s.dir = dir
    return s
  }

  /** The command opened a case: a step command announces its start. */
  commandStarted(caseId: string, caseDir: string, title?: string): void {
    if (this.url === undefined || !STEP_COMMANDS.has(this.settings.command)) return
    const s = this.state(caseId, caseDir)
    if (s.started) return
    s.started = true
    s.lines = []
    const step = this.settings.command
    this.send(caseDir, {
      event: 'step.start',
      caseId,
      step,
      outcome: 'info',
      examiner: this.settings.examiner,
      text: `[${caseId}] ▶ ${step} started by ${this.settings.examiner}${title ? ` (${title})` : ''}`,
    })
  }

  /** The command ended: each step it started gets its end message, quoting the lines it recorded. */
  commandEnded(exitCode: number, error?: string): void {
    for (const [caseId, s] of this.cases) {
      if (!s.started) continue
      s.started = false
      const lines = s.lines.filter((l) => !QUIET_ACTIONS.has(l.action))
      s.lines = []
      const outcome =
        exitCode !== 0
          ? 'failure'
          : lines.some((l) => l.outcome === 'failure' || l.outcome === 'partial')
            ? 'partial'
            : 'success'
      const step = this.settings.command
      const head = `[${caseId}] ${ICON[outcome]} ${step} ${outcome === 'success' ? 'finished' : outcome === 'partial' ? 'finished with problems' : `failed (exit ${exitCode})`}`
      this.send(s.dir, {
        event: 'step.end',
        caseId,
        step,
        outcome,
        exitCode,
        lines: quote(lines),
        text: [head, ...(error && exitCode !== 0 ? [error] : []), ...quoteText(lines)].join('\n'),
      })
    }
  }

  appended(line: AuditLine, caseDir: string): void {
    if (this.url === undefined || line.action.startsWith('notify.')) return
    const s = this.state(line.caseId, caseDir)
    const details = line.details ?? {}
    switch (line.action) {
      case 'playbook.start':
      case 'playbook.resume': {
        this.send(caseDir, {
          event: 'playbook.start',
          caseId: line.caseId,
          target: line.target,
          outcome: 'info',
          examiner: line.actor,
          text: `[${line.caseId}] ▶ ${line.msg} by ${line.actor}`,
        })
        return
      }
      case 'playbook.end': {
        this.send(caseDir, {
          event: 'playbook.end',
          caseId: line.caseId,
          target: line.target,
          outcome: line.outcome,
          text: `[${line.caseId}] ${ICON[line.outcome] ?? ''} ${line.msg}`,
        })
        return
      }
      case 'playbook.step': {
        const step = typeof details.action === 'string' ? details.action : undefined
        if (line.outcome === 'info') {
          s.lines = []
          this.send(caseDir, {
            event: 'step.start',
            caseId: line.caseId,
            ...(step ? {step} : {}),
            stepId: line.target,
            outcome: 'info',
            text: `[${line.caseId}] ▶ ${line.msg}`,
          })
          return
        }
        const lines = s.lines.filter((l) => !QUIET_ACTIONS.has(l.action))
        s.lines = []
        this.send(caseDir, {
          event: 'step.end',
          caseId: line.caseId,
          ...(step ? {step} : {}),
          stepId: line.target,
          outcome: line.outcome,
          lines: quote(lines),
          text: [`[${line.caseId}] ${ICON[line.outcome] ?? ''} ${line.msg}`, ...quoteText(lines)].join('\n'),
        })
        return
      }
      case 'audit.hardening':
        this.findings(line, s, caseDir)
        break
      default:
        break
    }
    s.lines.push(line)
  }

  private findings(line: AuditLine, s: CaseState, caseDir: string): void {
    const containers = (line.details as {containers?: unknown} | undefined)?.containers
    if (!Array.isArray(containers)) return
    for (const c of containers as {name?: string; findings?: unknown}[]) {
      if (!Array.isArray(c.findings)) continue
      for (const f of c.findings as {
        check?: string
        severity?: string
        message?: string
        cis?: string
        kind?: string
      }[]) {
        // Manual checks and checks that need the host are not findings.
        if (f.kind !== undefined && f.kind !== 'fail') continue
        if (s.findings >= this.maxFindings) {
          s.findingsDropped++
          continue
        }
        s.findings++
        const finding = {
          check: String(f.check ?? ''),
          severity: String(f.severity ?? ''),
          message: String(f.message ?? ''),
          container: String(c.name ?? ''),
          ...(f.cis ? {cis: String(f.cis)} : {}),
        }
        this.send(caseDir, {
          event: 'finding',
          caseId: line.caseId,
          step: 'audit',
          target: finding.container,
          finding,
          text: `[${line.caseId}] finding ${finding.severity.toUpperCase()} ${finding.check}${finding.cis ? ` (CIS ${finding.cis})` : ''} on ${finding.container}: ${finding.message}`,
        })
      }
    }
  }

  private send(caseDir: string, m: Omit<NotifyMessage, 'source' | 'tool' | 'time'>): void {
    if (this.url === undefined || this.end.signal.aborted) return
    const url = this.url
    const format = this.format
    // Every text of the message passes the project's redaction (values of secret names, URL
    // passwords, webhooks, token shapes), then control characters are made visible.
    const message = redactDeep({
      source: 'ir',
      tool: this.settings.tool,
      time: new Date().toISOString(),
      ...m,
      text: visible(redactText(m.text)),
    })
    const body = format === 'slack' ? {text: slackEscape(message.text)} : message
    const record: Omit<DeliveryRecord, 'result'> = {
      caseId: m.caseId,
      caseDir,
      event: m.event,
      ...(m.step ? {step: m.step} : {}),
      ...(m.stepId ? {stepId: m.stepId} : {}),
      ...(m.target ? {target: redactText(m.target)} : {}),
      format,
      endpoint: displayUrl(url),
    }
    this.sent++
    const p: Pending = {record, done: Promise.resolve({ok: false, attempts: 0, durationMs: 0})}
    p.done = this.slot()
      .then(() => deliver(url, body, {timeoutMs: this.timeoutMs, retries: this.retries, signal: this.end.signal}))
      .catch((e: unknown): DeliveryResult => ({
        ok: false,
        attempts: 0,
        durationMs: 0,
        error: String((e as Error).message),
      }))
      .then((r) => {
        this.release()
        p.result = r
        this.settings.debug?.(
          `notify: ${m.event}${m.step ? ` ${m.step}` : ''} → ${record.endpoint}: ${r.ok ? 'delivered' : `not delivered (${r.error})`} after ${r.attempts} attempt(s)`,
        )
        return r
      })
    this.pending.push(p)
  }

  private slot(): Promise<void> {
    if (this.inFlight < NOTIFY_DEFAULTS.maxInFlight) {
      this.inFlight++
      return Promise.resolve()
    }
    return new Promise((resolve) => this.waiting.push(() => resolve()))
  }

  private release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.inFlight--
  }

  /** Findings not sent because of the cap, per case. */
  dropped(): {caseId: string; findings: number}[] {
    return [...this.cases]
      .filter(([, s]) => s.findingsDropped > 0)
      .map(([caseId, s]) => ({caseId, findings: s.findingsDropped}))
  }

  /**
   * Wait for the messages still in flight, at most budgetMs (default: one timeout), then give up on
   * the rest (they are recorded as not delivered). Returns every message's delivery.
   */
  async drain(budgetMs = this.timeoutMs): Promise<DeliveryRecord[]> {
    if (this.pending.length === 0) return []
    let timer: NodeJS.Timeout | undefined
    const all = Promise.all(this.pending.map((p) => p.done))
    await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))])
    clearTimeout(timer)
    // Anything still going is ended now: fetch and backoff waits listen to this signal.
    this.end.abort()
    for (const w of this.waiting.splice(0)) w()
    await all
    return this.pending.map((p) => ({...p.record, result: p.result ?? {ok: false, attempts: 0, durationMs: 0}}))
  }
}

function quote(lines: AuditLine[]): NotifyMessage['lines'] {
  return lines.slice(-NOTIFY_DEFAULTS.quotedLines).map((l) => ({
    seq: l.seq,
    action: l.action,
    ...(l.target === undefined ? {} : {target: l.target}),
    outcome: l.outcome,
    msg: l.msg,
  }))
}

function quoteText(lines: AuditLine[]): string[] {
  const shown = lines.slice(-NOTIFY_DEFAULTS.quotedLines)
  return [
    ...(lines.length > shown.length
      ? [`… ${lines.length - shown.length} earlier line(s) in the case's audit log`]
      : []),
    ...shown.map((l) => `${ICON[l.outcome] ?? '·'} ${l.msg}`),
  ]
}

/** Control characters from containers shown as escapes, as everywhere else in ir. */
function visible(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const n = c.charCodeAt(0)
    return n > 0xff ? `\\u${n.toString(16).padStart(4, '0')}` : `\\x${n.toString(16).padStart(2, '0')}`
  })
}

/** Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
