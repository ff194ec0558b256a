import type {Case} from '../case/case-store.js'
import {fileStamp, safeFileName} from '../case/ids.js'
import {resolveContainers} from '../docker/resolve.js'
import type {ContainerDetails, Engine, EndpointRecord} from '../docker/types.js'
import {type ErrorInfo, toErrorInfo} from '../errors.js'
import {mapBounded} from '../util/concurrency.js'
import {
  type ContainmentRecord,
  type IsolateMode,
  mountsDockerSocket,
  readContainment,
  saveContainmentRecord,
  sharedNetworkNote,
} from './containment-state.js'

export const DEFAULT_CONCURRENCY = 8

export interface IsolateOptions {
  engine: Engine
  /** Undefined only for a dry run, which writes nothing. */
  kase?: Case
  targets: readonly string[]
  mode: IsolateMode
  dryRun: boolean
  concurrency?: number
  stopTimeoutSeconds?: number
  signal?: AbortSignal
  progress?: (line: string) => void
}

export interface NetworkCut {
  network: string
  aliases: string[]
  ipAddress?: string
  outcome: 'disconnected' | 'already-disconnected' | 'planned' | 'failed'
  error?: string
}

export interface ContainerIsolation {
  ref: string
  id?: string
  name?: string
  image?: string
  status: 'isolated' | 'already-isolated' | 'partial' | 'failed' | 'planned'
  stateBefore?: string
  stateAfter?: string
  networks: NetworkCut[]
  networkNotCut?: string
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
  ok: boolean
}

/**
 * Contain containers without destroying evidence: store the (redacted) inspect first, then freeze
 * the processes (pause, or stop), then cut every network endpoint, recording each so `ir release`
 * can restore it. Containers are handled concurrently with a bound.
 */
export async function isolateContainers(opts: IsolateOptions): Promise<IsolateResult> {
  const {resolved, failed} = await resolveContainers(opts.engine.containers, opts.targets)
  const existing = opts.kase ? (await readContainment(opts.kase)).containers : {}
  const results = await mapBounded(resolved, opts.concurrency ?? DEFAULT_CONCURRENCY, async (target) => {
    try {
      opts.signal?.throwIfAborted()
      const details = await opts.engine.containers.inspect(target.id)
      return await isolateOne(opts, target.ref, details, existing[details.id])
    } catch (error) {
      const info = toErrorInfo(error)
      opts.progress?.(`✗ ${target.ref}: ${info.message}`)
      return {ref: target.ref, id: target.id, name: target.name, status: 'failed' as const, networks: [], dockerSocket: false, evidence: [], actions: [], warnings: [], error: info}
    }
  })
  const failures: ContainerIsolation[] = failed.map((f) => ({ref: f.ref, status: 'failed', networks: [], dockerSocket: false, evidence: [], actions: [], warnings: [], error: toErrorInfo(f.error)}))
  for (const f of failures) {
    opts.progress?.(`✗ ${f.ref}: ${f.error?.message}`)
    await opts.kase?.record({action: 'isolate', target: f.ref, outcome: 'failure', msg: `Could not isolate ${f.ref}: ${f.error?.message}`, details: {error: f.error}})
  }
  const containers = [...results, ...failures]
  return {
    ...(opts.kase ? {caseId: opts.kase.id} : {}),
    dryRun: opts.dryRun,
    mode: opts.mode,
    containers,
    ok: containers.every((c) => c.status !== 'failed' && c.status !== 'partial'),
  }
}

function planFreeze(mode: IsolateMode, state: string): 'pause' | 'stop' | undefined {
  if (mode === 'network-only') return undefined
  if (mode === 'stop') return state === 'running' || state === 'paused' || state === 'restarting' ? 'stop' : undefined
  // A paused container is already frozen; a stopped one has no processes to freeze.
  return state === 'running' || state === 'restarting' ? 'pause' : undefined
}

async function isolateOne(opts: IsolateOptions, ref: string, d: ContainerDetails, previous: ContainmentRecord | undefined): Promise<ContainerIsolation> {
  const socket = mountsDockerSocket(d.mounts)
  const shared = sharedNetworkNote(d.networkMode)
  const endpoints = shared ? [] : d.endpoints
  const freeze = planFreeze(opts.mode === 'network-only' && shared ? 'pause' : opts.mode, d.state)
  const warnings: string[] = []
  if (socket) warnings.push('mounts the Docker socket: whoever controls it controls the engine; isolating it does not revoke that. Treat the host as compromised.')
  if (shared) warnings.push(`${shared}; ${freeze ? 'its processes are frozen instead' : 'nothing could cut it'}. Its network was NOT cut.`)
  if (opts.mode === 'network-only' && shared) warnings.push('--network-only cannot contain it: it was paused instead.')
  if (opts.mode === 'stop' && freeze === 'stop') warnings.push('stopping discards process memory; use the default (pause) to keep it for forensics.')

  const actions: string[] = [`store inspect (redacted) as evidence`]
  if (freeze) actions.push(`${freeze} container ${d.name}`)
  for (const ep of endpoints) actions.push(`disconnect from network ${ep.networkName}${ep.aliases.length ? ` (aliases ${ep.aliases.join(', ')})` : ''}`)
  const base = {ref, id: d.id, name: d.name, image: d.image, stateBefore: d.state, dockerSocket: socket, warnings, ...(shared ? {networkNotCut: shared} : {})}

  if (opts.dryRun || !opts.kase) {
    return {...base, status: 'planned', stateAfter: d.state, networks: endpoints.map((ep) => ({network: ep.networkName, aliases: ep.aliases, ...(ep.ipAddress ? {ipAddress: ep.ipAddress} : {}), outcome: 'planned'})), evidence: [], actions}
  }
  const kase = opts.kase

  const evidence: string[] = []
  const inspectArtifact = await kase.addJsonEvidence({
    name: `${safeFileName(d.name)}/inspect-${fileStamp()}.json`,
    type: 'container-inspect',
    description: `docker inspect of ${d.name} before isolation`,
    source: {containerId: d.id, containerName: d.name, image: d.image, imageId: d.imageId, engine: opts.engine.endpoint},
    data: d.raw,
  })
  evidence.push(inspectArtifact.path)

  const networks: NetworkCut[] = []
  const cut: EndpointRecord[] = []
  let froze = false
  let error: ErrorInfo | undefined
  try {
    // Freeze first, so processes cannot react to losing the network (wipe, exfiltrate, pivot).
    if (freeze === 'pause') froze = (await opts.engine.containers.pause(d.id)) === 'done'
    if (freeze === 'stop') froze = (await opts.engine.containers.stop(d.id, opts.stopTimeoutSeconds ?? 10)) === 'done'
    for (const ep of endpoints) {
      try {
        const outcome = await opts.engine.networks.disconnect(ep.networkId, d.id)
        cut.push(ep)
        networks.push({network: ep.networkName, aliases: ep.aliases, ...(ep.ipAddress ? {ipAddress: ep.ipAddress} : {}), outcome: outcome === 'done' ? 'disconnected' : 'already-disconnected'})
      } catch (epError) {
        networks.push({network: ep.networkName, aliases: ep.aliases, outcome: 'failed', error: toErrorInfo(epError).message})
        error ??= toErrorInfo(epError)
      }
    }
  } catch (opError) {
    error = toErrorInfo(opError)
  }

  const after = await opts.engine.containers.inspect(d.id).catch(() => undefined)
  const stillConnected = shared ? [] : (after?.endpoints ?? []).map((e) => e.networkName)
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
    networkCut: !shared && stillConnected.length === 0,
    ...(shared ? {networkNote: shared} : {}),
    dockerSocket: socket,
    froze: froze || (previous?.status === 'isolated' && previous.froze),
  }
  await saveContainmentRecord(kase, record)

  const changed = froze || networks.some((n) => n.outcome === 'disconnected')
  const status: ContainerIsolation['status'] = error ? (changed ? 'partial' : 'failed') : !changed && (previous?.status === 'isolated' || (d.state !== 'running' && endpoints.length === 0)) ? 'already-isolated' : 'isolated'
  await kase.record({
    action: 'isolate',
    target: d.name,
    outcome: error ? (changed ? 'partial' : 'failure') : 'success',
    msg: `${status === 'already-isolated' ? 'Already isolated' : error ? 'Isolation incomplete' : 'Isolated'}: ${d.name} (${d.id.slice(0, 12)})${shared ? ' [network NOT cut: shared namespace]' : ''}${socket ? ' [mounts the Docker socket]' : ''}`,
    details: {
      containerId: d.id,
      image: d.image,
      mode: opts.mode,
      stateBefore: d.state,
      stateAfter: after?.state,
      froze,
      endpoints: cut,
      networkCut: record.networkCut,
      ...(shared ? {networkNotCut: shared} : {}),
      dockerSocket: socket,
      evidence,
      ...(error ? {error} : {}),
    },
  })
  const line = `${error ? '✗' : '✓'} ${d.name}: ${status}, ${after?.state ?? 'unknown'}, ${networks.filter((n) => n.outcome === 'disconnected').length} network(s) cut`
  opts.progress?.(line)
  return {...base, status, stateAfter: after?.state ?? 'unknown', networks, evidence, actions, ...(error ? {error} : {})}
}
