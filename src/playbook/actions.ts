import {z} from 'zod/v4'

import type {Case, CaseStore} from '../case/case-store.js'
import type {Clients} from '../docker/engine-factory.js'
import type {ComposeClient} from '../docker/compose.js'
import {resolveProject} from '../docker/compose.js'
import {resolveContainers} from '../services/targets.js'
import type {Engine} from '../docker/types.js'
import {AbortError} from '../errors.js'
import {parseTimePoint} from '../util/time.js'
import type {Logger} from '../util/logger.js'
import type {ActionName} from './schema.js'
import type {HumanInterface, StepPlan} from './types.js'

export type Phase = 'containment' | 'evidence' | 'eradication' | 'recovery' | 'lessons' | 'gate'

export interface StepContext {
  kase: Case
  store: CaseStore
  engine: () => Promise<Engine>
  compose: () => Promise<ComposeClient>
  hosts: Clients['hosts']
  cwd: string
  yes: boolean
  human: HumanInterface
  signal: AbortSignal
  progress: (line: string) => void
  log: Logger
  /** When this step (attempt) started: used to recognise work a crashed attempt already finished. */
  stepStartedAt: string
}

export interface PlanContext {
  kase?: Case
  engine: () => Promise<Engine>
  compose: () => Promise<ComposeClient>
  hosts: Clients['hosts']
  cwd: string
}

export type Outputs = Record<string, unknown>

export interface ActionDef<P = Record<string, unknown>> {
  name: ActionName
  phase: Phase
  /** Changes or removes something that cannot simply be undone: needs approval. */
  destructive: boolean
  params: z.ZodType<P>
  describe(p: P): string
  plan(p: P, ctx: PlanContext): Promise<StepPlan>
  run(p: P, ctx: StepContext): Promise<Outputs>
  /** After a crash mid-step: the outputs if the step's work is already done (so it is not repeated). */
  recheck?(p: P, ctx: StepContext): Promise<Outputs | undefined>
}

const containerList = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : Array.isArray(v)
        ? v
            .flatMap((x) => String(x).split(','))
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
  z.array(z.string()).min(1, 'at least one container'),
)
const stringList = z.preprocess(
  (v) => (typeof v === 'string' ? (v ? v.split(',').map((s) => s.trim()) : []) : v),
  z.array(z.string()),
)
const bool = z.preprocess(
  (v) => (typeof v === 'string' ? !['false', '0', 'no', ''].includes(v.toLowerCase()) : v),
  z.boolean(),
)
const optionalString = z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string().optional())

async function resolvedNames(ctx: PlanContext, refs: string[]): Promise<string[]> {
  const engine = await ctx.engine()
  const {resolved, failed} = await resolveContainers(engine.containers, refs)
  return [...resolved.map((r) => `${r.name} (${r.id.slice(0, 12)})`), ...failed.map((f) => `${f.ref}: NOT FOUND`)]
}

function caseFiles(kase: Case | undefined, files: string[]): string[] {
  return files.map((f) => `${kase ? kase.dir : 'incidents/<case>'}/${f}`)
}

const optionalContainers = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
      : Array.isArray(v)
        ? v
            .flatMap((x) => String(x).split(','))
            .map((x) => x.trim())
            .filter(Boolean)
        : (v ?? []),
  z.array(z.string()),
)

type IsolateParams = {
  containers: string[]
  mode: 'pause' | 'stop' | 'network-only'
  hosts: string[]
  inventory?: string | undefined
  filter: string[]
}

/** Several engines (hosts / an inventory) or a --filter selector: the fan-out of `ir isolate`. */
function isolatesAcrossHosts(p: IsolateParams): boolean {
  return p.hosts.length > 0 || Boolean(p.inventory) || p.filter.length > 0
}

const isolate: ActionDef<IsolateParams> = {
  name: 'isolate',
  phase: 'containment',
  destructive: true,
  params: z
    .object({
      containers: optionalContainers,
      mode: z.enum(['pause', 'stop', 'network-only']).default('pause'),
      hosts: stringList.default([]),
      inventory: optionalString,
      filter: stringList.default([]),
    })
    .refine((p) => p.containers.length > 0 || p.filter.length > 0, {
      message: 'give containers, or a filter such as ancestor=<image>',
    }),
  describe: (p) =>
    `Contain ${p.containers.length ? p.containers.join(', ') : `every container matching ${p.filter.join(', ')}`}${isolatesAcrossHosts(p) && (p.hosts.length || p.inventory) ? ' on every host' : ''}: store each inspect as evidence, ${p.mode === 'pause' ? 'freeze its processes (pause keeps memory for forensics)' : p.mode === 'stop' ? 'stop it' : 'leave processes running'} and cut every network, so the attacker loses reach without evidence being destroyed.`,
  async plan(p, ctx) {
    if (isolatesAcrossHosts(p)) {
      return {
        summary: `isolate (${p.mode}) across hosts`,
        containers: [...p.containers, ...p.filter.map((f) => `every container with ${f}`)],
        operations: [
          `on ${[...p.hosts, ...(p.inventory ? [`the hosts of ${p.inventory}`] : [])].join(', ') || 'the default engine'}: store inspect, ${p.mode}, disconnect every network; an unreachable host fails the step (resume retries it)`,
        ],
        files: caseFiles(ctx.kase, [
          'evidence/<host>/<container>/inspect-<time>.json',
          'state/containment.json',
          'state/fanout-isolate.json',
        ]),
      }
    }
    const {isolateOnHosts} = await import('../services/isolate.js')
    const r = await isolateOnHosts({
      hosts: await ctx.hosts(),
      selection: {refs: p.containers},
      mode: p.mode,
      dryRun: true,
    })
    return {
      summary: `isolate (${p.mode})`,
      containers: r.containers.map((c) =>
        c.id ? `${c.name} (${c.id.slice(0, 12)}, ${c.stateBefore})` : `${c.ref}: ${c.error?.message}`,
      ),
      operations: r.containers.flatMap((c) => [
        ...c.actions.map((a) => `${c.name}: ${a}`),
        ...c.warnings.map((w) => `${c.name ?? c.ref}: ! ${w}`),
      ]),
      files: caseFiles(ctx.kase, ['evidence/<container>/inspect-<time>.json', 'state/containment.json']),
    }
  },
  async run(p, ctx) {
    if (isolatesAcrossHosts(p)) {
      const {parseFilters} = await import('../services/targets.js')
      const {isolateOnHosts} = await import('../services/isolate.js')
      const set = await ctx.hosts({host: p.hosts, ...(p.inventory ? {hosts: p.inventory} : {})})
      const filters = parseFilters(p.filter)
      const r = await isolateOnHosts({
        hosts: set,
        selection: {refs: p.containers, ...(filters ? {filters} : {})},
        kase: ctx.kase,
        mode: p.mode,
        dryRun: false,
        signal: ctx.signal,
        progress: ctx.progress,
      })
      const failedHosts = (r.hosts ?? []).filter((h) => h.status === 'failed')
      const summary = {
        hosts: (r.hosts ?? []).map((h) => ({host: h.host, reachable: h.reachable, status: h.status})),
        containers: r.containers.map((c) => ({name: c.name, id: c.id, status: c.status, state: c.stateAfter})),
      }
      if (failedHosts.length > 0) {
        // The step fails, so `ir playbook resume` runs it again: isolate is idempotent, done hosts stay done.
        throw new AbortError(
          `isolation not finished on ${failedHosts.map((h) => `${h.host}${h.reachable ? '' : ' (unreachable)'}`).join(', ')}; resume once the host is back`,
          {exit: failedHosts.some((h) => !h.reachable) ? 'ENGINE_UNREACHABLE' : 'FAILURE'},
        )
      }
      return summary
    }
    const {isolateOnHosts} = await import('../services/isolate.js')
    const r = await isolateOnHosts({
      hosts: await ctx.hosts(),
      kase: ctx.kase,
      selection: {refs: p.containers},
      mode: p.mode,
      dryRun: false,
      signal: ctx.signal,
      progress: ctx.progress,
    })
    const failed = r.containers.filter((c) => c.status === 'failed' || c.status === 'partial')
    if (failed.length > 0)
      throw new AbortError(
        `isolation failed for ${failed.map((f) => `${f.name ?? f.ref}: ${f.error?.message}`).join('; ')}`,
        {exit: failed[0]?.error?.code ?? 'FAILURE'},
      )
    return {
      containers: r.containers.map((c) => ({
        name: c.name,
        id: c.id,
        status: c.status,
        state: c.stateAfter,
        networksCut: c.networks.map((n) => n.network),
        networkNotCut: c.networkNotCut ?? null,
      })),
    }
  },
}

const release: ActionDef<{containers: string[]}> = {
  name: 'release',
  phase: 'recovery',
  destructive: true,
  params: z.object({containers: containerList}),
  describe: (p) =>
    `Undo the isolation of ${p.containers.join(', ')}: reconnect their recorded networks and resume their processes. Only do this once the container is trusted again.`,
  async plan(p, ctx) {
    return {
      summary: 'release',
      containers: await resolvedNames(ctx, p.containers),
      operations: [
        'reconnect every recorded network endpoint (aliases, static IPs)',
        'unpause (or start) each container',
      ],
      files: caseFiles(ctx.kase, ['state/containment.json']),
    }
  },
  async run(p, ctx) {
    const {releaseOnHosts} = await import('../services/release.js')
    const r = await releaseOnHosts({
      hosts: await ctx.hosts(),
      store: ctx.store,
      kase: ctx.kase,
      selection: {refs: p.containers},
      dryRun: false,
      signal: ctx.signal,
      progress: ctx.progress,
    })
    const failed = r.containers.filter((c) => c.status === 'failed' || c.status === 'partial')
    if (failed.length > 0)
      throw new AbortError(
        `release failed for ${failed.map((f) => `${f.name ?? f.ref}: ${f.error?.message}`).join('; ')}`,
      )
    return {containers: r.containers.map((c) => ({name: c.name, status: c.status, state: c.stateAfter}))}
  },
}

async function artifactsSince(
  kase: Case,
  type: string,
  since: string,
  containerIds: string[],
): Promise<Array<{id: string; path: string; sha256: string; containerId?: string}> | undefined> {
  const arts = (await kase.manifest.read()).artifacts.filter((a) => a.type === type && a.collectedAt >= since)
  const found = containerIds.map((id) => arts.find((a) => a.source?.containerId === id))
  if (found.some((a) => !a)) return undefined
  return found.map((a) => ({
    id: a!.id,
    path: a!.path,
    sha256: a!.sha256,
    ...(a!.source?.containerId ? {containerId: a!.source.containerId} : {}),
  }))
}

const snapshot: ActionDef<{containers: string[]; export: boolean; volumes: boolean}> = {
  name: 'snapshot',
  phase: 'evidence',
  destructive: false,
  params: z.object({containers: containerList, export: bool.default(true), volumes: bool.default(false)}),
  describe: (p) =>
    `Preserve a forensic snapshot of ${p.containers.join(', ')}: commit it to a labelled evidence image ir never deletes, save that image${p.export ? ' and the whole filesystem (indexed, every file hashed)' : ''} into the case, with the diff and the process list.`,
  async plan(p, ctx) {
    return {
      summary: 'snapshot',
      containers: await resolvedNames(ctx, p.containers),
      operations: [
        'docker commit (paused during the commit) -> ir-evidence/<case>:<container>-<time>, labelled ir.evidence=true',
        'docker save of that image (config secrets redacted) -> the case',
        'docker diff, docker top, list of mounts -> the case',
        ...(p.export ? ['docker export -> the case, indexed while it streams'] : []),
        ...(p.volumes ? ['archive each mounted volume and bind mount'] : []),
      ],
      files: caseFiles(ctx.kase, [
        'evidence/<container>/image-<time>.tar',
        'evidence/<container>/diff-<time>.json',
        'evidence/<container>/processes-<time>.json',
        'evidence/<container>/mounts-<time>.json',
        ...(p.export
          ? ['evidence/<container>/export-<time>.tar', 'evidence/<container>/export-index-<time>.jsonl']
          : []),
      ]),
    }
  },
  async run(p, ctx) {
    const {snapshotOnHosts} = await import('../services/evidence/snapshot.js')
    const r = await snapshotOnHosts({
      hosts: await ctx.hosts(),
      kase: ctx.kase,
      selection: {refs: p.containers},
      export: p.export,
      volumes: p.volumes,
      signal: ctx.signal,
      progress: ctx.progress,
    })
    const bad = r.containers.filter((c) => c.status !== 'snapshotted')
    if (bad.length > 0)
      throw new AbortError(
        `snapshot failed for ${bad.map((b) => `${b.name ?? b.ref}: ${b.error?.message ?? b.failures.map((f) => `${f.step}: ${f.error.message}`).join(', ')}`).join('; ')}`,
        {exit: bad[0]?.error?.code ?? 'FAILURE'},
      )
    return {
      containers: r.containers.map((c) => ({
        name: c.name,
        id: c.id,
        image: c.image?.tag,
        artifacts: c.artifacts.map((a) => ({id: a.id, path: a.path, sha256: a.sha256})),
      })),
    }
  },
  async recheck(p, ctx) {
    const engine = await ctx.engine()
    const {resolved, failed} = await resolveContainers(engine.containers, p.containers)
    if (failed.length > 0) return undefined
    const arts = await artifactsSince(
      ctx.kase,
      'image-tar',
      ctx.stepStartedAt,
      resolved.map((r) => r.id),
    )
    return arts
      ? {
          containers: arts.map((a) => ({id: a.containerId, artifacts: [{id: a.id, path: a.path, sha256: a.sha256}]})),
          recovered: true,
        }
      : undefined
  },
}

const collect: ActionDef<{containers: string[]; since?: string | undefined; until?: string | undefined}> = {
  name: 'collect',
  phase: 'evidence',
  destructive: false,
  params: z.object({containers: containerList, since: optionalString, until: optionalString}),
  describe: (p) =>
    `Preserve the logs of ${p.containers.join(', ')} (stdout and stderr, timestamped) with the inspect, processes, diff, a stats sample and the engine events, in one hashed archive each. Reading only: nothing changes on the container.`,
  async plan(p, ctx) {
    return {
      summary: 'collect',
      containers: await resolvedNames(ctx, p.containers),
      operations: [
        'docker logs --timestamps (stdout and stderr separately)',
        'docker inspect, top, diff, stats, events -> one .tar.gz with SHA256SUMS',
      ],
      files: caseFiles(ctx.kase, ['evidence/<container>/collect-<time>.tar.gz']),
    }
  },
  async run(p, ctx) {
    const {collectOnHosts} = await import('../services/evidence/collect.js')
    const r = await collectOnHosts({
      hosts: await ctx.hosts(),
      kase: ctx.kase,
      selection: {refs: p.containers},
      ...(p.since ? {since: parseTimePoint(p.since, 'since')} : {}),
      ...(p.until ? {until: parseTimePoint(p.until, 'until')} : {}),
      signal: ctx.signal,
      progress: ctx.progress,
    })
    const bad = r.containers.filter((c) => c.status === 'failed')
    if (bad.length > 0)
      throw new AbortError(
        `collection failed for ${bad.map((b) => `${b.name ?? b.ref}: ${b.error?.message}`).join('; ')}`,
        {exit: bad[0]?.error?.code ?? 'FAILURE'},
      )
    return {
      containers: r.containers.map((c) => ({
        name: c.name,
        logs: c.logs,
        archive: c.archive?.path,
        sha256: c.archive?.sha256,
      })),
    }
  },
  async recheck(p, ctx) {
    const engine = await ctx.engine()
    const {resolved, failed} = await resolveContainers(engine.containers, p.containers)
    if (failed.length > 0) return undefined
    const arts = await artifactsSince(
      ctx.kase,
      'log-archive',
      ctx.stepStartedAt,
      resolved.map((r) => r.id),
    )
    return arts
      ? {containers: arts.map((a) => ({id: a.containerId, archive: a.path, sha256: a.sha256})), recovered: true}
      : undefined
  },
}

const rotate: ActionDef<{
  'project-directory'?: string | undefined
  files: string[]
  'env-file': string[]
  containers: string[]
  generate: string[]
  'mark-rotated': string[]
  skip: string[]
  answers?: string | undefined
  'require-all': boolean
  length: number
}> = {
  name: 'rotate',
  phase: 'eradication',
  destructive: true,
  params: z.object({
    'project-directory': optionalString,
    files: stringList.default([]),
    'env-file': stringList.default([]),
    containers: stringList.default([]),
    generate: stringList.default([]),
    'mark-rotated': stringList.default([]),
    skip: stringList.default([]),
    answers: optionalString,
    'require-all': bool.default(false),
    length: z.coerce.number().int().min(16).max(256).default(32),
  }),
  describe: () =>
    'Rotate every credential the attacker could have read: the inventory comes from the compose project, its .env files, swarm secrets and the compromised containers; each one is given a new value, marked as rotated elsewhere, or skipped with a reason. No value is ever recorded.',
  async plan(p, ctx) {
    const {rotateCredentials} = await import('../services/rotate/rotate.js')
    let engine: Engine | undefined
    try {
      engine = await ctx.engine()
    } catch {
      engine = undefined
    }
    const r = await rotateCredentials({
      ...(ctx.kase ? {kase: ctx.kase} : {}),
      dryRun: true,
      ...(engine ? {engine} : {}),
      cwd: ctx.cwd,
      ...(p.files.length ? {composeFiles: p.files} : {}),
      ...(p['project-directory'] ? {projectDirectory: p['project-directory']} : {}),
      envFiles: p['env-file'],
      containers: p.containers,
      generate: p.generate,
      markRotated: p['mark-rotated'],
      skip: p.skip,
      ...(p.answers ? {answersFile: p.answers} : {}),
      length: p.length,
      alphabet: 'url-safe',
    })
    return {
      summary: `rotate: ${r.inventory.length} credential(s) in scope`,
      containers: r.containers.map((c) => (c as {name?: string}).name ?? String((c as {ref?: string}).ref ?? '')),
      operations: [
        ...r.inventory.map((i) => `${i.name} (${i.kind})${i.decision ? `: already ${i.decision}` : ''}`),
        ...r.planned.map((a) => `${a.action} ${a.name}${a.files?.length ? ` -> ${a.files.join(', ')}` : ''}`),
      ],
      files: [
        ...new Set(r.planned.flatMap((a) => a.files ?? []).flatMap((f) => [f, `${f}.ir-backup-<time>`])),
        ...caseFiles(ctx.kase, ['state/rotation.json']),
      ],
    }
  },
  async run(p, ctx) {
    const {rotateCredentials} = await import('../services/rotate/rotate.js')
    let engine: Engine | undefined
    let engineError: unknown
    try {
      engine = await ctx.engine()
    } catch (error) {
      engineError = error
    }
    const hasDecisions = p.generate.length + p['mark-rotated'].length + p.skip.length > 0 || Boolean(p.answers)
    const r = await rotateCredentials({
      kase: ctx.kase,
      ...(engine ? {engine} : {engineError}),
      cwd: ctx.cwd,
      ...(p.files.length ? {composeFiles: p.files} : {}),
      ...(p['project-directory'] ? {projectDirectory: p['project-directory']} : {}),
      envFiles: p['env-file'],
      containers: p.containers,
      generate: p.generate,
      markRotated: p['mark-rotated'],
      skip: p.skip,
      ...(p.answers ? {answersFile: p.answers} : {}),
      ...(!hasDecisions && ctx.human.decideRotation ? {decide: ctx.human.decideRotation} : {}),
      length: p.length,
      alphabet: 'url-safe',
      confirm: async () => {
        if (ctx.yes || ctx.human.confirm) return
        throw new AbortError('Refusing to write credentials without confirmation: no TTY', {
          exit: 'CONFIRMATION_REQUIRED',
          hint: 'Re-run with --yes.',
        })
      },
      progress: ctx.progress,
    })
    if (r.failures.length > 0)
      throw new AbortError(`rotation failed for ${r.failures.map((f) => `${f.name}: ${f.message}`).join('; ')}`)
    if (r.interrupted)
      throw new AbortError('Rotation walkthrough interrupted; decisions so far are kept.', {exit: 'INTERRUPTED'})
    if (p['require-all'] && r.summary.remaining + r.summary.skipped > 0) {
      throw new AbortError(
        `require-all: ${r.summary.remaining + r.summary.skipped} credential(s) not rotated: ${[...r.summary.remainingNames, ...r.summary.skippedNames].join(', ')}`,
      )
    }
    return {summary: r.summary, left: r.left}
  },
}

const rebuild: ActionDef<{
  'project-directory'?: string | undefined
  files: string[]
  'project-name'?: string | undefined
  offline: boolean
  'save-evidence': boolean
  volumes: boolean
  'wait-timeout': number
  grace: number
  audit: boolean
}> = {
  name: 'rebuild',
  phase: 'recovery',
  destructive: true,
  params: z.object({
    'project-directory': optionalString,
    files: stringList.default([]),
    'project-name': optionalString,
    offline: bool.default(false),
    'save-evidence': bool.default(true),
    volumes: bool.default(false),
    'wait-timeout': z.coerce.number().int().positive().default(120),
    grace: z.coerce.number().int().min(0).default(5),
    audit: bool.default(true),
  }),
  describe: (p) =>
    `Apply patches through a clean rebuild of the compose project${p['project-directory'] ? ` in ${p['project-directory']}` : ''}: build without cache from ${p.offline ? 'the local' : 'freshly pulled'} base images, take the old containers down, start new ones and wait until healthy. Evidence images and other projects are never touched.`,
  async plan(p, ctx) {
    const {planRebuild} = await import('../services/rebuild/rebuild.js')
    const compose = await ctx.compose()
    const project = await resolveProject(
      compose.flavor,
      {
        ...(p.files.length ? {files: p.files} : {}),
        ...(p['project-directory'] ? {projectDirectory: p['project-directory']} : {}),
        ...(p['project-name'] ? {name: p['project-name']} : {}),
      },
      ctx.cwd,
    )
    const plan = await planRebuild({
      engine: await ctx.engine(),
      compose,
      project,
      ...(ctx.kase ? {kase: ctx.kase} : {}),
      dryRun: true,
      removeVolumes: p.volumes,
      pruneHost: false,
      offline: p.offline,
      saveEvidence: p['save-evidence'],
      waitTimeoutSeconds: p['wait-timeout'],
      graceSeconds: p.grace,
      audit: p.audit,
    })
    return {
      summary: `rebuild project ${project.name}`,
      containers: plan.containers.map((c) => `${c.name} (${c.id.slice(0, 12)})`),
      operations: [
        ...plan.commands,
        ...plan.imagesToRemove.map((i) => `remove the former image of ${i.service} (${i.ref})`),
        'wait for healthy services',
        ...(p.audit ? ['hardening audit of the new containers'] : []),
        ...plan.warnings.map((w) => `! ${w}`),
      ],
      files: caseFiles(ctx.kase, [
        'evidence/rebuild/compose-<project>-<time>.log',
        'evidence/rebuild/rebuild-<project>-<time>.json',
      ]),
    }
  },
  async run(p, ctx) {
    const {rebuildProject} = await import('../services/rebuild/rebuild.js')
    const compose = await ctx.compose()
    const project = await resolveProject(
      compose.flavor,
      {
        ...(p.files.length ? {files: p.files} : {}),
        ...(p['project-directory'] ? {projectDirectory: p['project-directory']} : {}),
        ...(p['project-name'] ? {name: p['project-name']} : {}),
      },
      ctx.cwd,
    )
    const r = await rebuildProject({
      engine: await ctx.engine(),
      compose,
      project,
      kase: ctx.kase,
      dryRun: false,
      removeVolumes: p.volumes,
      pruneHost: false,
      offline: p.offline,
      saveEvidence: p['save-evidence'],
      waitTimeoutSeconds: p['wait-timeout'],
      graceSeconds: p.grace,
      audit: p.audit,
      signal: ctx.signal,
      progress: ctx.progress,
      onComposeLine: (l) => ctx.progress(`  | ${l}`),
    })
    if (!r.ok)
      throw new AbortError(
        `rebuild of ${project.name} did not finish healthy: ${r.services
          .filter((s) => !s.ok)
          .map((s) => `${s.service} (${s.health})`)
          .join(', ')}`,
      )
    return {
      project: project.name,
      services: r.services.map((s) => ({service: s.service, health: s.health, image: s.image})),
      imagesBefore: r.imagesBefore,
      imagesAfter: r.imagesAfter,
    }
  },
  async recheck(_p, ctx) {
    const {readAuditEntries} = await import('../services/report/audit-entries.js')
    const entries = await readAuditEntries(ctx.kase.audit.path)
    const done = entries.find(
      (e) => e.readable && e.action === 'rebuild' && e.outcome === 'success' && e.time >= ctx.stepStartedAt,
    )
    return done?.readable ? {recovered: true, project: done.target} : undefined
  },
}

async function auditProjectName(
  p: {project?: string | undefined; 'project-directory'?: string | undefined},
  ctx: {compose: () => Promise<ComposeClient>; cwd: string},
): Promise<string | undefined> {
  if (p.project) return p.project
  if (!p['project-directory']) return undefined
  const compose = await ctx.compose()
  return (await resolveProject(compose.flavor, {projectDirectory: p['project-directory']}, ctx.cwd)).name
}

const audit: ActionDef<{
  containers: string[]
  project?: string | undefined
  'project-directory'?: string | undefined
  'fail-on'?: 'critical' | 'high' | 'medium' | 'low' | undefined
}> = {
  name: 'audit',
  phase: 'recovery',
  destructive: false,
  params: z.object({
    containers: stringList.default([]),
    project: optionalString,
    'project-directory': optionalString,
    'fail-on': z.enum(['critical', 'high', 'medium', 'low']).optional(),
  }),
  describe: (p) =>
    `Check the hardening of ${p.project ? `the containers of project ${p.project}` : p['project-directory'] ? `the containers of the compose project in ${p['project-directory']}` : p.containers.join(', ')} against the CIS Docker Benchmark 1.6.0 (sections 4 and 5: non-root, capabilities, read-only, limits, no Docker socket, exposure, health checks...) and ir's own checks (PID 1's uid, log rotation, image age) and store the findings, with their CIS ids, in the case. Read-only: no exec, no pause.`,
  async plan(p, ctx) {
    const project = await auditProjectName(p, ctx)
    return {
      summary: 'hardening audit',
      containers: project ? [`every container of project ${project}`] : await resolvedNames(ctx, p.containers),
      operations: ['inspect each container and its image; read the uid of PID 1', 'no change'],
      files: caseFiles(ctx.kase, ['evidence/audit/hardening-audit-<time>.json']),
    }
  },
  async run(p, ctx) {
    const {auditContainers, hasFindingsAtOrAbove} = await import('../services/audit.js')
    const project = await auditProjectName(p, ctx)
    if (!project && p.containers.length === 0)
      throw new AbortError('audit needs containers, a project or a project-directory', {exit: 'USAGE'})
    const r = await auditContainers({
      engine: await ctx.engine(),
      ...(project ? {project} : {targets: p.containers}),
      kase: ctx.kase,
      signal: ctx.signal,
      progress: ctx.progress,
    })
    if (!r.ok)
      throw new AbortError(`audit could not check ${r.failed.map((f) => `${f.ref}: ${f.error.message}`).join('; ')}`)
    if (p['fail-on'] && hasFindingsAtOrAbove(r, p['fail-on']))
      throw new AbortError(`hardening findings at or above ${p['fail-on']}`, {exit: 'AUDIT_FAILED'})
    return {totals: r.totals, evidence: r.evidence, failing: r.containers.filter((c) => !c.pass).map((c) => c.name)}
  },
}

const report: ActionDef<{answers?: string | undefined; formats: string[]; status: 'draft' | 'reviewed'}> = {
  name: 'report',
  phase: 'lessons',
  destructive: false,
  params: z.object({
    answers: optionalString,
    formats: stringList.default(['md', 'html', 'json']),
    status: z.enum(['draft', 'reviewed']).default('draft'),
  }),
  describe: () =>
    'Write the lessons-learned report from the case: timeline, key times, actions by phase, evidence with hashes, credentials, rebuild and audit results, and the narrative sections the responder adds.',
  async plan(_p, ctx) {
    return {
      summary: 'report',
      containers: [],
      operations: ['read the audit log and manifest; verify the case', 'ask for (or read) the narrative sections'],
      files: caseFiles(ctx.kase, [
        'report.md',
        'report.html',
        'report.json',
        'evidence/report/report-<time>.{md,html,json}',
      ]),
    }
  },
  async run(p, ctx) {
    const {reportCase} = await import('../services/report/generate.js')
    const r = await reportCase({
      kase: ctx.kase,
      status: p.status,
      formats: p.formats as Array<'md' | 'html' | 'json'>,
      ...(p.answers ? {answersFile: p.answers} : {}),
      ...(ctx.human.askReport && !p.answers ? {ask: ctx.human.askReport} : {}),
    })
    return {files: r.files.map((f) => f.latest), verificationOk: r.verificationOk, narrative: r.narrative}
  },
}

const confirm: ActionDef<{message: string}> = {
  name: 'confirm',
  phase: 'gate',
  destructive: false,
  params: z.object({message: z.string().min(1)}),
  describe: (p) => `Approval gate: ${p.message}`,
  async plan(p) {
    return {summary: 'approval gate', containers: [], operations: [`ask: ${p.message}`], files: []}
  },
  async run(p, ctx) {
    if (ctx.human.confirm) {
      const ok = await ctx.human.confirm(p.message)
      if (!ok) throw new AbortError(`Not approved: ${p.message}`, {exit: 'CONFIRMATION_REQUIRED'})
      return {approvedBy: 'responder'}
    }
    if (!ctx.yes)
      throw new AbortError(`Approval needed: ${p.message}`, {
        exit: 'CONFIRMATION_REQUIRED',
        hint: 'Run on a TTY to approve, or give --yes.',
      })
    return {approvedBy: '--yes'}
  },
}

const note: ActionDef<{text: string}> = {
  name: 'note',
  phase: 'gate',
  destructive: false,
  params: z.object({text: z.string().min(1)}),
  describe: (p) => `Checklist item: ${p.text}`,
  async plan(p) {
    return {summary: 'checklist item', containers: [], operations: [`tick: ${p.text}`], files: []}
  },
  async run(p, ctx) {
    if (ctx.human.confirm) {
      const done = await ctx.human.confirm(`Done? ${p.text}`)
      if (!done) throw new AbortError(`Checklist item not done: ${p.text}`, {exit: 'CONFIRMATION_REQUIRED'})
      return {ticked: 'responder'}
    }
    ctx.progress(`  checklist: ${p.text}`)
    return {ticked: ctx.yes ? '--yes' : 'listed'}
  },
}

export const ACTION_DEFS: Record<ActionName, ActionDef<never>> = {
  isolate,
  release,
  snapshot,
  collect,
  rotate,
  rebuild,
  audit,
  report,
  confirm,
  note,
} as unknown as Record<ActionName, ActionDef<never>>
