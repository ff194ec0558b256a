import type {Case} from '../case/case-store.js'
import {fileStamp, safeFileName} from '../case/ids.js'
import type {ArtifactSource} from '../case/manifest.js'
import type {ContainerDetails, EndpointRecord} from '../docker/types.js'
import {type ErrorInfo, toErrorInfo} from '../errors.js'
import {mapBounded} from '../util/concurrency.js'
import {
  containmentKey,
  type ContainmentRecord,
  findContainment,
  type IsolateMode,
  mountsDockerSocket,
  readContainment,
  withContainerLock,
  saveContainmentRecord,
  sharedNetworkNote,
} from './containment-state.js'
import {engineKind, localEngine, type NetworkVerification, verifyNetworkCut} from './containment-verify.js'
import {swarmTaskOf} from '../docker/labels.js'
import {captureLiveState, type LiveCaptureResult, liveStateLine} from './evidence/live/capture.js'
import {evidenceSource} from './evidence/source.js'
import {
  hostFailureAudit,
  type HostOutcome,
  knownEngineId,
  readFanout,
  recordFanout,
  refHosts,
  runOnHosts,
  reportRefFailures,
  type OnHost,
  type StepOptions,
  type StepContainer,
} from './fanout.js'
import {recordServices, type ServiceSummary} from './swarm.js'
import {type ResolveFailure, selectTargets, type Target} from './targets.js'

export const DEFAULT_CONCURRENCY = 8

export interface IsolateOptions extends StepOptions {
  /** Undefined only for a dry run, which writes nothing. */
  kase?: Case
  mode: IsolateMode
  dryRun: boolean
  stopTimeoutSeconds?: number
  /** The proc filesystem of the engine's host (default /proc), read to verify the cut; tests point it elsewhere. */
  procRoot?: string
  /** Capture the live state (processes, sockets, executables) after the pause and before the network cut. */
  capture?: boolean
  /** With capture: each process's readable memory too (a forensic copy, not redacted). */
  memory?: boolean
}

export interface NetworkCut {
  network: string
  aliases: string[]
  ipAddress?: string
  outcome: 'disconnected' | 'already-disconnected' | 'planned' | 'failed'
  error?: string
}

export interface ContainerIsolation extends StepContainer {
  image?: string
  /** not-contained: the engine said done, but the check after the cut found the container still networked. */
  status: 'isolated' | 'already-isolated' | 'partial' | 'failed' | 'planned' | 'not-contained'
  stateBefore?: string
  stateAfter?: string
  networks: NetworkCut[]
  networkNotCut?: string
  /** What was checked after the cut, and how (inspect, /proc/<pid>/net/dev). */
  verification?: NetworkVerification
  /** With --capture: the live state read before the network cut. */
  live?: Omit<LiveCaptureResult, 'artifacts' | 'documents'>
  dockerSocket: boolean
  evidence: string[]
  actions: string[]
  warnings: string[]
  error?: ErrorInfo
}

export interface IsolateResult {
  caseId?: string
  dryRun: boolean
  mode: IsolateMode
  containers: ContainerIsolation[]
  /** Per host: reachable, done or failed (with the error), and its containers. */
  hosts?: HostOutcome[]
  /** Swarm services selected with --service: spec and desired state as recorded in the case. */
  services?: ServiceSummary[]
  ok: boolean
}

const FAILED = (status: string): boolean => status === 'failed' || status === 'partial' || status === 'not-contained'

/**
 * Contain containers without destroying evidence: store the (redacted) inspect first, then freeze
 * the processes (pause, or stop), then cut every network endpoint, recording each so `ir release`
 * can restore it. The selection (references, `--filter` selectors, swarm services) is resolved on
 * every reachable host; hosts are handled concurrently (at most `maxHosts`), containers per host
 * too (at most `concurrency`). An unreachable host is reported, audited (isolate, failure, {host,
 * engineId, error}) and left for a re-run: re-running the same isolate finishes the hosts that
 * failed and finds the others already isolated.
 */
export async function isolateOnHosts(opts: IsolateOptions): Promise<IsolateResult> {
  const {hosts: set, kase} = opts
  const selection = await selectTargets(set, opts.selection)
  const existing = kase ? (await readContainment(kase)).containers : {}
  const previous = kase ? await readFanout(kase, 'isolate') : undefined
  const services =
    kase && !opts.dryRun && selection.services.length > 0
      ? await recordServices(kase, selection.services)
      : selection.services.map((s) => ({
          name: s.service.name,
          id: s.service.id,
          mode: s.service.mode,
          ...(s.service.replicas === undefined ? {} : {replicas: s.service.replicas}),
          image: s.service.image,
          tasks: s.tasks.length,
          manager: s.manager.host,
          warnings: s.warnings,
        }))
  for (const s of selection.services) for (const w of s.warnings) opts.progress?.(`! service ${s.service.name}: ${w}`)

  const run = await runOnHosts<ContainerIsolation>({
    hosts: set,
    selection,
    maxHosts: opts.maxHosts,
    failed: FAILED,
    progress: opts.progress,
    work: (engine, host, targets) => isolateTargets({...opts, engine, host}, targets, existing),
    refFailures: (failed) => recordRefFailures(opts, failed),
    ...hostFailureAudit(kase, 'isolate', 'its containers were not isolated', {
      progress: opts.progress,
      engineIdOf: (host) => knownEngineId(previous, host),
    }),
  })
  if (kase && !opts.dryRun && (set.multi || set.unreachable.length > 0)) {
    await recordFanout(kase, 'isolate', {
      hosts: set,
      selection: opts.selection,
      options: {
        mode: opts.mode,
        ...(opts.stopTimeoutSeconds === undefined ? {} : {stopTimeoutSeconds: opts.stopTimeoutSeconds}),
      },
      outcomes: run.hosts,
      refs: refHosts(opts.selection, selection),
    })
  }
  return {
    ...(kase ? {caseId: kase.id} : {}),
    dryRun: opts.dryRun,
    mode: opts.mode,
    containers: run.containers,
    hosts: run.hosts,
    ...(services.length ? {services} : {}),
    ok: run.ok,
  }
}

async function isolateTargets(
  opts: OnHost<IsolateOptions>,
  targets: readonly Target[],
  existing: Record<string, ContainmentRecord>,
): Promise<ContainerIsolation[]> {
  const where = opts.host ? {host: opts.host.name, engineId: opts.host.engineId} : {}
  return mapBounded(targets, opts.concurrency ?? DEFAULT_CONCURRENCY, async (target) => {
    try {
      opts.signal?.throwIfAborted()
      const kase = opts.kase
      if (!kase || opts.dryRun) {
        const details = await opts.engine.containers.inspect(target.id)
        return await isolateOne(
          opts,
          target,
          details,
          findContainment(existing, details.id, opts.host?.engineId)?.record,
        )
      }
      // Held from reading the record to saving the new one: an `ir release` of the same container waits.
      return await withContainerLock(kase, target.id, opts.host?.engineId, async () => {
        const details = await opts.engine.containers.inspect(target.id)
        const fresh = (await readContainment(kase)).containers
        return isolateOne(opts, target, details, findContainment(fresh, details.id, opts.host?.engineId)?.record)
      })
    } catch (error) {
      const info = toErrorInfo(error)
      opts.progress?.(`✗ ${opts.host?.multi ? `${opts.host.name}/` : ''}${target.ref}: ${info.message}`)
      await opts.kase?.record({
        action: 'isolate',
        target: target.name,
        outcome: 'failure',
        msg: `Could not isolate ${target.name}${opts.host?.multi ? ` on ${opts.host.name}` : ''}: ${info.message}`,
        details: {containerId: target.id, ...where, error: info},
      })
      return {
        ref: target.ref,
        ...where,
        id: target.id,
        name: target.name,
        status: 'failed' as const,
        networks: [],
        dockerSocket: false,
        evidence: [],
        actions: [],
        warnings: [],
        error: info,
      }
    }
  })
}

function recordRefFailures(
  opts: {kase?: Case | undefined; progress?: ((line: string) => void) | undefined},
  failed: readonly ResolveFailure[],
): Promise<ContainerIsolation[]> {
  return reportRefFailures(failed, {
    ...opts,
    action: 'isolate',
    suggest: true,
    audit: (ref, message) => `Could not isolate ${ref}: ${message}`,
    entry: (ref, error) => ({
      ref,
      status: 'failed',
      networks: [],
      dockerSocket: false,
      evidence: [],
      actions: [],
      warnings: [],
      error,
    }),
  })
}

function planFreeze(mode: IsolateMode, state: string): 'pause' | 'stop' | undefined {
  if (mode === 'network-only') return undefined
  if (mode === 'stop') return state === 'running' || state === 'paused' || state === 'restarting' ? 'stop' : undefined
  // A paused container is already frozen; a stopped one has no processes to freeze.
  return state === 'running' || state === 'restarting' ? 'pause' : undefined
}

async function isolateOne(
  opts: OnHost<IsolateOptions>,
  target: Target,
  d: ContainerDetails,
  previous: ContainmentRecord | undefined,
): Promise<ContainerIsolation> {
  const ref = target.ref
  const host = opts.host
  const swarm = swarmTaskOf(d.labels, target)
  const where = {
    ...(host ? {host: host.name, engineId: host.engineId} : {}),
    ...(swarm ? {service: swarm.service.name, task: swarm.task.id} : {}),
  }
  const shown = host?.multi ? `${host.name}/${d.name}` : d.name
  const socket = mountsDockerSocket(d.mounts)
  const shared = sharedNetworkNote(d.networkMode)
  // An endpoint without a network id is not attached to anything (e.g. "bridge" on an engine started with --bridge=none).
  const endpoints = shared ? [] : d.endpoints.filter((ep) => ep.networkId)
  const freeze = planFreeze(opts.mode === 'network-only' && shared ? 'pause' : opts.mode, d.state)
  const warnings: string[] = []
  if (socket)
    warnings.push(
      'mounts the Docker socket: whoever controls it controls the engine; isolating it does not revoke that. Treat the host as compromised.',
    )
  if (shared)
    warnings.push(
      `${shared}; ${freeze ? 'its processes are frozen instead' : 'nothing could cut it'}. Its network was NOT cut.`,
    )
  if (opts.mode === 'network-only' && shared) warnings.push('--network-only cannot contain it: it was paused instead.')
  if (opts.mode === 'stop' && freeze === 'stop')
    warnings.push('stopping discards process memory; use the default (pause) to keep it for forensics.')
  if (swarm && opts.mode === 'stop' && freeze === 'stop')
    warnings.push(
      `it is a task of swarm service ${swarm.service.name}: the swarm replaces a stopped task with a new container of the same image. Pause it (the default) or scale the service down.`,
    )

  const capture = opts.capture === true && (d.state === 'running' || d.state === 'paused')
  const actions: string[] = [`store inspect (redacted) as evidence`]
  if (freeze === 'pause') actions.push(`${freeze} container ${d.name}`)
  if (capture)
    actions.push(
      `capture live state from /proc (processes, sockets, executables${opts.memory ? ', memory' : ''}) before the network cut`,
    )
  if (freeze === 'stop') actions.push(`${freeze} container ${d.name}`)
  for (const ep of endpoints)
    actions.push(
      `disconnect from network ${ep.networkName}${ep.aliases.length ? ` (aliases ${ep.aliases.join(', ')})` : ''}`,
    )
  const base = {
    ref,
    ...where,
    id: d.id,
    name: d.name,
    image: d.image,
    stateBefore: d.state,
    dockerSocket: socket,
    warnings,
    ...(shared ? {networkNotCut: shared} : {}),
  }

  // Isolated by this case already and nothing left to change: no new evidence, no engine call (a
  // re-run, or a resumed fan-out, must not duplicate what is done).
  if (previous?.status === 'isolated' && !freeze && endpoints.length === 0 && !capture) {
    if (!opts.dryRun && opts.kase) {
      await opts.kase.record({
        action: 'isolate',
        target: d.name,
        outcome: 'success',
        msg: `Already isolated: ${d.name} (${d.id.slice(0, 12)})${host?.multi ? ` on ${host.name}` : ''}`,
        details: {
          containerId: d.id,
          ...where,
          image: d.image,
          state: d.state,
          alreadyIsolated: true,
          isolatedAt: previous.isolatedAt,
        },
      })
    }
    opts.progress?.(`✓ ${shown}: already isolated, ${d.state}`)
    return {...base, status: 'already-isolated', stateAfter: d.state, networks: [], evidence: [], actions: [], warnings}
  }

  if (opts.dryRun || !opts.kase) {
    return {
      ...base,
      status: 'planned',
      stateAfter: d.state,
      networks: endpoints.map((ep) => ({
        network: ep.networkName,
        aliases: ep.aliases,
        ...(ep.ipAddress ? {ipAddress: ep.ipAddress} : {}),
        outcome: 'planned',
      })),
      evidence: [],
      actions,
    }
  }
  const kase = opts.kase

  const evidence: string[] = []
  const source: ArtifactSource = {
    containerId: d.id,
    containerName: d.name,
    image: d.image,
    imageId: d.imageId,
    engine: opts.engine.endpoint,
    ...where,
  }
  const inspectArtifact = await kase.addJsonEvidence({
    name: `${host?.dir ? `${host.dir}/` : ''}${safeFileName(d.name)}/inspect-${fileStamp()}.json`,
    type: 'container-inspect',
    description: `docker inspect of ${d.name}${host?.multi ? ` on ${host.name}` : ''} before isolation`,
    source,
    data: d.raw,
  })
  evidence.push(inspectArtifact.path)

  const networks: NetworkCut[] = []
  const cut: EndpointRecord[] = []
  let froze = false
  let error: ErrorInfo | undefined
  // Podman's compat API answers a disconnect of a paused container with success and leaves its interface up:
  // there the network is cut first, then the container paused (a moment in which processes run unconnected).
  const podman = (await engineKind(opts.engine)) === 'podman'
  const cutFirst = podman && freeze === 'pause'
  let live: LiveCaptureResult | undefined
  // After the pause and before anything else: connections die with the network cut, memory with a stop.
  const captureLive = async (frozen: boolean): Promise<void> => {
    try {
      live = await captureLiveState({
        engine: opts.engine,
        kase,
        details: d,
        dir: `${host?.dir ? `${host.dir}/` : ''}${safeFileName(d.name)}`,
        stamp: fileStamp(),
        source: evidenceSource(opts.engine, host, d, target).source,
        memory: opts.memory === true,
        frozen,
        ...(opts.procRoot ? {procRoot: opts.procRoot} : {}),
        ...(opts.signal ? {signal: opts.signal} : {}),
      })
    } catch (captureError) {
      warnings.push(`live state not captured: ${toErrorInfo(captureError).message}`)
      return
    }
    evidence.push(...live.artifacts.map((a) => a.path))
    if (live.status === 'unavailable') warnings.push(`live state not captured: ${live.reason}`)
    else if (live.status === 'partial')
      warnings.push(`live state partly captured: ${live.errors.slice(0, 3).join('; ')}`)
    opts.progress?.(liveStateLine(shown, live, opts.memory === true))
  }
  try {
    // Freeze first, so processes cannot react to losing the network (wipe, exfiltrate, pivot).
    if (freeze === 'pause' && !cutFirst) froze = (await opts.engine.containers.pause(d.id)) === 'done'
    if (capture) {
      if (cutFirst) {
        // Podman cuts first (see above): freeze for the capture alone, then let the cut-and-pause go on.
        const pausedHere = (await opts.engine.containers.pause(d.id)) === 'done'
        try {
          await captureLive(true)
        } finally {
          if (pausedHere) await opts.engine.containers.unpause(d.id)
        }
      } else await captureLive(froze || d.state === 'paused')
    }
    if (freeze === 'stop') froze = (await opts.engine.containers.stop(d.id, opts.stopTimeoutSeconds ?? 10)) === 'done'
    for (const ep of endpoints) {
      try {
        const outcome = await opts.engine.networks.disconnect(ep.networkId, d.id)
        cut.push(ep)
        networks.push({
          network: ep.networkName,
          aliases: ep.aliases,
          ...(ep.ipAddress ? {ipAddress: ep.ipAddress} : {}),
          outcome: outcome === 'done' ? 'disconnected' : 'already-disconnected',
        })
      } catch (epError) {
        networks.push({
          network: ep.networkName,
          aliases: ep.aliases,
          outcome: 'failed',
          error: toErrorInfo(epError).message,
        })
        error ??= toErrorInfo(epError)
      }
    }
    if (cutFirst) froze = (await opts.engine.containers.pause(d.id)) === 'done'
  } catch (opError) {
    error = toErrorInfo(opError)
  }

  const after = await opts.engine.containers.inspect(d.id).catch(() => undefined)
  // Verified, not assumed: the inspect, and on this machine the container's network namespace.
  const verification = shared
    ? undefined
    : await verifyNetworkCut(after, {
        local: localEngine(opts.engine.endpoint),
        ...(opts.procRoot ? {procRoot: opts.procRoot} : {}),
      })
  const notContained = verification !== undefined && !verification.contained
  if (notContained && !error) {
    error = {
      message: `NOT contained: ${shown} is still networked after the cut (${verification.how})`,
      exitCode: 1,
      code: 'FAILURE',
      hint: podman
        ? 'Podman: stop it (`ir isolate --stop`) or disconnect it by hand with `podman network disconnect`.'
        : 'Stop it (`ir isolate --stop`) or cut its network by hand.',
    }
  }
  const prevEndpoints = previous?.status === 'isolated' ? previous.endpoints : []
  const record: ContainmentRecord = {
    containerId: d.id,
    name: d.name,
    image: d.image,
    status: 'isolated',
    mode: previous?.status === 'isolated' ? previous.mode : opts.mode,
    stateBefore: previous?.status === 'isolated' ? previous.stateBefore : d.state,
    isolatedAt: previous?.status === 'isolated' ? previous.isolatedAt : new Date().toISOString(),
    // Keep endpoints cut by an earlier run: a second isolate sees none and must not forget them.
    endpoints: [...prevEndpoints.filter((p) => !cut.some((c) => c.networkId === p.networkId)), ...cut],
    networkCut: !shared && !notContained,
    ...(verification ? {verification} : {}),
    ...(shared ? {networkNote: shared} : {}),
    dockerSocket: socket,
    froze: froze || (previous?.status === 'isolated' && previous.froze),
    ...(host ? {host: host.name, engineId: host.engineId} : {}),
    ...(swarm ? {service: swarm.service, task: swarm.task} : {}),
  }
  await saveContainmentRecord(kase, record, containmentKey(d.id, host?.engineId, host?.multi))

  const changed = froze || networks.some((n) => n.outcome === 'disconnected')
  const status: ContainerIsolation['status'] = notContained
    ? 'not-contained'
    : error
      ? changed
        ? 'partial'
        : 'failed'
      : !changed && (previous?.status === 'isolated' || (d.state !== 'running' && endpoints.length === 0))
        ? 'already-isolated'
        : 'isolated'
  await kase.record({
    action: 'isolate',
    target: d.name,
    outcome: error ? (changed ? 'partial' : 'failure') : 'success',
    msg: `${status === 'already-isolated' ? 'Already isolated' : notContained ? 'NOT contained' : error ? 'Isolation incomplete' : 'Isolated'}: ${d.name} (${d.id.slice(0, 12)})${host?.multi ? ` on ${host.name}` : ''}${shared ? ' [network NOT cut: shared namespace]' : ''}${socket ? ' [mounts the Docker socket]' : ''}`,
    details: {
      containerId: d.id,
      ...where,
      image: d.image,
      mode: opts.mode,
      stateBefore: d.state,
      stateAfter: after?.state,
      froze,
      endpoints: cut,
      networkCut: record.networkCut,
      ...(verification ? {verification} : {}),
      ...(shared ? {networkNotCut: shared} : {}),
      dockerSocket: socket,
      evidence,
      ...(live ? {live: liveSummary(live)} : {}),
      ...(error ? {error} : {}),
    },
  })
  const line = notContained
    ? `✗ ${shown}: NOT contained, ${after?.state ?? 'unknown'}: ${verification.how}`
    : `${error ? '✗' : '✓'} ${shown}: ${status}, ${after?.state ?? 'unknown'}, ${networks.filter((n) => n.outcome === 'disconnected').length} network(s) cut${verification ? ' (verified)' : ''}`
  opts.progress?.(line)
  return {
    ...base,
    status,
    stateAfter: after?.state ?? 'unknown',
    networks,
    ...(verification ? {verification} : {}),
    ...(live ? {live: liveSummary(live)} : {}),
    evidence,
    actions,
    ...(error ? {error} : {}),
  }
}

const liveSummary = ({
  artifacts: _a,
  documents: _d,
  ...rest
}: LiveCaptureResult): Omit<LiveCaptureResult, 'artifacts' | 'documents'> => rest
