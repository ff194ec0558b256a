import {once} from 'node:events'
import {PassThrough} from 'node:stream'

import type {Case} from '../../case/case-store.js'
import {fileStamp, safeFileName} from '../../case/ids.js'
import type {Artifact} from '../../case/manifest.js'
import {redactArgs, redactDeep, redactEnvEntry} from '../../util/redact.js'
import {evidenceLabels} from '../../docker/labels.js'
import type {CommitConfig, ContainerDetails} from '../../docker/types.js'
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
import {type ImageRedaction, redactImageTar} from './image-redact.js'
import {deriveFindings, type EvidenceFinding, type FindingsInput} from './findings.js'
import {captureLiveState, type LiveCaptureResult, liveStateLine, whileFrozen} from './live/capture.js'
import {evidenceSource} from './source.js'
import {createTarIndexer, type TarIndexEntry, type TarIndexSummary} from './tar-index.js'

export interface SnapshotOptions extends StepOptions {
  kase: Case
  /** Stream the filesystem export and its index (default true). */
  export: boolean
  /** Archive the contents of mounted volumes and bind mounts. */
  volumes: boolean
  /** Capture the live state from /proc first, while frozen (default true), and with it each process's memory (default false: a forensic copy, not redacted). */
  live?: boolean
  memory?: boolean
  transferProgress?: TransferProgress
}

export interface ArtifactRef {
  id: string
  path: string
  type: string
  sha256: string
  size: number
}

export interface StepFailure {
  step: string
  error: ErrorInfo
}

export interface ContainerSnapshot extends StepContainer {
  status: 'snapshotted' | 'partial' | 'failed'
  /** id: the evidence image in the engine; savedId: the same image in the saved tar, whose config was redacted (a new id); layout of that tar. */
  image?: {id: string; tag: string; savedId?: string; layout?: 'oci' | 'docker'; note?: string}
  artifacts: ArtifactRef[]
  export?: TarIndexSummary
  live?: Omit<LiveCaptureResult, 'artifacts' | 'documents'>
  /** What the evidence shows, most severe first (also findings-<stamp>.json in the case). */
  findings?: EvidenceFinding[]
  mounts: Array<{type: string; source: string; destination: string; name?: string; archived: boolean}>
  failures: StepFailure[]
  warnings: string[]
  error?: ErrorInfo
}

export interface SnapshotResult {
  caseId: string
  containers: ContainerSnapshot[]
  hosts?: HostOutcome[]
  ok: boolean
}

export function evidenceRepo(caseId: string): string {
  const repo =
    caseId
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[._-]+|[._-]+$/g, '') || 'case'
  return `ir-evidence/${repo}`
}

function repoNote(caseId: string, repo: string): {note?: string} {
  const note = evidenceRepoNote(caseId, repo)
  return note ? {note} : {}
}

/** Said beside the tag when the image name is not the case id as typed (Docker repositories are lower case). */
export function evidenceRepoNote(caseId: string, repo = evidenceRepo(caseId)): string | undefined {
  if (repo === `ir-evidence/${caseId}`) return undefined
  return `image names must be lower case: case ${caseId} is named ${repo}; its label ir.case keeps the id as typed`
}

export function evidenceTag(containerName: string, stamp: string): string {
  return `${safeFileName(containerName).replace(/^[.-]+/, '')}-${stamp}`.slice(0, 128)
}

/**
 * The evidence image keeps the container's filesystem as it is, but its config must not carry
 * secret values: Env entries with secret-looking names, and secrets inside Cmd, Entrypoint, the
 * health check and label values, are committed redacted, so the evidence image's config (and
 * `docker save` of it) holds no credential from the container's config. The engine still records
 * the container's original config as the image's `container_config` and its Cmd in the history:
 * the saved tar is redacted again on its way into the case (image-redact.ts).
 */
export function redactedConfig(d: ContainerDetails): CommitConfig {
  const cfg = (d.raw.Config ?? {}) as {
    Env?: string[] | null
    Cmd?: string[] | null
    Entrypoint?: string[] | null
    Healthcheck?: CommitConfig['Healthcheck'] | null
    Labels?: Record<string, string> | null
  }
  const out: CommitConfig = {}
  if (cfg.Env?.length) out.Env = cfg.Env.map(redactEnvEntry)
  for (const key of ['Cmd', 'Entrypoint'] as const) {
    const v = cfg[key]
    if (v?.length) {
      const redacted = redactArgs(v)
      if (redacted.some((x, i) => x !== v[i])) out[key] = redacted
    }
  }
  if (cfg.Healthcheck?.Test?.length) {
    const test = redactArgs(cfg.Healthcheck.Test)
    if (test.some((x, i) => x !== cfg.Healthcheck!.Test![i])) out.Healthcheck = {...cfg.Healthcheck, Test: test}
  }
  // Labels merge with the evidence labels: only the changed ones need to be given.
  const labels = Object.fromEntries(
    Object.entries(redactDeep(cfg.Labels ?? {})).filter(([k, v]) => v !== cfg.Labels![k]),
  )
  if (Object.keys(labels).length > 0) out.Labels = labels
  return out
}

const liveSummary = ({
  artifacts: _a,
  documents: _d,
  ...rest
}: LiveCaptureResult): Omit<LiveCaptureResult, 'artifacts' | 'documents'> => rest

/** The ports the image declares (EXPOSE) and the container publishes, as "80/tcp". */
function declaredPorts(d: ContainerDetails): string[] {
  const raw = d.raw as {
    Config?: {ExposedPorts?: Record<string, unknown> | null}
    HostConfig?: {PortBindings?: Record<string, unknown> | null}
  }
  return [...Object.keys(raw.Config?.ExposedPorts ?? {}), ...Object.keys(raw.HostConfig?.PortBindings ?? {})]
}

const ref = (a: Artifact): ArtifactRef => ({id: a.id, path: a.path, type: a.type, sha256: a.sha256, size: a.size})

/**
 * Forensic snapshot: commit the container (paused during the commit) to a labelled evidence image,
 * save that image as a tar in the case, record `docker diff`, the process list and the mounts,
 * stream the filesystem export with a per-file index, and with `volumes` archive mounted data.
 * Every artifact is hashed while it streams and verified on disk. A failed step does not stop
 * the others: what was collected is kept and the failure is recorded.
 */
export async function snapshotOnHosts(opts: SnapshotOptions): Promise<SnapshotResult> {
  const selection = await selectTargets(opts.hosts, opts.selection)
  const run = await runOnHosts<ContainerSnapshot>({
    hosts: opts.hosts,
    selection,
    maxHosts: opts.maxHosts,
    failed: (s: string): boolean => s !== 'snapshotted',
    progress: opts.progress,
    work: (engine, host, targets) => snapshotTargets({...opts, engine, host}, targets),
    refFailures: (failed) => snapshotRefFailures(opts, failed),
    ...hostFailureAudit(opts.kase, 'snapshot', 'nothing was snapshotted there'),
  })
  return {caseId: opts.kase.id, ...run}
}

/** What the step reports for a container it could not work on (or a reference that selected nothing). */
function failedEntry(base: Omit<StepContainer, 'status'>, error: ErrorInfo): ContainerSnapshot {
  return {...base, status: 'failed', artifacts: [], mounts: [], failures: [], warnings: [], error}
}

function snapshotTargets(opts: OnHost<SnapshotOptions>, targets: readonly Target[]): Promise<ContainerSnapshot[]> {
  return eachContainer(opts, targets, {
    action: 'snapshot',
    concurrency: 2,
    one: (t, d) => snapshotOne(opts, t, d),
    audit: (name, message) => `Snapshot of ${name} failed: ${message}`,
    failed: (t, where, error) => failedEntry({ref: t.ref, ...where, id: t.id, name: t.name}, error),
  })
}

function snapshotRefFailures(
  opts: {kase: Case; progress?: ((line: string) => void) | undefined},
  failed: readonly ResolveFailure[],
): Promise<ContainerSnapshot[]> {
  return reportRefFailures(failed, {
    ...opts,
    action: 'snapshot',
    audit: (ref, message) => `Snapshot of ${ref} failed: ${message}`,
    entry: (ref, error) => failedEntry({ref}, error),
  })
}

async function snapshotOne(
  opts: OnHost<SnapshotOptions>,
  target: Target,
  d: ContainerDetails,
): Promise<ContainerSnapshot> {
  const {engine, kase, host} = opts
  // When the acquisition began (recorded with its end line; the CASE export's startTime).
  const startedAt = new Date().toISOString()
  const targetRef = target.ref
  const stamp = fileStamp()
  const dir = `${host?.dir ? `${host.dir}/` : ''}${safeFileName(d.name)}`
  const {where, source} = evidenceSource(engine, host, d, target)
  const artifacts: ArtifactRef[] = []
  const failures: StepFailure[] = []
  const warnings: string[] = []
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    opts.signal?.throwIfAborted()
    try {
      return await fn()
    } catch (error) {
      const info = toErrorInfo(error)
      failures.push({step: name, error: info})
      opts.progress?.(`  ✗ ${d.name}: ${name} failed: ${info.message}`)
      return undefined
    }
  }
  const transfer = async (
    label: string,
    name: string,
    type: string,
    description: string,
    content: () => Promise<NodeJS.ReadableStream>,
    extra: {meta?: Record<string, unknown>; through?: import('node:stream').Transform} = {},
  ): Promise<Artifact> => {
    const p = opts.transferProgress?.(`${d.name}: ${label}`)
    try {
      const a = await kase.addEvidence({
        name,
        type,
        description,
        source,
        content: (await content()) as import('node:stream').Readable,
        ...(opts.signal ? {signal: opts.signal} : {}),
        ...(p ? {onProgress: p.onProgress} : {}),
        ...(extra.meta ? {meta: extra.meta} : {}),
        ...(extra.through ? {through: extra.through} : {}),
      })
      artifacts.push(ref(a))
      return a
    } finally {
      p?.done()
    }
  }

  const reportLive = (l: LiveCaptureResult): void => {
    artifacts.push(...l.artifacts.map(ref))
    if (l.status === 'unavailable') warnings.push(`live state not captured: ${l.reason}`)
    else if (l.status === 'partial')
      failures.push({
        step: 'live state',
        error: {message: `partly captured: ${l.errors.slice(0, 3).join('; ')}`, exitCode: 1, code: 'FAILURE'},
      })
    else opts.progress?.(liveStateLine(d.name, l, opts.memory === true))
  }

  opts.progress?.(`- ${d.name}: snapshot (${d.state})`)
  // 0. Live state first (RFC 3227's order of volatility): processes, sockets and memory, read while frozen.
  // 1. Then the commit to a labelled evidence image, in the same freeze: the filesystem of the same moment.
  // Both under the container's containment lock, so concurrent snapshots (or an isolate) of it serialise.
  let live: LiveCaptureResult | undefined
  const repo = evidenceRepo(kase.id)
  const tag = evidenceTag(d.name, new Date().toISOString().replace(/[-:]/g, ''))
  let committedId: string | undefined
  let committed = false
  const wantLive = opts.live !== false && (d.state === 'running' || d.state === 'paused')
  const commit = async (): Promise<void> => {
    committed = true
    committedId = await step('commit', () =>
      engine.containers.commit(d.id, {
        repo,
        tag,
        pause: true,
        labels: evidenceLabels(kase.id, d.id, d.name, where),
        comment: `ir snapshot for case ${kase.id}`,
        config: redactedConfig(d),
      }),
    )
  }
  await step('freeze', () =>
    whileFrozen({engine, kase, details: d, engineId: host?.engineId, freeze: wantLive}, async (scope) => {
      if (scope.pauseError) warnings.push(`could not pause for the live capture: ${scope.pauseError}`)
      if (wantLive) {
        live = await step('live state', () =>
          captureLiveState({
            engine,
            kase,
            details: scope.details,
            dir,
            stamp,
            source,
            memory: opts.memory === true,
            frozen: scope.frozen,
            ...(opts.signal ? {signal: opts.signal} : {}),
          }),
        )
        if (live) reportLive(live)
      }
      await commit()
    }),
  )
  // The lock could not be had (or the engine failed before the commit): the commit is still worth having.
  if (!committed) await commit()
  const imageId = committedId
  // The image save and the rest are independent streams: run them side by side (2 engine streams, flat memory).
  const mounts = d.mounts.map((m) => ({...m, archived: false}))
  let exportSummary: TarIndexSummary | undefined
  let diffSeen: FindingsInput['diff']
  let indexArtifactPath: string | undefined
  const changedPaths = new Set<string>()
  const changedEntries: TarIndexEntry[] = []
  let saved: {savedId: string; layout: 'oci' | 'docker'} | undefined
  await Promise.all([
    (async () => {
      // 2. Save that image outside Docker's store, where no prune can reach it.
      if (imageId) {
        await step('save image', async () => {
          let redaction: Promise<ImageRedaction> | undefined
          await transfer(
            'image',
            `${dir}/image-${stamp}.tar`,
            'image-tar',
            `docker save of ${repo}:${tag} (commit of ${d.name}); secret values in the image config redacted`,
            async () => {
              const r = redactImageTar(await engine.images.save(`${repo}:${tag}`))
              redaction = r.done
              return r.output
            },
            {meta: {imageId, tag: `${repo}:${tag}`}},
          )
          const summary = await redaction
          if (summary) {
            // The redaction rewrites the config, so the saved tar holds the image under a new id: record both.
            // (With the containerd store the engine's id is the manifest's digest; savedId is always the config's.)
            const change = summary.imageIds.find((c) => c.before === imageId)
            saved = {
              savedId: change?.after ?? summary.configDigests[0] ?? imageId,
              layout: summary.ociLayout ? 'oci' : 'docker',
            }
            if (summary.keptAsIs.length > 0)
              warnings.push(
                `the saved image holds config documents that are not JSON and were kept as they are: ${summary.keptAsIs.join(', ')}`,
              )
          }
        })
      }
    })(),
    (async () => {
      // 3. What changed since the image: what an attacker dropped or altered.
      await step('diff', async () => {
        const diff = await engine.containers.diff(d.id)
        const a = await kase.addJsonEvidence({
          name: `${dir}/diff-${stamp}.json`,
          type: 'container-diff',
          description: `docker diff of ${d.name}`,
          source,
          data: diff,
          meta: {changes: diff.length},
        })
        artifacts.push(ref(a))
        diffSeen = {artifact: a.path, changes: diff}
        for (const c of diff) if (c.kind !== 'deleted') changedPaths.add(c.path)
      })
      // 4. Processes (only a running or paused container has any).
      if (d.state === 'running' || d.state === 'paused') {
        await step('process list', async () => {
          // Podman refuses `top` on a paused container: record the list as unavailable, with the reason, rather than fail.
          const top = await engine.containers
            .top(d.id)
            .catch((error: unknown) => ({unavailable: toErrorInfo(error).message, state: d.state}))
          if ('unavailable' in top) warnings.push(`process list unavailable (${d.state}): ${top.unavailable}`)
          artifacts.push(
            ref(
              await kase.addJsonEvidence({
                name: `${dir}/processes-${stamp}.json`,
                type: 'process-list',
                description:
                  'unavailable' in top
                    ? `docker top of ${d.name}: unavailable (${d.state})`
                    : `docker top of ${d.name}`,
                source,
                data: top,
              }),
            ),
          )
        })
      }
      // 5. Mounts are not in a commit or an export: list them always, archive them on request.
      await step('mounts', async () => {
        artifacts.push(
          ref(
            await kase.addJsonEvidence({
              name: `${dir}/mounts-${stamp}.json`,
              type: 'mounts',
              description: `volumes and bind mounts of ${d.name}`,
              source,
              data: d.mounts,
            }),
          ),
        )
      })
      if (opts.volumes) {
        for (const m of mounts) {
          const ok = await step(`archive ${m.destination}`, () =>
            transfer(
              `mount ${m.destination}`,
              `${dir}/mount-${safeFileName(m.destination)}-${stamp}.tar`,
              'mount-archive',
              `contents of ${m.type} ${m.name ?? m.source} mounted at ${m.destination}`,
              () => engine.containers.getArchive(d.id, m.destination),
              {meta: {mount: m}},
            ),
          )
          m.archived = ok !== undefined
        }
      }
      // 6. The filesystem export, indexed while it streams (nothing is extracted to disk).
      if (opts.export) {
        await step('export', async () => {
          const index = new PassThrough()
          index.on('error', () => undefined) // its failure is the index write's, reported there
          const {stage, done} = createTarIndexer(async (e) => {
            // The entries of changed paths are kept for the findings (their mode and SHA-256): a few, not the index.
            if (changedPaths.has(`/${e.path.replace(/^\.?\/+/, '').replace(/\/+$/, '')}`)) changedEntries.push(e)
            if (!index.write(`${JSON.stringify(e)}\n`)) await once(index, 'drain')
          })
          const indexWrite = kase.addEvidence({
            name: `${dir}/export-index-${stamp}.jsonl`,
            type: 'export-index',
            description: `index of the filesystem export of ${d.name} (path, type, size, mode, uid, gid, mtime, link target, SHA-256)`,
            source,
            content: index,
          })
          indexWrite.catch(() => undefined) // awaited below; a failure here must not go unhandled meanwhile
          try {
            await transfer(
              'export',
              `${dir}/export-${stamp}.tar`,
              'filesystem-export',
              `docker export of ${d.name}`,
              () => engine.containers.export(d.id),
              {through: stage},
            )
            exportSummary = await done
            index.end()
          } catch (error) {
            // An incomplete export gives an incomplete index: keep it as .partial, not as evidence.
            index.destroy(error as Error)
            throw error
          }
          const indexArtifact = await indexWrite
          artifacts.push(ref(indexArtifact))
          indexArtifactPath = indexArtifact.path
          if (exportSummary?.error)
            failures.push({
              step: 'export index',
              error: {
                message: `the export tar could not be fully indexed: ${exportSummary.error}`,
                exitCode: 1,
                code: 'FAILURE',
              },
            })
        })
      }
    })(),
  ])

  // 7. What happened, in plain words: findings from the diff, the index, the live state and the inspect.
  let findings: EvidenceFinding[] = []
  await step('findings', async () => {
    const liveDocs = live?.status === 'captured' || live?.status === 'partial' ? live : undefined
    findings = deriveFindings({
      container: d.name,
      ...(diffSeen ? {diff: diffSeen} : {}),
      ...(indexArtifactPath ? {index: {artifact: indexArtifactPath, entries: changedEntries}} : {}),
      ...(liveDocs?.documents ? {live: liveDocs.documents} : {}),
      declaredPorts: declaredPorts(d),
    })
    artifacts.push(
      ref(
        await kase.addJsonEvidence({
          name: `${dir}/findings-${stamp}.json`,
          type: 'findings',
          description: `what the evidence of ${d.name} shows (${findings.length} finding(s)), each with the artifact that shows it`,
          source,
          data: {container: d.name, containerId: d.id, findings},
          meta: {findings: findings.length},
        }),
      ),
    )
  })

  const status: ContainerSnapshot['status'] =
    failures.length === 0 ? 'snapshotted' : artifacts.length > 0 || imageId ? 'partial' : 'failed'
  await kase.record({
    action: 'snapshot',
    target: d.name,
    outcome: status === 'snapshotted' ? 'success' : status === 'partial' ? 'partial' : 'failure',
    msg: `Snapshot of ${d.name}: ${artifacts.length} artifact(s)${imageId ? `, evidence image ${repo}:${tag}` : ''}${failures.length ? `; failed: ${failures.map((f) => f.step).join(', ')}` : ''}`,
    details: {
      containerId: d.id,
      ...where,
      image: d.image,
      startedAt,
      stateAtSnapshot: d.state,
      evidenceImage: imageId ? {id: imageId, tag: `${repo}:${tag}`, ...saved} : null,
      artifacts: artifacts.map((a) => ({id: a.id, path: a.path, sha256: a.sha256})),
      export: exportSummary,
      ...(live ? {live: liveSummary(live)} : {}),
      findings: findings.map((f) => ({
        id: f.id,
        severity: f.severity,
        message: f.message,
        ...(f.artifact ? {artifact: f.artifact} : {}),
        ...(f.pid === undefined ? {} : {pid: f.pid}),
        ...(f.iocs ? {iocs: f.iocs} : {}),
      })),
      failures,
      warnings,
    },
  })
  opts.progress?.(
    `${failures.length ? '✗' : '✓'} ${d.name}: ${artifacts.length} artifact(s)${failures.length ? `, ${failures.length} step(s) failed` : ''}`,
  )
  return {
    ref: targetRef,
    ...where,
    id: d.id,
    name: d.name,
    status,
    ...(imageId ? {image: {id: imageId, tag: `${repo}:${tag}`, ...saved, ...repoNote(kase.id, repo)}} : {}),
    artifacts,
    ...(exportSummary ? {export: exportSummary} : {}),
    ...(live ? {live: liveSummary(live)} : {}),
    findings,
    mounts,
    failures,
    warnings,
  }
}
