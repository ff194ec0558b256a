import {engineKind} from '../../docker/engine-kind.js'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'

import type {Case} from '../../case/case-store.js'
import {fileStamp} from '../../case/ids.js'
import {redactText} from '../../util/redact.js'
import type {OutputFold} from '../../util/output-fold.js'
import type {ComposeClient, ComposeProject} from '../../docker/compose.js'
import {singleHost} from '../../docker/hosts.js'
import type {Engine} from '../../docker/types.js'
import {AbortError, type ErrorInfo, ExternalCommandError, toErrorInfo} from '../../errors.js'
import {sha256File} from '../../util/fs.js'
import {type AuditResult, auditContainers, COMPOSE_PROJECT_LABEL} from '../audit.js'
import {findContainment, readContainment, saveContainmentRecord} from '../containment-state.js'
import {snapshotOnHosts} from '../evidence/snapshot.js'
import {baseImagesOf, loadComposeModel, type ServiceModel} from './compose-model.js'

export interface RebuildOptions {
  engine: Engine
  compose: ComposeClient
  project: ComposeProject
  /** Undefined only for a dry run without --case. */
  kase?: Case
  dryRun: boolean
  removeVolumes: boolean
  pruneHost: boolean
  offline: boolean
  /** Proceed although isolated containers have no verified evidence; the reason is audited. */
  force?: {reason: string}
  /** Snapshot isolated containers that have no evidence yet, before anything is removed. */
  saveEvidence: boolean
  waitTimeoutSeconds: number
  graceSeconds: number
  audit: boolean
  signal?: AbortSignal
  progress?: (line: string) => void
  /** Compose output, line by line (the command streams it to stderr). */
  onComposeLine?: (line: string) => void
  /**
   * Compose output folded into one progress line (instead of onComposeLine): each line, the rebuild step now
   * running, and at the end whether it failed and where the full text was kept (the case's compose log).
   */
  composeFold?: OutputFold
}

export interface EvidenceCheck {
  containerId: string
  name: string
  evidence: 'verified' | 'missing' | 'mismatch'
  artifacts: string[]
  /** With --volumes: named volumes of the container not yet archived in the case. */
  missingVolumes?: string[]
  /** A container with processes loses them and its memory in the rebuild: its live state must be in the case. */
  liveState: 'captured' | 'missing' | 'not-needed'
}

export interface RebuildPlan {
  composeFlavor: string
  project: ComposeProject
  services: ServiceModel[]
  containers: Array<{id: string; name: string; service?: string; image: string; imageId: string; state?: string}>
  /** The isolated containers: the rebuild removes each, and with it its processes and memory. */
  isolated: EvidenceCheck[]
  commands: string[]
  /** The images the project's built services run now, removed once the new ones are up. */
  imagesToRemove: Array<{service: string; ref: string; id?: string}>
  warnings: string[]
}

export interface StepRecord {
  step: string
  ok: boolean
  /** The step ran, but left something on purpose (an image still in use is kept): shown as "kept", not "ok". */
  result?: 'kept'
  durationMs: number
  detail?: string
  error?: ErrorInfo
}

/**
 * Why the engine kept a former image, in words (Docker answers HTTP 409 "conflict: unable to delete
 * <id> (cannot be forced) - image is being used by running container <id>"): the container is named.
 */
export async function keptImageReason(
  message: string,
  containerName: (id: string) => Promise<string | undefined>,
): Promise<string> {
  const user = /(?:being used by (?:running |stopped |paused )?container|container) ([0-9a-f]{12,64})\b/i.exec(message)
  if (user) {
    const id = user[1]!
    const name = await containerName(id).catch(() => undefined)
    return `in use by container ${name ?? id.slice(0, 12)}${name ? ` (${id.slice(0, 12)})` : ''}; kept`
  }
  if (/dependent child images|has dependent child/i.test(message))
    return 'an image committed or built from it needs it (such as an evidence image); kept'
  if (/image is in use by a container/i.test(message)) return 'in use by a container; kept'
  const reason = message
    .replace(/^remove image \S+: /, '')
    .replace(/ \(engine answered HTTP \d+\)$/, '')
    .replace(/^conflict: /, '')
  return `not removed (${reason}); kept`
}

/**
 * Runs one rebuild step: progress line, timing, a `rebuild.step` audit entry on success and on failure,
 * and the record kept for the result. Shared by compose and stack rebuilds.
 */
export function stepRecorder(o: {
  kase: Case
  target: string
  label: string
  steps: StepRecord[]
  details?: Record<string, unknown>
  signal?: AbortSignal
  progress?: (line: string) => void
}) {
  return async <T>(
    name: string,
    fn: () => Promise<T>,
    detail?: (v: T) => string,
    result?: (v: T) => StepRecord['result'],
  ): Promise<T> => {
    o.signal?.throwIfAborted()
    o.progress?.(`→ ${name}`)
    const t0 = Date.now()
    try {
      const v = await fn()
      const kept = result?.(v)
      const rec: StepRecord = {
        step: name,
        ok: true,
        ...(kept ? {result: kept} : {}),
        durationMs: Date.now() - t0,
        ...(detail ? {detail: detail(v)} : {}),
      }
      o.steps.push(rec)
      await o.kase.record({
        action: 'rebuild.step',
        target: o.target,
        outcome: 'success',
        msg: `${o.label}: ${name} (${rec.durationMs} ms)`,
        details: {...rec, ...o.details},
      })
      return v
    } catch (error) {
      const rec: StepRecord = {step: name, ok: false, durationMs: Date.now() - t0, error: toErrorInfo(error)}
      o.steps.push(rec)
      await o.kase.record({
        action: 'rebuild.step',
        target: o.target,
        outcome: 'failure',
        msg: `${o.label}: ${name} failed: ${rec.error!.message}`,
        details: {...rec, ...o.details},
      })
      throw error
    }
  }
}

export interface ServiceHealth {
  service: string
  container: string
  image: string
  state: string
  health: 'healthy' | 'running' | 'unhealthy' | 'not-running' | 'timeout'
  ok: boolean
}

export interface RebuildResult {
  caseId?: string
  dryRun: boolean
  plan: RebuildPlan
  steps: StepRecord[]
  imagesBefore: Record<string, string>
  imagesAfter: Record<string, string>
  baseImages: Array<{ref: string; id?: string; repoDigests: string[]}>
  services: ServiceHealth[]
  audit?: {evidence?: string; totals: AuditResult['totals']; failing: string[]}
  ok: boolean
}

const EVIDENCE_TYPES = new Set(['image-tar', 'filesystem-export'])
const PULL_FAILURE =
  /pull access denied|failed to resolve|no such host|dial tcp|connection refused|i\/o timeout|TLS handshake|manifest unknown|repository does not exist|registry/i

/** Does the case hold verified evidence (saved image or export) of this container? */
export async function evidenceOf(
  kase: Case,
  containerId: string,
  name: string,
  opts: {volumes?: readonly string[]; hasProcesses?: boolean} = {},
): Promise<EvidenceCheck> {
  const all = (await kase.manifest.read()).artifacts.filter((a) => a.source?.containerId === containerId)
  const artifacts = all.filter((a) => EVIDENCE_TYPES.has(a.type))
  const live = all.filter((a) => a.type === 'live-processes')
  const liveState: EvidenceCheck['liveState'] = !opts.hasProcesses
    ? 'not-needed'
    : live.length > 0
      ? 'captured'
      : 'missing'
  if (artifacts.length === 0) return {containerId, name, evidence: 'missing', artifacts: [], liveState}
  // Removing volumes (rebuild --volumes) destroys their data: each must be archived in the case first.
  const archivedVolumes = new Set(
    all
      .filter((a) => a.type === 'mount-archive')
      .map((a) => String((a.meta?.mount as {name?: string} | undefined)?.name ?? '')),
  )
  const unarchived = (opts.volumes ?? []).filter((v) => !archivedVolumes.has(v))
  const checked = [...artifacts, ...all.filter((a) => a.type === 'mount-archive'), ...live.slice(-1)]
  for (const a of checked) {
    const onDisk = await sha256File(join(kase.dir, a.path)).catch(() => undefined)
    if (onDisk?.sha256 !== a.sha256)
      return {containerId, name, evidence: 'mismatch', artifacts: checked.map((x) => x.path), liveState}
  }
  if (unarchived.length > 0)
    return {
      containerId,
      name,
      evidence: 'missing',
      artifacts: checked.map((x) => x.path),
      missingVolumes: unarchived,
      liveState,
    }
  if (liveState === 'missing')
    return {containerId, name, evidence: 'missing', artifacts: checked.map((x) => x.path), liveState}
  return {containerId, name, evidence: 'verified', artifacts: checked.map((x) => x.path), liveState}
}

/** Named volumes mounted by a container (what `down --volumes` would delete). */
async function volumesOf(engine: Engine, id: string): Promise<string[]> {
  const d = await engine.containers.inspect(id).catch(() => undefined)
  return (d?.mounts ?? []).filter((m) => m.type === 'volume' && m.name).map((m) => m.name!)
}

/** Rotation backups (old secret values) that a `COPY . .` would bake into the new image. */
async function backupsInContext(context: string): Promise<string[]> {
  const {readdir, readFile} = await import('node:fs/promises')
  const names = await readdir(context).catch(() => [] as string[])
  const backups = names.filter((n) => /\.ir-backup-/.test(n))
  if (backups.length === 0) return []
  const ignore = await readFile(join(context, '.dockerignore'), 'utf8').catch(() => '')
  return /ir-backup/.test(ignore) ? [] : backups
}

export async function planRebuild(opts: RebuildOptions): Promise<RebuildPlan> {
  const {engine, compose, project} = opts
  const services = await loadComposeModel(compose, project)
  const listed = await engine.containers.list({
    all: true,
    filters: {label: [`${COMPOSE_PROJECT_LABEL}=${project.name}`]},
  })
  const containers = listed.map((c) => ({
    id: c.id,
    name: c.names[0] ?? c.id.slice(0, 12),
    ...(c.labels['com.docker.compose.service'] ? {service: c.labels['com.docker.compose.service']} : {}),
    image: c.image,
    imageId: c.imageId,
    state: c.state,
  }))
  const isolated: EvidenceCheck[] = []
  if (opts.kase) {
    const state = await readContainment(opts.kase)
    for (const c of containers) {
      const rec = findContainment(state.containers, c.id)?.record
      if (rec?.status === 'isolated')
        isolated.push(
          await evidenceOf(opts.kase, c.id, c.name, {
            volumes: opts.removeVolumes ? await volumesOf(opts.engine, c.id) : [],
            hasProcesses: c.state === 'running' || c.state === 'paused',
          }),
        )
    }
  }
  const cmd = (args: string[]): string => {
    const line = compose.commandLine(project, args)
    return [line.file, ...line.args].join(' ')
  }
  const warnings: string[] = []
  if (opts.offline)
    warnings.push(
      '--offline: base images are NOT refreshed from a registry; the rebuild uses the local copies of the base images.',
    )
  const built = services.filter((s) => s.build)
  for (const s of built) {
    const backups = await backupsInContext(s.build!.context)
    if (backups.length > 0)
      warnings.push(
        `the build context of ${s.name} (${s.build!.context}) holds rotation backups with old secret values (${backups.join(', ')}): add ".env.ir-backup-*" to its .dockerignore or move them, or a COPY may bake them into the image`,
      )
  }
  return {
    composeFlavor: compose.flavor,
    project,
    services,
    containers,
    isolated,
    commands: [
      cmd(['build', '--no-cache', ...(opts.offline ? [] : ['--pull'])]),
      cmd(['down', '--remove-orphans', ...(opts.removeVolumes ? ['--volumes'] : [])]),
      cmd(['up', '-d', '--remove-orphans']),
    ],
    imagesToRemove: built.map((s) => ({
      service: s.name,
      ref: s.image,
      ...(containers.find((c) => c.service === s.name)
        ? {id: containers.find((c) => c.service === s.name)!.imageId}
        : {}),
    })),
    warnings,
  }
}

/**
 * Clean rebuild of one compose project, evidence first: refuse while an isolated container of the
 * project has no verified evidence (unless --force, audited, or --save-evidence snapshots it), then
 * down, remove only this project's built images, build without cache from fresh bases, up, wait
 * until each service is healthy or stably running, and audit the new containers. Never removes an
 * evidence image (the image client refuses) and never touches another project's resources.
 */
export async function rebuildProject(opts: RebuildOptions): Promise<RebuildResult> {
  const plan = await planRebuild(opts)
  const base: RebuildResult = {
    dryRun: opts.dryRun,
    plan,
    steps: [],
    imagesBefore: {},
    imagesAfter: {},
    baseImages: [],
    services: [],
    ok: false,
    ...(opts.kase ? {caseId: opts.kase.id} : {}),
  }
  for (const c of plan.containers) if (c.service) base.imagesBefore[c.service] = c.imageId
  for (const s of plan.services) {
    const info = await opts.engine.images.inspect(s.image).catch(() => undefined)
    if (info && !base.imagesBefore[s.name]) base.imagesBefore[s.name] = info.id
  }
  if (opts.dryRun) return {...base, ok: true}
  const kase = opts.kase
  if (!kase) throw new AbortError('A rebuild records into a case: give --case', {exit: 'USAGE'})
  const {engine, compose, project} = opts
  const steps = base.steps
  const composeLog = new PassThrough()
  const composeLogName = `rebuild/compose-${project.name}-${fileStamp()}.log`
  const logWrite = kase.addEvidence({
    name: composeLogName,
    type: 'compose-log',
    description: `compose output of ir rebuild of ${project.name}`,
    content: composeLog,
  })
  logWrite.catch(() => undefined) // awaited in finally; never an unhandled rejection meanwhile
  const onLine = (line: string): void => {
    const safe = redactText(line)
    composeLog.write(`${safe}\n`)
    if (opts.composeFold) opts.composeFold.line(safe)
    else opts.onComposeLine?.(safe)
  }
  const fold = opts.composeFold
  let finished = false
  const step = stepRecorder({
    kase,
    target: project.name,
    label: `Rebuild ${project.name}`,
    steps,
    ...(opts.signal ? {signal: opts.signal} : {}),
    // With a fold, "→ build" names the part the folded line belongs to instead of a line of its own.
    ...(fold?.phase
      ? {progress: (l: string) => fold.phase!(l.replace(/^→ /, ''))}
      : opts.progress
        ? {progress: opts.progress}
        : {}),
  })

  try {
    // 1. Preflight: evidence before anything is removed.
    await step('preflight', async () => {
      let missing = plan.isolated.filter((c) => c.evidence !== 'verified')
      if (missing.length > 0 && opts.saveEvidence) {
        opts.progress?.(`  saving evidence of ${missing.map((m) => m.name).join(', ')} first`)
        const snap = await snapshotOnHosts({
          hosts: await singleHost(engine),
          kase,
          selection: {refs: missing.map((m) => m.containerId)},
          export: true,
          volumes: opts.removeVolumes,
          ...(opts.signal ? {signal: opts.signal} : {}),
          ...(opts.progress ? {progress: opts.progress} : {}),
        })
        if (!snap.ok)
          throw new AbortError('Saving evidence before the rebuild failed; nothing was removed.', {
            exit: 'PRECONDITION',
          })
        plan.isolated = await Promise.all(
          plan.isolated.map(async (c) =>
            evidenceOf(kase, c.containerId, c.name, {
              volumes: opts.removeVolumes ? await volumesOf(engine, c.containerId) : [],
            }),
          ),
        )
        missing = plan.isolated.filter((c) => c.evidence !== 'verified')
      }
      if (missing.length > 0) {
        if (!opts.force) {
          throw new AbortError(
            `Refusing to rebuild: isolated container(s) without verified evidence: ${missing.map((m) => `${m.name} (${m.evidence}${m.missingVolumes?.length ? `: volumes not archived: ${m.missingVolumes.join(', ')}` : ''}${m.liveState === 'missing' ? ': no live state captured; the rebuild destroys its processes and memory' : ''})`).join(', ')}`,
            {
              exit: 'PRECONDITION',
              hint: `Run \`ir snapshot --case ${kase.id} ${missing.map((m) => m.name).join(' ')}\` first, or use --save-evidence; --force --reason "..." overrides (audited).`,
            },
          )
        }
        await kase.record({
          action: 'rebuild.force',
          target: project.name,
          outcome: 'info',
          msg: `Rebuild forced without evidence of ${missing.map((m) => m.name).join(', ')}: ${opts.force.reason}`,
          details: {containers: missing, reason: opts.force.reason},
        })
      }
      return missing.length
    })
    // 2. Build first, from fresh bases without cache: a build that fails (no registry, broken
    //    Dockerfile) leaves the running project as it was, instead of taken down with nothing to start.
    await step(opts.offline ? 'build (no cache, offline)' : 'build (no cache, pull)', async () => {
      try {
        return await compose.run(project, ['build', '--no-cache', ...(opts.offline ? [] : ['--pull'])], {
          onLine,
          ...(opts.signal ? {signal: opts.signal} : {}),
        })
      } catch (error) {
        if (!opts.offline && error instanceof ExternalCommandError && PULL_FAILURE.test(error.message)) {
          throw new AbortError(
            'Could not pull fresh base images: no registry is reachable (or the base image exists only locally). Nothing was taken down or removed.',
            {
              exit: 'EXTERNAL_COMMAND',
              hint: 'Re-run with --offline to rebuild from the local base images (they will not be refreshed), or restore registry access.',
              cause: error,
            },
          )
        }
        throw error
      }
    })
    // 3. Down: this project only. Podman refuses to stop a paused container: thaw the paused ones (isolated,
    //    their network cut, their evidence saved) just before compose stops them.
    if ((await engineKind(engine)) === 'podman') {
      const paused = await engine.containers.list({
        all: true,
        filters: {label: [`${COMPOSE_PROJECT_LABEL}=${project.name}`]},
      })
      for (const c of paused.filter((p) => p.state === 'paused')) {
        opts.progress?.(`  unpausing ${c.names[0] ?? c.id.slice(0, 12)} so Podman can stop it`)
        await engine.containers.unpause(c.id)
      }
    }
    await step('down', () =>
      compose.run(project, ['down', '--remove-orphans', ...(opts.removeVolumes ? ['--volumes'] : [])], {
        onLine,
        ...(opts.signal ? {signal: opts.signal} : {}),
      }),
    )
    // The isolated containers are gone now: say so in the containment records (their evidence stays).
    const state = await readContainment(kase)
    for (const c of plan.isolated) {
      const found = findContainment(state.containers, c.containerId)
      if (found?.record.status === 'isolated')
        await saveContainmentRecord(
          kase,
          {...found.record, status: 'removed', releasedAt: new Date().toISOString()},
          found.key,
        )
    }
    // 4. Remove the images the project ran before (never an evidence image: the image client refuses;
    //    an image an evidence image was committed from cannot go either: the evidence keeps it).
    await step(
      'remove former project images',
      async () => {
        const notes: Array<{text: string; kept: boolean}> = []
        const built = new Set(plan.services.filter((x) => x.build).map((x) => x.name))
        for (const [service, id] of Object.entries(base.imagesBefore)) {
          if (!built.has(service)) continue
          const now = await engine.images
            .inspect(plan.services.find((x) => x.name === service)!.image)
            .catch(() => undefined)
          if (now?.id === id) continue
          try {
            const outcome = await engine.images.remove(id)
            notes.push({
              text: `${service} ${id.slice(7, 19)}: ${outcome === 'done' ? 'removed' : 'already gone'}`,
              kept: false,
            })
          } catch (error) {
            const why = await keptImageReason(toErrorInfo(error).message, (c) =>
              engine.containers.inspect(c).then((d) => d.name),
            )
            notes.push({text: `${service} ${id.slice(7, 19)}: ${why}`, kept: true})
          }
        }
        return notes
      },
      (n) => n.map((x) => x.text).join('; ') || 'none',
      (n) => (n.some((x) => x.kept) ? 'kept' : undefined),
    )
    // 5. Up.
    await step('up', () =>
      compose.run(project, ['up', '-d', '--remove-orphans'], {onLine, ...(opts.signal ? {signal: opts.signal} : {})}),
    )
    // 6. Wait until healthy or stably running.
    base.services = await step(
      'wait for services',
      () => waitForServices(opts),
      (s) => s.map((x) => `${x.service}: ${x.health}`).join(', '),
    )
    for (const s of base.services) base.imagesAfter[s.service] = s.image
    if (opts.pruneHost) {
      await step(
        'prune host (evidence excluded)',
        () => engine.images.prune({dangling: false}),
        (r) => `${r.deleted} image(s), ${r.spaceReclaimed} bytes`,
      )
    }
    // 8. Record what was built from.
    for (const s of plan.services.filter((x) => x.build)) {
      for (const ref of await baseImagesOf(s.build!.dockerfile)) {
        if (base.baseImages.some((b) => b.ref === ref)) continue
        const info = await engine.images.inspect(ref).catch(() => undefined)
        base.baseImages.push({ref, ...(info ? {id: info.id} : {}), repoDigests: info?.repoDigests ?? []})
      }
    }
    // 9. Audit the new containers.
    if (opts.audit) {
      const audited = await step('hardening audit', () => auditContainers({engine, project: project.name, kase}))
      base.audit = {
        ...(audited.evidence ? {evidence: audited.evidence} : {}),
        totals: audited.totals,
        failing: audited.containers.filter((c) => !c.pass).map((c) => c.name),
      }
    }
    finished = true
  } finally {
    composeLog.end()
    await logWrite.catch(() => undefined)
    fold?.end({ok: finished && steps.every((x) => x.ok), artifact: join(kase.dir, 'evidence', composeLogName)})
  }
  const unhealthy = base.services.filter((s) => !s.ok)
  const ok = steps.every((s) => s.ok) && unhealthy.length === 0
  await kase.addJsonEvidence({
    name: `rebuild/rebuild-${project.name}-${fileStamp()}.json`,
    type: 'rebuild-record',
    description: `ir rebuild of ${project.name}`,
    data: {...base, ok},
  })
  await kase.record({
    action: 'rebuild',
    target: project.name,
    outcome: ok ? 'success' : 'partial',
    msg: ok
      ? `Rebuilt ${project.name}: ${base.services.length} service(s) healthy`
      : `Rebuilt ${project.name}, but not healthy: ${unhealthy.map((u) => `${u.service} (${u.health})`).join(', ')}`,
    details: {
      project: project.name,
      services: base.services,
      imagesBefore: base.imagesBefore,
      imagesAfter: base.imagesAfter,
      baseImages: base.baseImages,
      unhealthy: unhealthy.map((u) => u.service),
      steps: steps.map((s) => ({step: s.step, ok: s.ok, durationMs: s.durationMs})),
    },
  })
  return {...base, ok}
}

async function waitForServices(opts: RebuildOptions): Promise<ServiceHealth[]> {
  const deadline = Date.now() + opts.waitTimeoutSeconds * 1000
  const stableSince = new Map<string, {startedAt: string; restarts: number; since: number}>()
  for (;;) {
    opts.signal?.throwIfAborted()
    const listed = await opts.engine.containers.list({
      all: true,
      filters: {label: [`${COMPOSE_PROJECT_LABEL}=${opts.project.name}`]},
    })
    const result: ServiceHealth[] = []
    let pending = false
    for (const c of listed) {
      const d = await opts.engine.containers.inspect(c.id)
      const raw = d.raw as {
        State?: {Health?: {Status?: string}; RestartCount?: number; StartedAt?: string}
        RestartCount?: number
      }
      const service = c.labels['com.docker.compose.service'] ?? d.name
      const health = raw.State?.Health?.Status
      let status: ServiceHealth['health']
      if (d.state !== 'running') status = 'not-running'
      else if (health === 'healthy') status = 'healthy'
      else if (health === 'unhealthy') status = 'unhealthy'
      else if (health === 'starting') {
        status = 'timeout'
        pending = true
      } else {
        const key = d.id
        const seen = stableSince.get(key)
        const now = Date.now()
        const restarts = raw.RestartCount ?? 0
        if (!seen || seen.startedAt !== d.startedAt || seen.restarts !== restarts)
          stableSince.set(key, {startedAt: d.startedAt ?? '', restarts, since: now})
        const since = stableSince.get(key)!.since
        if (now - since >= opts.graceSeconds * 1000) status = 'running'
        else {
          status = 'timeout'
          pending = true
        }
      }
      if (status === 'not-running' && Date.now() < deadline) pending = true
      result.push({
        service,
        container: d.name,
        image: d.imageId,
        state: d.state,
        health: status,
        ok: status === 'healthy' || status === 'running',
      })
    }
    if (!pending || Date.now() >= deadline) return result.sort((a, b) => a.service.localeCompare(b.service))
    await new Promise((r) => setTimeout(r, 1000))
  }
}
