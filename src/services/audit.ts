import {randomBytes} from 'node:crypto'

import type {Case} from '../case/case-store.js'
import {fileStamp} from '../case/ids.js'
import {type Resolved, resolveContainers} from '../docker/resolve.js'
import type {ContainerDetails, Engine} from '../docker/types.js'
import {AbortError, type ErrorInfo, errorMessage, toErrorInfo} from '../errors.js'
import {mapBounded} from '../util/concurrency.js'
import {
  type AuditSeverity,
  DEFAULT_MAX_IMAGE_AGE_DAYS,
  type Finding,
  type ImageFacts,
  type InspectDoc,
  type Pid1Observation,
  type SeverityCounts,
  atOrAbove,
  auditInspect,
  emptyCounts,
  imageAgeDays,
  SEVERITIES,
  summarize,
} from './audit/checks.js'
import {observePid1} from './audit/pid1.js'

export {type AuditSeverity, type Finding, SEVERITIES} from './audit/checks.js'

export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project'
export const HARDENING_AUDIT_EVIDENCE_TYPE = 'hardening-audit'
export const HARDENING_AUDIT_ACTION = 'audit.hardening'

export interface AuditOptions {
  engine: Engine
  /** Container names, full ids or unique id prefixes. */
  targets?: readonly string[]
  /** Every container (running or not) labelled com.docker.compose.project=<project>. */
  project?: string
  /** Every running container. */
  all?: boolean
  /** When given, the result is stored in the case as evidence and an audit entry; otherwise nothing is written. */
  kase?: Case
  maxImageAgeDays?: number
  now?: Date
  concurrency?: number
  /** The host's proc filesystem (default /proc); tests point it elsewhere to force the `docker top` path. */
  procRoot?: string
  signal?: AbortSignal
  progress?: (line: string) => void
}

export interface ContainerAudit {
  ref: string
  id: string
  name: string
  image: string
  imageId: string
  state: string
  pid1: Pid1Observation
  imageFacts: {id: string; created?: string; ageDays?: number; user?: string; error?: string}
  /** Most severe first. */
  findings: Finding[]
  counts: SeverityCounts
  /** 100 minus 25 per critical, 10 per high, 4 per medium, 1 per low; never below 0. */
  score: number
  /** No finding at or above low. */
  pass: boolean
}

export interface AuditResult {
  caseId?: string
  auditedAt: string
  scope: {targets?: string[]; project?: string; all?: boolean}
  maxImageAgeDays: number
  containers: ContainerAudit[]
  /** References that could not be resolved or audited. */
  failed: Array<{ref: string; error: ErrorInfo}>
  totals: SeverityCounts
  /** The evidence file, relative to the case folder, when stored in a case. */
  evidence?: string
  /** Every target was resolved and audited (says nothing about findings: see hasFindingsAtOrAbove). */
  ok: boolean
}

/** Whether any container has a finding at or above the threshold. */
export function hasFindingsAtOrAbove(result: AuditResult, threshold: AuditSeverity): boolean {
  return result.containers.some((c) => c.findings.some((f) => atOrAbove(f.severity, threshold)))
}

/**
 * The container-hardening audit: per container, the checks over its inspect document, the uid
 * actually running PID 1 and its image's age and default user. Read-only on the engine. With a
 * case, the result is stored as `hardening-audit` evidence and an `audit.hardening` entry.
 */
export async function auditContainers(opts: AuditOptions): Promise<AuditResult> {
  const now = opts.now ?? new Date()
  const maxImageAgeDays = opts.maxImageAgeDays ?? DEFAULT_MAX_IMAGE_AGE_DAYS
  const {resolved, failed} = await selectTargets(opts)
  const failures: AuditResult['failed'] = failed.map((f) => ({ref: f.ref, error: toErrorInfo(f.error)}))
  for (const f of failures) opts.progress?.(`✗ ${f.ref}: ${f.error.message}`)

  const audited = await mapBounded(resolved, opts.concurrency ?? 8, async (target) => {
    try {
      opts.signal?.throwIfAborted()
      return await auditOne(opts, target, now, maxImageAgeDays)
    } catch (error) {
      const info = toErrorInfo(error)
      opts.progress?.(`✗ ${target.ref}: ${info.message}`)
      failures.push({ref: target.ref, error: info})
      return undefined
    }
  })
  const containers = audited.filter((c): c is ContainerAudit => c !== undefined)
  const totals = emptyCounts()
  for (const c of containers) for (const s of SEVERITIES) totals[s] += c.counts[s]

  const result: AuditResult = {
    ...(opts.kase ? {caseId: opts.kase.id} : {}),
    auditedAt: now.toISOString(),
    scope: {...(opts.targets?.length ? {targets: [...opts.targets]} : {}), ...(opts.project ? {project: opts.project} : {}), ...(opts.all ? {all: true} : {})},
    maxImageAgeDays,
    containers,
    failed: failures,
    totals,
    ok: failures.length === 0,
  }
  if (opts.kase) return storeInCase(opts.kase, opts.engine, result)
  return result
}

async function selectTargets(opts: AuditOptions): Promise<{resolved: Resolved[]; failed: Array<{ref: string; error: AbortError}>}> {
  const refs = opts.targets ?? []
  if (!opts.project && !opts.all && refs.length === 0) {
    throw new AbortError('Nothing to audit: name containers, or use --project <name> or --all', {exit: 'USAGE', hint: 'ir audit web-1 worker-1 | ir audit --project shop | ir audit --all'})
  }
  const {resolved, failed} = refs.length > 0 ? await resolveContainers(opts.engine.containers, refs) : {resolved: [], failed: []}
  const seen = new Set(resolved.map((r) => r.id))
  const add = (rows: Array<{id: string; names: string[]}>): void => {
    for (const c of rows) {
      if (seen.has(c.id)) continue
      seen.add(c.id)
      const name = c.names[0] ?? c.id.slice(0, 12)
      resolved.push({ref: name, id: c.id, name})
    }
  }
  if (opts.project) {
    const rows = await opts.engine.containers.list({all: true, filters: {label: [`${COMPOSE_PROJECT_LABEL}=${opts.project}`]}})
    if (rows.length === 0) {
      failed.push({ref: opts.project, error: new AbortError(`No containers in compose project "${opts.project}"`, {exit: 'NOT_FOUND', hint: `Projects are found by the label ${COMPOSE_PROJECT_LABEL}; list them with \`docker compose ls -a\`.`})})
    }
    add(rows.sort((a, b) => (a.names[0] ?? '').localeCompare(b.names[0] ?? '')))
  }
  if (opts.all) {
    const rows = await opts.engine.containers.list({all: false})
    add(rows.sort((a, b) => (a.names[0] ?? '').localeCompare(b.names[0] ?? '')))
  }
  return {resolved, failed}
}

async function auditOne(opts: AuditOptions, target: Resolved, now: Date, maxImageAgeDays: number): Promise<ContainerAudit> {
  const d = await opts.engine.containers.inspect(target.id)
  const [pid1, image] = await Promise.all([observePid1(opts.engine, d, {...(opts.procRoot ? {procRoot: opts.procRoot} : {})}), imageFacts(opts.engine, d)])
  const findings = auditInspect(d.raw as InspectDoc, {pid1, image, now, maxImageAgeDays})
  const {counts, score, pass} = summarize(findings)
  const ageDays = imageAgeDays(image.created, now)
  opts.progress?.(`${pass ? '✓' : '!'} ${d.name}: ${counts.critical} critical, ${counts.high} high, ${counts.medium} medium, ${counts.low} low`)
  return {
    ref: target.ref,
    id: d.id,
    name: d.name,
    image: d.image,
    imageId: d.imageId,
    state: d.state,
    pid1,
    imageFacts: {...image, ...(ageDays === undefined ? {} : {ageDays})},
    findings,
    counts,
    score,
    pass,
  }
}

async function imageFacts(engine: Engine, d: ContainerDetails): Promise<ImageFacts> {
  try {
    const info = await engine.images.inspect(d.imageId || d.image)
    return {id: info.id, created: info.created, user: info.user}
  } catch (error) {
    return {id: d.imageId, error: errorMessage(error)}
  }
}

async function storeInCase(kase: Case, engine: Engine, result: AuditResult): Promise<AuditResult> {
  let evidence: string | undefined
  const single = result.containers.length === 1 ? result.containers[0] : undefined
  if (result.containers.length > 0) {
    const artifact = await kase.addJsonEvidence({
      name: `audit/hardening-audit-${fileStamp(new Date(result.auditedAt))}-${randomBytes(2).toString('hex')}.json`,
      type: HARDENING_AUDIT_EVIDENCE_TYPE,
      description: `Container-hardening audit of ${result.containers.map((c) => c.name).join(', ')}`,
      source: {engine: engine.endpoint, ...(single ? {containerId: single.id, containerName: single.name, image: single.image, imageId: single.imageId} : {})},
      meta: {containers: result.containers.length, totals: result.totals},
      data: {...result, caseId: kase.id},
    })
    evidence = artifact.path
  }
  const t = result.totals
  await kase.record({
    action: HARDENING_AUDIT_ACTION,
    target: result.scope.project ? `project ${result.scope.project}` : result.containers.map((c) => c.name).join(', ') || undefined,
    outcome: result.failed.length === 0 ? 'success' : result.containers.length > 0 ? 'partial' : 'failure',
    msg: `Hardening audit of ${result.containers.length} container(s): ${t.critical} critical, ${t.high} high, ${t.medium} medium, ${t.low} low${result.failed.length ? `; not audited: ${result.failed.map((f) => f.ref).join(', ')}` : ''}`,
    details: {
      containers: result.containers.map((c) => ({id: c.id, name: c.name, findings: c.findings.map((f) => ({check: f.id, severity: f.severity, message: f.message}))})),
      ...(result.failed.length ? {failed: result.failed.map((f) => ({ref: f.ref, error: f.error.message}))} : {}),
      ...(evidence ? {evidence} : {}),
    },
  })
  return {...result, caseId: kase.id, ...(evidence ? {evidence} : {})}
}
