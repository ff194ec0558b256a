import {randomBytes} from 'node:crypto'
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {Case, CaseStore} from '../case/case-store.js'
import {fileStamp} from '../case/ids.js'
import {type Resolved, resolveContainers} from './targets.js'
import type {ContainerDetails, Engine} from '../docker/types.js'
import {engineKind} from '../docker/engine-kind.js'
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
  sortFindings,
  summarize,
} from './audit/checks.js'
import {observePid1} from './audit/pid1.js'
import {BENCHMARK, CIS_RECOMMENDATIONS, type CisLevel, matchesOnly} from './audit/catalogue.js'
import {type DaemonFacts, daemonOutcomes, outcomeToFinding} from './audit/daemon.js'
import {readHostFacts} from './audit/host-facts.js'
import {type RuntimeFacts, ulimitsOf} from './audit/runtime-checks.js'
import {findContainment, findIsolatingCase, readContainment} from './containment-state.js'

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
  /** Every container, running or not (stopped ones are flagged). Implies the engine checks. */
  all?: boolean
  /** Also audit the engine and its host (CIS sections 2, 3, 4.5, 5.1 and 7). */
  daemon?: boolean
  /** CIS profile level: 1 keeps only Level 1 checks; 2 (default) keeps all. */
  level?: CisLevel
  /** Container name patterns (`*` and `?` wildcards) left out. */
  exclude?: readonly string[]
  /** Keep only these checks: ir ids, CIS ids (`5.8`) or sections (`5`). */
  only?: readonly string[]
  /** Where to look for containers isolated by ir (their cases' containment records). */
  store?: CaseStore
  /** ir's environment, for the client-side content-trust check (default process.env). */
  env?: NodeJS.ProcessEnv
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
  /** Not running (created, exited, dead): audited from its configuration. */
  stopped: boolean
  /** Isolated by ir: from a case's containment record, or because it is paused with no network. */
  quarantined?: {caseId?: string; note: string}
  /** CIS ids of the automated container checks that were evaluated and passed. */
  passed: string[]
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

export interface EngineAudit {
  endpoint: string
  /** ir runs on the engine's host and found its dockerd (command line, daemon.json and files were read). */
  local: boolean
  note?: string
  dockerd?: {pid: number; configFile: string; configExists: boolean}
  findings: Finding[]
  passed: string[]
  notApplicable: string[]
  counts: SeverityCounts
}

export interface ManualCheck {
  cis: string
  title: string
  level: CisLevel
  look: string
  /** What ir saw that helps (ports, ulimits). */
  details?: string[]
}

export interface AuditResult {
  caseId?: string
  auditedAt: string
  benchmark: {name: string; version: string}
  level: CisLevel
  scope: {targets?: string[]; project?: string; all?: boolean; daemon?: boolean; exclude?: string[]; only?: string[]}
  maxImageAgeDays: number
  engine?: EngineAudit
  containers: ContainerAudit[]
  /** Container names left out by --exclude. */
  excluded: string[]
  /** Manual recommendations of the benchmark: what to look at. */
  manual: ManualCheck[]
  /** References that could not be resolved or audited. */
  failed: Array<{ref: string; error: ErrorInfo}>
  totals: SeverityCounts
  /** The evidence file, relative to the case folder, when stored in a case. */
  evidence?: string
  /** Every target was resolved and audited (says nothing about findings: see hasFindingsAtOrAbove). */
  ok: boolean
}

/** Whether any failed check (not manual, not needs-local-access) is at or above the threshold. */
export function hasFindingsAtOrAbove(result: AuditResult, threshold: AuditSeverity): boolean {
  const failed = (f: Finding): boolean => (f.kind ?? 'fail') === 'fail' && atOrAbove(f.severity, threshold)
  return result.containers.some((c) => c.findings.some(failed)) || (result.engine?.findings.some(failed) ?? false)
}

export function globToRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  )
}

interface Filters {
  level: CisLevel
  only: readonly string[]
}

function keep(f: Finding, filters: Filters): boolean {
  if ((f.level ?? 1) > filters.level) return false
  return matchesOnly(filters.only, f.id, f.cis)
}

const CONTAINER_MANUAL = CIS_RECOMMENDATIONS.filter(
  (r) => !r.automated && (r.scope === 'container' || r.scope === 'image'),
)
const CONTAINER_AUTOMATED = CIS_RECOMMENDATIONS.filter(
  (r) => r.automated && (r.scope === 'container' || r.scope === 'image'),
)

/**
 * The container-hardening audit: per container, the checks over its inspect document, the uid
 * actually running PID 1 and its image's age and default user. Read-only on the engine. With a
 * case, the result is stored as `hardening-audit` evidence and an `audit.hardening` entry.
 */
export async function auditContainers(opts: AuditOptions): Promise<AuditResult> {
  const now = opts.now ?? new Date()
  const maxImageAgeDays = opts.maxImageAgeDays ?? DEFAULT_MAX_IMAGE_AGE_DAYS
  const filters: Filters = {level: opts.level ?? 2, only: opts.only ?? []}
  const withDaemon = Boolean(opts.daemon || opts.all)
  const {resolved: selected, failed} = await selectTargets(opts)
  const patterns = (opts.exclude ?? []).map(globToRegExp)
  const excluded = selected.filter((t) => patterns.some((p) => p.test(t.name))).map((t) => t.name)
  const resolved = selected.filter((t) => !excluded.includes(t.name))
  const failures: AuditResult['failed'] = failed.map((f) => ({ref: f.ref, error: toErrorInfo(f.error)}))
  for (const f of failures)
    opts.progress?.(
      `✗ ${f.ref}: ${f.error.message}${f.error.hint?.startsWith('Did you mean') ? ` ${f.error.hint}` : ''}`,
    )

  // The engine's info, the containment records and the host's process index are independent reads: at once.
  // On the engine's host, process names come from /proc: the engine logs a `top` event for every docker top.
  const [info, containment, procIndex] = await Promise.all([
    opts.engine.inspector ? opts.engine.inspector.info().catch(() => undefined) : undefined,
    opts.kase ? readContainment(opts.kase).then((s) => s.containers) : undefined,
    indexProcesses(opts.procRoot ?? '/proc'),
  ])
  const engineSecurityOptions = Array.isArray(info?.SecurityOptions)
    ? (info.SecurityOptions as unknown[]).map(String)
    : undefined
  const images: OneContext['images'] = new Map()
  // The engine and host checks run beside the containers' (both only read).
  const engineWork = withDaemon ? auditEngine(opts, info, filters) : undefined
  engineWork?.catch(() => undefined)

  const audited = await mapBounded(resolved, opts.concurrency ?? 8, async (target) => {
    try {
      opts.signal?.throwIfAborted()
      return await auditOne(opts, target, now, maxImageAgeDays, {
        filters,
        engineSecurityOptions,
        containment,
        procIndex,
        images,
      })
    } catch (error) {
      const info = toErrorInfo(error)
      opts.progress?.(`✗ ${target.ref}: ${info.message}`)
      failures.push({ref: target.ref, error: info})
      return undefined
    }
  })
  const engineAudit = await engineWork
  const containers = audited.filter((c): c is ContainerWork => c !== undefined)
  const totals = emptyCounts()
  for (const c of containers) for (const s of SEVERITIES) totals[s] += c.counts[s]
  if (engineAudit) for (const s of SEVERITIES) totals[s] += engineAudit.counts[s]

  const manual: ManualCheck[] =
    containers.length === 0
      ? []
      : CONTAINER_MANUAL.filter(
          (r) => r.level <= filters.level && matchesOnly(filters.only, `cis-${r.cis}`, r.cis),
        ).map((r) => {
          const details =
            r.cis === '5.9'
              ? containers.flatMap((c) => (c.exposedPorts.length ? [`${c.name}: ${c.exposedPorts.join(', ')}`] : []))
              : r.cis === '5.19'
                ? containers.flatMap((c) => (c.ulimits.length ? [`${c.name}: ${c.ulimits.join(', ')}`] : []))
                : []
          return {
            cis: r.cis,
            title: r.title,
            level: r.level,
            look: r.look ?? r.title,
            ...(details.length ? {details} : {}),
          }
        })

  const result: AuditResult = {
    ...(opts.kase ? {caseId: opts.kase.id} : {}),
    auditedAt: now.toISOString(),
    benchmark: {name: BENCHMARK.name, version: BENCHMARK.version},
    level: filters.level,
    scope: {
      ...(opts.targets?.length ? {targets: [...opts.targets]} : {}),
      ...(opts.project ? {project: opts.project} : {}),
      ...(opts.all ? {all: true} : {}),
      ...(withDaemon ? {daemon: true} : {}),
      ...(opts.exclude?.length ? {exclude: [...opts.exclude]} : {}),
      ...(opts.only?.length ? {only: [...opts.only]} : {}),
    },
    maxImageAgeDays,
    ...(engineAudit ? {engine: engineAudit} : {}),
    containers: containers.map(({exposedPorts: _p, ulimits: _u, ...c}) => c),
    excluded,
    manual,
    failed: failures,
    totals,
    ok: failures.length === 0,
  }
  if (opts.kase) return storeInCase(opts.kase, opts.engine, result)
  return result
}

async function selectTargets(
  opts: AuditOptions,
): Promise<{resolved: Resolved[]; failed: Array<{ref: string; error: AbortError}>}> {
  const refs = opts.targets ?? []
  if (!opts.project && !opts.all && !opts.daemon && refs.length === 0) {
    throw new AbortError('Nothing to audit: name containers, or use --project <name>, --all or --daemon', {
      exit: 'USAGE',
      hint: 'ir audit web-1 worker-1 | ir audit --project shop | ir audit --all | ir audit --daemon',
    })
  }
  const {resolved, failed} =
    refs.length > 0 ? await resolveContainers(opts.engine.containers, refs) : {resolved: [], failed: []}
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
    const rows = await opts.engine.containers.list({
      all: true,
      filters: {label: [`${COMPOSE_PROJECT_LABEL}=${opts.project}`]},
    })
    if (rows.length === 0) {
      failed.push({
        ref: opts.project,
        reason: 'not-found',
        error: new AbortError(`No containers in compose project "${opts.project}"`, {
          exit: 'NOT_FOUND',
          hint: `Projects are found by the label ${COMPOSE_PROJECT_LABEL}; list them with \`docker compose ls -a\`.`,
        }),
      })
    }
    add(rows.sort((a, b) => (a.names[0] ?? '').localeCompare(b.names[0] ?? '')))
  }
  if (opts.all) {
    const rows = await opts.engine.containers.list({all: true})
    add(rows.sort((a, b) => (a.names[0] ?? '').localeCompare(b.names[0] ?? '')))
  }
  return {resolved, failed}
}

interface OneContext {
  /** One image inspect per image for the whole run, however many containers use it. */
  images: Map<string, Promise<{facts: ImageFacts; healthcheck?: boolean}>>
  procIndex: Map<string, string[]>
  filters: Filters
  engineSecurityOptions?: string[]
  containment?: Awaited<ReturnType<typeof readContainment>>['containers']
}

type ContainerWork = ContainerAudit & {exposedPorts: string[]; ulimits: string[]}

const LIVE = new Set(['running', 'paused', 'restarting'])

async function auditOne(
  opts: AuditOptions,
  target: Resolved,
  now: Date,
  maxImageAgeDays: number,
  ctx: OneContext,
): Promise<ContainerWork> {
  const d = await opts.engine.containers.inspect(target.id)
  const doc = d.raw as InspectDoc
  const live = LIVE.has(d.state)
  const key = d.imageId || d.image
  if (!ctx.images.has(key)) ctx.images.set(key, imageOf(opts.engine, d))
  const [pid1, img, runtime] = await Promise.all([
    observePid1(opts.engine, d, {...(opts.procRoot ? {procRoot: opts.procRoot} : {})}),
    ctx.images.get(key)!,
    runtimeFacts(opts.engine, d, doc, live, ctx.engineSecurityOptions, ctx.procIndex),
  ])
  const image = img.facts
  if (img.healthcheck !== undefined) runtime.imageHealthcheck = img.healthcheck
  const kind = await engineKind(opts.engine)
  const findings = auditInspect(doc, {pid1, image, now, maxImageAgeDays, runtime, engineKind: kind}).filter((f) =>
    keep(f, ctx.filters),
  )
  const {counts, score, pass} = summarize(findings)
  const ageDays = imageAgeDays(image.created, now)
  const quarantined = await quarantineOf(opts, d, ctx)
  const failedCis = new Set(findings.map((f) => f.cis).filter(Boolean))
  const notEvaluated = new Set<string>([
    ...(live ? [] : ['5.7']),
    ...(ctx.engineSecurityOptions?.some((o) => o.includes('name=apparmor')) ? [] : ['5.2']),
    ...(ctx.engineSecurityOptions?.some((o) => o.includes('name=selinux')) ? [] : ['5.3']),
    ...(runtime.imageHealthcheck === undefined ? ['4.6'] : []),
  ])
  const passed = CONTAINER_AUTOMATED.filter(
    (r) =>
      r.level <= ctx.filters.level &&
      !failedCis.has(r.cis) &&
      !notEvaluated.has(r.cis) &&
      matchesOnly(ctx.filters.only, `cis-${r.cis}`, r.cis),
  ).map((r) => r.cis)
  const flags = [live ? '' : 'stopped', quarantined ? 'quarantined' : ''].filter(Boolean)
  opts.progress?.(
    `${pass ? '✓' : '!'} ${d.name}${flags.length ? ` (${flags.join(', ')})` : ''}: ${counts.critical} critical, ${counts.high} high, ${counts.medium} medium, ${counts.low} low`,
  )
  return {
    ref: target.ref,
    id: d.id,
    name: d.name,
    image: d.image,
    imageId: d.imageId,
    state: d.state,
    stopped: !live,
    ...(quarantined ? {quarantined} : {}),
    passed,
    pid1,
    imageFacts: {...image, ...(ageDays === undefined ? {} : {ageDays})},
    findings,
    counts,
    score,
    pass,
    exposedPorts: Object.keys(doc.Config?.ExposedPorts ?? {}),
    ulimits: ulimitsOf(doc),
  }
}

/** Processes (docker top: ps on the engine host), exec instances and the image's health check. Never exec. */
async function runtimeFacts(
  engine: Engine,
  d: ContainerDetails,
  doc: InspectDoc,
  live: boolean,
  engineSecurityOptions: string[] | undefined,
  procIndex: Map<string, string[]>,
): Promise<RuntimeFacts> {
  const facts: RuntimeFacts = {...(engineSecurityOptions ? {engineSecurityOptions} : {})}
  const local = procIndex.get(d.id)
  if (live && local) facts.processes = local
  else if (live && d.state !== 'restarting') {
    // ps on the engine host (docker top): the process name (comm) and its arguments, never an exec inside.
    // Podman runs ps inside the container for ps options (an exec into the evidence): its own descriptors instead.
    const podman = (await engineKind(engine)) === 'podman'
    const top = await engine.containers
      .top(d.id, podman ? 'pid,comm,args' : '-eo pid,comm,args')
      .catch(() => engine.containers.top(d.id).catch(() => undefined))
    if (top) {
      const pidCol = top.titles.findIndex((t) => t.trim().toUpperCase() === 'PID')
      facts.processes = top.processes.map((p) => p.filter((_, i) => i !== pidCol).join(' '))
    }
  }
  const inspector = engine.inspector
  if (inspector) {
    const execs = await Promise.all((doc.ExecIDs ?? []).map((id) => inspector.exec(id).catch(() => undefined)))
    facts.execs = execs.filter((e): e is NonNullable<typeof e> => e !== undefined)
  }
  return facts
}

/**
 * container id -> "comm args" of each of its processes, from /proc/<pid>/cgroup (which names the
 * container under any cgroup driver), comm and cmdline. Empty when /proc is not the engine host's.
 */
async function indexProcesses(procRoot: string): Promise<Map<string, string[]>> {
  const index = new Map<string, string[]>()
  const pids = (await readdir(procRoot).catch(() => [] as string[])).filter((p) => /^\d+$/.test(p))
  await mapBounded(pids, 16, async (pid) => {
    const cgroup = await readFile(join(procRoot, pid, 'cgroup'), 'utf8').catch(() => '')
    // the innermost container id (a nested engine's cgroup path names the outer one first)
    const id = [...cgroup.matchAll(/[0-9a-f]{64}/g)].pop()?.[0]
    if (!id) return
    const [comm, cmdline] = await Promise.all([
      readFile(join(procRoot, pid, 'comm'), 'utf8').catch(() => ''),
      readFile(join(procRoot, pid, 'cmdline'), 'utf8').catch(() => ''),
    ])
    const list = index.get(id) ?? []
    list.push(`${comm.trim()} ${cmdline.split('\0').join(' ').trim()}`.trim())
    index.set(id, list)
  })
  return index
}

async function quarantineOf(
  opts: AuditOptions,
  d: ContainerDetails,
  ctx: OneContext,
): Promise<ContainerAudit['quarantined']> {
  if (ctx.containment && opts.kase) {
    const rec = findContainment(ctx.containment, d.id)
    if (rec?.record.status === 'isolated')
      return {
        caseId: opts.kase.id,
        note: `isolated by ir in case ${opts.kase.id} (${rec.record.mode}, ${rec.record.isolatedAt})`,
      }
  }
  // ir isolate disconnects every network: only such containers are looked up in the cases.
  const cut = d.endpoints.length === 0
  if (!cut) return undefined
  if (opts.store) {
    const found = await findIsolatingCase(opts.store, d.id).catch(() => undefined)
    if (found)
      return {
        caseId: found.kase.id,
        note: `isolated by ir in case ${found.kase.id} (${found.record.mode}, ${found.record.isolatedAt})`,
      }
  }
  return d.state === 'paused'
    ? {note: 'paused with no network: looks isolated (no containment record found)'}
    : undefined
}

function securityOptionsOf(info: Record<string, unknown>): string[] {
  return Array.isArray(info.SecurityOptions) ? (info.SecurityOptions as unknown[]).map(String) : []
}

async function auditEngine(
  opts: AuditOptions,
  info: Record<string, unknown> | undefined,
  filters: Filters,
): Promise<EngineAudit> {
  const inspector = opts.engine.inspector
  const empty = {endpoint: opts.engine.endpoint, local: false, passed: [], notApplicable: [], counts: emptyCounts()}
  if (!inspector || !info) {
    const f = outcomeToFinding({
      cis: '2.1',
      status: 'needs-local-access',
      message: "the engine's settings could not be read",
    })!
    return {...empty, note: 'the engine info could not be read', findings: [f], counts: summarize([f]).counts}
  }
  const swarmInfo = (info.Swarm ?? {}) as {
    NodeID?: string
    RemoteManagers?: Array<{NodeID?: string; Addr?: string}> | null
  }
  const self = (swarmInfo.RemoteManagers ?? []).find((m) => m.NodeID === swarmInfo.NodeID)
  const swarmPort = self?.Addr ? Number(self.Addr.split(':').pop()) : undefined
  const host = await readHostFacts({
    endpoint: opts.engine.endpoint,
    ...(swarmPort ? {swarmPort} : {}),
    ...(typeof info.DockerRootDir === 'string' ? {dockerRootDir: info.DockerRootDir} : {}),
    ...(opts.procRoot ? {procRoot: opts.procRoot} : {}),
    rootless: securityOptionsOf(info).some((o) => o.includes('name=rootless')),
  })
  const swarm = (info.Swarm ?? {}) as {ControlAvailable?: boolean; Managers?: number}
  const manager = swarm.ControlAvailable === true
  const facts: DaemonFacts = {
    endpoint: opts.engine.endpoint,
    info,
    ...(await inspector.network('bridge').then((b) => (b ? {bridge: b} : {}))),
    ...(manager
      ? {networks: await inspector.networks(), managers: swarm.Managers ?? 0, ...(swarmPort ? {swarmPort} : {})}
      : {}),
    ...(manager ? await inspector.swarm().then((s) => (s ? {swarm: s} : {})) : {}),
    env: {
      ...((opts.env ?? process.env).DOCKER_CONTENT_TRUST === undefined
        ? {}
        : {DOCKER_CONTENT_TRUST: (opts.env ?? process.env).DOCKER_CONTENT_TRUST}),
    },
    ...(host.local ? {local: host.local} : {}),
    ...(host.note ? {localNote: host.note} : {}),
  }
  const outcomes = daemonOutcomes(facts).filter(
    (o) =>
      (CIS_RECOMMENDATIONS.find((r) => r.cis === o.cis)?.level ?? 1) <= filters.level &&
      matchesOnly(filters.only, `cis-${o.cis}`, o.cis),
  )
  const findings = sortFindings(outcomes.map((o) => outcomeToFinding(o)).filter((f): f is Finding => f !== undefined))
  const counts = summarize(findings).counts
  opts.progress?.(
    `engine ${opts.engine.endpoint}${host.local ? ` (dockerd ${host.local.pid}, ${host.local.configFile})` : ' (no local access)'}: ${counts.critical} critical, ${counts.high} high, ${counts.medium} medium, ${counts.low} low`,
  )
  return {
    endpoint: opts.engine.endpoint,
    local: Boolean(host.local),
    ...(host.note ? {note: host.note} : {}),
    ...(host.local
      ? {dockerd: {pid: host.local.pid, configFile: host.local.configFile, configExists: host.local.configExists}}
      : {}),
    findings,
    passed: outcomes.filter((o) => o.status === 'pass').map((o) => o.cis),
    notApplicable: outcomes.filter((o) => o.status === 'not-applicable').map((o) => o.cis),
    counts,
  }
}

/** The image's facts and whether it has a HEALTHCHECK (from the raw inspect when the engine gives it). */
async function imageOf(engine: Engine, d: ContainerDetails): Promise<{facts: ImageFacts; healthcheck?: boolean}> {
  if (engine.inspector) {
    try {
      const raw = await engine.inspector.image(d.imageId || d.image)
      const config = (raw.Config ?? {}) as {User?: string; Healthcheck?: {Test?: string[]} | null}
      const test = config.Healthcheck?.Test ?? []
      return {
        facts: {id: String(raw.Id ?? d.imageId), created: String(raw.Created ?? ''), user: config.User ?? ''},
        healthcheck: test.length > 0 && test[0] !== 'NONE',
      }
    } catch {
      // fall through to the typed client, which reports the error
    }
  }
  return {facts: await imageFacts(engine, d)}
}

async function imageFacts(engine: Engine, d: ContainerDetails): Promise<ImageFacts> {
  try {
    const info = await engine.images.inspect(d.imageId || d.image)
    return {id: info.id, created: info.created, user: info.user}
  } catch (error) {
    return {id: d.imageId, error: errorMessage(error)}
  }
}

function entryOf(f: Finding): {
  check: string
  severity: AuditSeverity
  message: string
  cis?: string
  level?: number
  kind?: string
} {
  return {
    check: f.id,
    severity: f.severity,
    message: f.message,
    ...(f.cis ? {cis: f.cis} : {}),
    ...(f.level ? {level: f.level} : {}),
    ...(f.kind && f.kind !== 'fail' ? {kind: f.kind} : {}),
  }
}

async function storeInCase(kase: Case, engine: Engine, result: AuditResult): Promise<AuditResult> {
  let evidence: string | undefined
  const single = result.containers.length === 1 ? result.containers[0] : undefined
  if (result.containers.length > 0 || result.engine) {
    const artifact = await kase.addJsonEvidence({
      name: `audit/hardening-audit-${fileStamp(new Date(result.auditedAt))}-${randomBytes(2).toString('hex')}.json`,
      type: HARDENING_AUDIT_EVIDENCE_TYPE,
      description: `Container-hardening audit of ${result.containers.map((c) => c.name).join(', ')}`,
      source: {
        engine: engine.endpoint,
        ...(single
          ? {containerId: single.id, containerName: single.name, image: single.image, imageId: single.imageId}
          : {}),
      },
      meta: {containers: result.containers.length, totals: result.totals},
      data: {...result, caseId: kase.id},
    })
    evidence = artifact.path
  }
  const t = result.totals
  await kase.record({
    action: HARDENING_AUDIT_ACTION,
    target: result.scope.project
      ? `project ${result.scope.project}`
      : result.containers.map((c) => c.name).join(', ') || undefined,
    outcome: result.failed.length === 0 ? 'success' : result.containers.length > 0 ? 'partial' : 'failure',
    msg: `Hardening audit of ${result.containers.length} container(s): ${t.critical} critical, ${t.high} high, ${t.medium} medium, ${t.low} low${result.failed.length ? `; not audited: ${result.failed.map((f) => f.ref).join(', ')}` : ''}`,
    details: {
      benchmark: `${result.benchmark.name} ${result.benchmark.version}`,
      containers: [
        ...(result.engine
          ? [{id: 'engine', name: `engine ${result.engine.endpoint}`, findings: result.engine.findings.map(entryOf)}]
          : []),
        ...result.containers.map((c) => ({
          id: c.id,
          name: c.name,
          ...(c.stopped ? {stopped: true} : {}),
          ...(c.quarantined ? {quarantined: true} : {}),
          findings: c.findings.map(entryOf),
        })),
      ],
      ...(result.failed.length ? {failed: result.failed.map((f) => ({ref: f.ref, error: f.error.message}))} : {}),
      ...(evidence ? {evidence} : {}),
    },
  })
  return {...result, caseId: kase.id, ...(evidence ? {evidence} : {})}
}
