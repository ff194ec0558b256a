import type {AuditLine} from '../../case/audit-log.js'
import type {CaseMeta} from '../../case/case-store.js'
import type {Artifact} from '../../case/manifest.js'
import {redactDeep} from '../../util/redact.js'
import type {VerifyResult} from '../../case/verify.js'
import {actionIs, type AuditEntry, detailsOf, readable, stringList} from './audit-entries.js'
import {computeKeyTimes, computeMetrics, detectionTime} from './metrics.js'
import {buildTimeline} from './timeline.js'
import {
  type AffectedContainer,
  type CredentialDecision,
  type CredentialsSection,
  type EvidenceRow,
  type HardeningFinding,
  type HardeningRun,
  type ProcessNode,
  type WhatHappened,
  NARRATIVE_SECTIONS,
  type NarrativeSection,
  type Phase,
  type PhaseActions,
  PHASES,
  type RebuildRun,
  REPORT_SCHEMA,
  type ReportAnswers,
  type ReportModel,
  type ReportStatus,
  type TimelineRow,
  type VerificationSummary,
  type CustodyRow,
} from './types.js'

export interface ReportInput {
  meta: CaseMeta & {detectedAt?: unknown}
  entries: readonly AuditEntry[]
  artifacts: readonly Artifact[]
  verification: VerifyResult
  answers: ReportAnswers
  status: ReportStatus
  generatedAt: string
  generatedBy: string
  tool: string
  /** The live process tables (live-processes artifacts) by path, for the process trees; read by the caller. */
  liveProcesses?: ReadonlyMap<string, readonly TreeProcess[]>
}

/** What a process tree needs of a live-processes entry (services/evidence/live/capture.ts LiveProcess). */
export interface TreeProcess {
  pid: number
  nspid?: number
  ppid: number
  name: string
  cmdline: string[]
}

/** Artifacts that are earlier versions of this report: listed as evidence, not as incident work. */
export function isReportArtifactType(type: string): boolean {
  return type.startsWith('report-')
}

/** Which response phase an audit action belongs to (undefined: not an action of a phase). */
export function phaseOf(e: {action: string; details?: Record<string, unknown>}): Phase | undefined {
  const a = e.action
  if (actionIs(a, 'isolate') || actionIs(a, 'release')) return 'containment'
  if (actionIs(a, 'snapshot') || actionIs(a, 'collect')) return 'evidence'
  if (a === 'evidence.add') return isReportArtifactType(String(e.details?.type ?? '')) ? undefined : 'evidence'
  if (actionIs(a, 'rotate')) return 'eradication'
  if (actionIs(a, 'rebuild') || actionIs(a, 'audit.hardening')) return 'recovery'
  return undefined
}

/** Build the report model from what the case holds. Pure: every input is passed in. */
export function buildReportModel(input: ReportInput): ReportModel {
  const lines = readable(input.entries)
  const timeline = buildTimeline(input.entries)
  const keyTimes = computeKeyTimes(lines, detectionTime(input.meta, lines))
  const metrics = computeMetrics(keyTimes, lines)
  const narrative: NarrativeSection[] = NARRATIVE_SECTIONS.map((s) => {
    const text = input.answers[s.key]
    return {id: s.key, title: s.title, ...(text ? {text} : {}), completed: Boolean(text)}
  })
  const actionItems = input.answers.action_items ?? []
  const missing = [
    ...narrative.filter((n) => !n.completed).map((n) => n.title),
    ...(actionItems.length === 0 ? ['Action items'] : []),
  ]
  const examiner = `${input.meta.examiner.user}@${input.meta.examiner.host}`
  const model: ReportModel = {
    schema: REPORT_SCHEMA,
    header: {
      caseId: input.meta.id,
      title: input.meta.title,
      ...(input.meta.severity ? {severity: input.meta.severity} : {}),
      status: input.status,
      authors: input.answers.authors?.length ? input.answers.authors : [examiner],
      examiner,
      caseCreated: input.meta.created,
      generatedAt: input.generatedAt,
      generatedBy: input.generatedBy,
      timezone: 'UTC',
      tool: input.tool,
    },
    impact: {
      ...affected(lines, input.artifacts),
      dataExposure: input.answers.data_exposure ?? 'unknown',
      whatHappened: whatHappened(lines, input.liveProcesses),
    },
    keyTimes,
    metrics,
    timeline,
    auditEntries: input.entries.length,
    actions: phases(lines, timeline),
    evidence: evidenceRows(input.artifacts, input.verification),
    verification: verificationSummary(input.verification),
    custody: custody(lines),
    credentials: credentials(lines),
    rebuilds: rebuilds(lines),
    hardening: hardening(lines),
    narrative,
    actionItems,
    completion: {
      completed: NARRATIVE_SECTIONS.length + 1 - missing.length,
      total: NARRATIVE_SECTIONS.length + 1,
      missing,
    },
  }
  // Last line of defence: every string of the model goes through the redaction of the case.
  return redactDeep(model)
}

function affected(
  lines: readonly AuditLine[],
  artifacts: readonly Artifact[],
): {containers: AffectedContainer[]; services: string[]} {
  const byName = new Map<string, AffectedContainer>()
  const get = (name: string): AffectedContainer => {
    let c = byName.get(name)
    if (!c) {
      c = {name, actions: [], artifacts: 0}
      byName.set(name, c)
    }
    return c
  }
  for (const e of lines) {
    if (!e.target) continue
    const name = ['isolate', 'release', 'snapshot', 'collect'].find((a) => actionIs(e.action, a))
    if (!name || e.outcome === 'failure') continue
    const c = get(String(e.target))
    if (!c.actions.includes(e.action)) c.actions.push(e.action)
  }
  const services = new Set<string>()
  for (const a of artifacts) {
    if (isReportArtifactType(a.type)) continue
    const name = a.source?.containerName ?? a.source?.containerId
    if (name) {
      const c = get(name)
      c.artifacts++
      if (a.source?.image && !c.image) c.image = a.source.image
    }
    for (const k of ['service', 'composeService']) if (typeof a.meta?.[k] === 'string') services.add(a.meta[k])
  }
  for (const e of lines) {
    const d = detailsOf(e)
    if (e.action === 'rebuild') for (const s of stringList(d.services)) services.add(s)
    if (e.action === 'rotate.summary') for (const s of stringList(d.servicesToRestart)) services.add(s)
  }
  return {containers: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), services: [...services].sort()}
}

function phases(lines: readonly AuditLine[], timeline: readonly TimelineRow[]): PhaseActions[] {
  const phaseBySeq = new Map<number, Phase>()
  for (const e of lines) {
    const p = phaseOf(e)
    if (p) phaseBySeq.set(e.seq, p)
  }
  return PHASES.map(({phase, title}) => {
    const entries = timeline.filter((r) => r.kind === 'audit' && phaseBySeq.get(r.seq) === phase)
    const outcomes: PhaseActions['outcomes'] = {}
    for (const r of entries) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1
    return {phase, title, outcomes, entries}
  })
}

function evidenceRows(artifacts: readonly Artifact[], v: VerifyResult): EvidenceRow[] {
  const status = new Map(v.artifacts.map((a) => [a.id, a.status]))
  return artifacts.map((a) => ({
    id: a.id,
    path: a.path,
    type: a.type,
    sha256: a.sha256,
    size: a.size,
    ...(a.description ? {description: a.description} : {}),
    ...(a.source ? {source: {...a.source}} : {}),
    collectedAt: a.collectedAt,
    collectedBy: a.collectedBy,
    verified: status.get(a.id) ?? 'not-checked',
  }))
}

function verificationSummary(v: VerifyResult): VerificationSummary {
  const bad = v.artifacts.filter((a) => a.status !== 'ok')
  return {
    ok: v.ok,
    verifiedAt: v.verifiedAt,
    artifactsChecked: v.artifacts.length,
    artifactsIntact: v.artifacts.length - bad.length,
    artifactProblems: bad.map((a) => ({id: a.id, path: a.path, status: a.status})),
    unlisted: [...v.unlisted],
    auditEntries: v.audit.entries,
    auditChainOk: v.audit.ok,
    auditProblems: v.audit.problems.map((p) => ({line: p.line, problem: p.problem})),
  }
}

/** The chain of custody: every successful seal, export and custody transfer in the audit chain, in its order. */
function custody(lines: readonly AuditLine[]): CustodyRow[] {
  const rows: CustodyRow[] = []
  for (const e of lines) {
    const d = e.details ?? {}
    if (e.action === 'case.seal' && e.outcome === 'success') {
      rows.push({
        at: e.time,
        event: 'sealed',
        by: `${String(d.signer ?? e.actor)} (${e.actor})`,
        what: `seal generation ${String(d.generation)}`,
        ...(typeof d.keyFingerprint === 'string' ? {keyFingerprint: d.keyFingerprint} : {}),
      })
    }
    if (e.action === 'case.transfer' && e.outcome === 'success') {
      const of = (d.of ?? {}) as {kind?: unknown; generation?: unknown; path?: unknown}
      const handed =
        of.kind === 'seal'
          ? `seal generation ${String(of.generation)} (SHA256SUMS)`
          : `archive ${String(of.path ?? '')}`
      rows.push({
        at: typeof d.at === 'string' ? d.at : e.time,
        event: 'transferred',
        by: String(d.from ?? e.actor),
        ...(typeof d.to === 'string' ? {to: d.to} : {}),
        what: typeof d.destination === 'string' ? `${handed} → ${d.destination}` : handed,
        ...(typeof d.reason === 'string' ? {reason: d.reason} : {}),
        ...(typeof d.sha256 === 'string' ? {sha256: d.sha256} : {}),
      })
    }
    if (e.action === 'case.export' && e.outcome === 'success') {
      rows.push({
        at: e.time,
        event: 'exported',
        by: e.actor,
        what: String(d.output ?? ''),
        ...(typeof d.sha256 === 'string' ? {sha256: d.sha256} : {}),
      })
    }
  }
  return rows
}

/** Credential decisions, names only: the last decision per credential wins. */
function credentials(lines: readonly AuditLine[]): CredentialsSection {
  const last = new Map<string, {decision: string; row: CredentialDecision}>()
  for (const e of lines) {
    if (e.action !== 'rotate.decision') continue
    const d = detailsOf(e)
    const name = typeof d.name === 'string' ? d.name : e.target
    if (!name) continue
    const kind = typeof d.kind === 'string' ? d.kind : undefined
    const row: CredentialDecision = {
      name,
      ...(kind ? {kind} : {}),
      sources: stringList(d.sources),
      ...(typeof d.reason === 'string' && d.reason ? {reason: d.reason} : {}),
      at: e.time,
    }
    last.set(`${kind ?? ''}\u0000${name}`, {decision: String(d.decision ?? ''), row})
  }
  const pick = (decision: string): CredentialDecision[] =>
    [...last.values()]
      .filter((x) => x.decision === decision)
      .map((x) => x.row)
      .sort((a, b) => a.name.localeCompare(b.name))
  const summary = lines.filter((e) => e.action === 'rotate.summary').at(-1)
  const sd = summary ? detailsOf(summary) : {}
  // `ir rotate` records the counts as top-level numbers (total, rotated, marked, skipped, remaining).
  const countSource =
    sd.counts && typeof sd.counts === 'object' && !Array.isArray(sd.counts)
      ? (sd.counts as Record<string, unknown>)
      : Object.fromEntries(
          ['total', 'rotated', 'marked', 'skipped', 'remaining'].filter((k) => k in sd).map((k) => [k, sd[k]]),
        )
  const countEntries = Object.entries(countSource).filter(([, n]) => typeof n === 'number') as Array<[string, number]>
  const counts = countEntries.length > 0 ? Object.fromEntries(countEntries) : undefined
  return {
    rotated: pick('generated'),
    markedRotated: pick('marked-rotated'),
    skipped: pick('skipped'),
    ...(summary
      ? {
          lastSummary: {
            at: summary.time,
            ...(typeof sd.remaining === 'number' ? {remaining: sd.remaining} : {}),
            servicesToRestart: stringList(sd.servicesToRestart ?? sd.restart),
            ...(counts ? {counts} : {}),
          },
        }
      : {}),
  }
}

function rebuilds(lines: readonly AuditLine[]): ReportModel['rebuilds'] {
  const steps = lines
    .filter((e) => e.action === 'rebuild.step')
    .map((e) => {
      const d = detailsOf(e)
      return {
        at: e.time,
        step: String(d.step ?? e.target ?? e.msg),
        ...(typeof d.durationMs === 'number' ? {durationMs: d.durationMs} : {}),
        outcome: e.outcome,
      }
    })
  const runs: RebuildRun[] = lines
    .filter((e) => e.action === 'rebuild')
    .map((e) => {
      const d = detailsOf(e)
      return {
        at: e.time,
        seq: e.seq,
        outcome: e.outcome,
        ...(typeof d.project === 'string' ? {project: d.project} : {}),
        services: stringList(d.services),
        imagesBefore: stringList(d.imagesBefore),
        imagesAfter: stringList(d.imagesAfter),
        unhealthy: stringList(d.unhealthy),
        msg: e.msg,
      }
    })
  return {steps, runs}
}

/**
 * The findings of the newest snapshot of each container (a later snapshot sees at least as much), and the IOCs
 * they name: files with their SHA-256, remote addresses, process names. Only what the audit line recorded: never
 * anything read from a forensic copy.
 */
/** The newest snapshot line per container that recorded findings (a later snapshot sees at least as much). */
export function newestSnapshots(lines: readonly AuditLine[]): Map<string, AuditLine> {
  const newest = new Map<string, AuditLine>()
  for (const e of lines)
    if (e.action === 'snapshot' && Array.isArray(detailsOf(e).findings)) newest.set(String(e.target ?? ''), e)
  return newest
}

/** The live-processes artifact a snapshot line names (its path ends in /processes.json under live-<stamp>/). */
export function liveProcessesPath(e: AuditLine): string | undefined {
  const arts = detailsOf(e).artifacts
  if (!Array.isArray(arts)) return undefined
  const hit = (arts as Array<{path?: unknown}>).find(
    (a) => typeof a.path === 'string' && /\/live-[^/]+\/processes\.json$/.test(a.path),
  )
  return hit?.path as string | undefined
}

/**
 * Parent before child, depth-first, children by pid: a process whose parent is not in the table is a root (the
 * container's pid 1, whose parent is the engine's shim, or a `docker exec`). Pids are the container's.
 */
export function processTree(procs: readonly TreeProcess[], flagged: ReadonlySet<number>): ProcessNode[] {
  const byPid = new Map(procs.map((p) => [p.pid, p]))
  const children = new Map<number, TreeProcess[]>()
  const roots: TreeProcess[] = []
  for (const p of procs) {
    if (p.ppid !== p.pid && byPid.has(p.ppid)) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p])
    else roots.push(p)
  }
  const shown = (p: TreeProcess): number => p.nspid ?? p.pid
  const order = (a: TreeProcess, b: TreeProcess): number => shown(a) - shown(b)
  const out: ProcessNode[] = []
  const seen = new Set<number>()
  const walk = (p: TreeProcess, depth: number): void => {
    if (seen.has(p.pid)) return
    seen.add(p.pid)
    const cmd = p.cmdline.join(' ')
    out.push({
      pid: shown(p),
      name: p.name,
      cmdline: cmd.length > 200 ? `${cmd.slice(0, 199)}…` : cmd,
      depth,
      flagged: flagged.has(shown(p)),
    })
    for (const c of [...(children.get(p.pid) ?? [])].sort(order)) walk(c, depth + 1)
  }
  for (const r of roots.sort(order)) walk(r, 0)
  return out
}

/**
 * The findings of the newest snapshot of each container (a later snapshot sees at least as much), and the IOCs
 * they name: files with their SHA-256, remote addresses, process names. Only what the audit line recorded: never
 * anything read from a forensic copy. With the live process tables, the process tree of each container.
 */
export function whatHappened(
  lines: readonly AuditLine[],
  liveProcesses: ReadonlyMap<string, readonly TreeProcess[]> = new Map(),
): WhatHappened {
  const newest = newestSnapshots(lines)
  const out: WhatHappened = {findings: [], iocs: [], processTrees: []}
  const seenIoc = new Set<string>()
  for (const [container, e] of newest) {
    for (const raw of detailsOf(e).findings as Array<Record<string, unknown>>) {
      out.findings.push({
        container,
        at: e.time,
        severity: String(raw.severity ?? ''),
        id: String(raw.id ?? ''),
        message: String(raw.message ?? ''),
        ...(typeof raw.artifact === 'string' ? {artifact: raw.artifact} : {}),
      })
      for (const i of (Array.isArray(raw.iocs) ? raw.iocs : []) as Array<Record<string, unknown>>) {
        const key = `${container}|${String(i.type)}|${String(i.value)}`
        if (seenIoc.has(key)) continue
        seenIoc.add(key)
        out.iocs.push({
          container,
          type: String(i.type ?? ''),
          value: String(i.value ?? ''),
          ...(typeof i.sha256 === 'string' ? {sha256: i.sha256} : {}),
        })
      }
    }
  }
  for (const [container, e] of newest) {
    const artifact = liveProcessesPath(e)
    const procs = artifact ? liveProcesses.get(artifact) : undefined
    if (!artifact || !procs?.length) continue
    const flagged = new Set<number>()
    for (const f of detailsOf(e).findings as Array<Record<string, unknown>>)
      if (typeof f.pid === 'number') flagged.add(f.pid)
    out.processTrees.push({container, artifact, nodes: processTree(procs, flagged)})
  }
  const rank: Record<string, number> = {critical: 0, high: 1, medium: 2, low: 3}
  out.findings.sort((a, b) => (rank[a.severity] ?? 9) - (rank[b.severity] ?? 9))
  return out
}

function hardening(lines: readonly AuditLine[]): HardeningRun[] {
  return lines
    .filter((e) => e.action === 'audit.hardening')
    .map((e) => {
      const d = detailsOf(e)
      const findings: HardeningFinding[] = []
      const containers = normalizeContainers(d.containers)
      for (const c of containers) {
        for (const f of c.findings) {
          findings.push({
            container: c.name,
            check: String(f.check ?? ''),
            ...(typeof f.cis === 'string'
              ? {cis: `${f.cis}${typeof f.level === 'number' ? ` (L${f.level})` : ''}`}
              : {}),
            severity: String(f.severity ?? ''),
            message: String(f.message ?? ''),
          })
        }
      }
      return {
        at: e.time,
        seq: e.seq,
        outcome: e.outcome,
        containers: containers.length,
        findings,
        msg: e.msg,
      }
    })
}

type RawFinding = {check?: unknown; severity?: unknown; message?: unknown; cis?: unknown; level?: unknown}

/** details.containers as a list of {name|container|id, findings} or a map name -> findings. */
function normalizeContainers(v: unknown): Array<{name: string; findings: RawFinding[]}> {
  const findingsOf = (x: unknown): RawFinding[] =>
    Array.isArray(x) ? x.filter((f): f is RawFinding => typeof f === 'object' && f !== null) : []
  if (Array.isArray(v)) {
    return v
      .filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null)
      .map((c) => ({name: String(c.name ?? c.container ?? c.id ?? '?'), findings: findingsOf(c.findings)}))
  }
  if (v && typeof v === 'object')
    return Object.entries(v as Record<string, unknown>).map(([name, f]) => ({
      name,
      findings: findingsOf(Array.isArray(f) ? f : (f as {findings?: unknown})?.findings),
    }))
  return []
}
