import type {Case, CaseStore} from '../case/case-store.js'
import {engineKind} from './containment-verify.js'
import {type ErrorInfo, toErrorInfo} from '../errors.js'
import {mapBounded} from '../util/concurrency.js'
import {
  type ContainmentRecord,
  findContainment,
  findIsolatingCase,
  readContainment,
  saveContainmentRecord,
  withContainerLock,
} from './containment-state.js'
import {
  type HostOutcome,
  runOnHosts,
  reportRefFailures,
  type OnHost,
  type StepOptions,
  type StepContainer,
} from './fanout.js'
import {DEFAULT_CONCURRENCY} from './isolate.js'
import {type ResolveFailure, selectTargets, type Target} from './targets.js'

export interface ReleaseOptions extends StepOptions {
  store: CaseStore
  /** The case that isolated the containers; when absent, each container's isolating case is found. */
  kase?: Case
  dryRun: boolean
}

export interface NetworkRestore {
  network: string
  aliases: string[]
  ipAddress?: string
  outcome: 'reconnected' | 'already-connected' | 'planned' | 'failed'
  error?: string
}

export interface ContainerRelease extends StepContainer {
  caseId?: string
  status: 'released' | 'not-isolated' | 'partial' | 'failed' | 'planned'
  stateAfter?: string
  networks: NetworkRestore[]
  actions: string[]
  error?: ErrorInfo
}

export interface ReleaseResult {
  dryRun: boolean
  containers: ContainerRelease[]
  hosts?: HostOutcome[]
  ok: boolean
}

const FAILED = (status: string): boolean => status === 'failed' || status === 'partial'

/**
 * Undo `ir isolate`: reconnect the recorded networks (aliases, static IPs, links), then unfreeze. Each
 * container is found on its host and released there, hosts concurrently.
 */
export async function releaseOnHosts(opts: ReleaseOptions): Promise<ReleaseResult> {
  const selection = await selectTargets(opts.hosts, opts.selection)
  const caseState = opts.kase ? (await readContainment(opts.kase)).containers : undefined
  const run = await runOnHosts<ContainerRelease>({
    hosts: opts.hosts,
    selection,
    maxHosts: opts.maxHosts,
    failed: FAILED,
    progress: opts.progress,
    work: (engine, host, targets) => releaseTargets({...opts, engine, host}, targets, caseState),
    refFailures: async (failed) => refFailures(opts, failed),
  })
  return {dryRun: opts.dryRun, ...run}
}

function refFailures(
  opts: {progress?: ((line: string) => void) | undefined},
  failed: readonly ResolveFailure[],
): Promise<ContainerRelease[]> {
  return reportRefFailures(failed, {
    ...opts,
    action: 'release',
    suggest: true,
    entry: (ref, error) => ({ref, status: 'failed', networks: [], actions: [], error}),
  })
}

async function releaseTargets(
  opts: OnHost<ReleaseOptions>,
  targets: readonly Target[],
  caseState: Record<string, ContainmentRecord> | undefined,
): Promise<ContainerRelease[]> {
  const where = opts.host ? {host: opts.host.name, engineId: opts.host.engineId} : {}
  return mapBounded(targets, opts.concurrency ?? DEFAULT_CONCURRENCY, async (target): Promise<ContainerRelease> => {
    try {
      opts.signal?.throwIfAborted()
      let kase = opts.kase
      let found = caseState ? findContainment(caseState, target.id, opts.host?.engineId) : undefined
      if (!kase) {
        const inCase = await findIsolatingCase(opts.store, target.id, opts.host?.engineId)
        kase = inCase?.kase
        found = inCase
      }
      const notIsolated = (): ContainerRelease => {
        const in_ = opts.kase ? `case ${opts.kase.id}` : 'any case'
        opts.progress?.(`- ${target.name}: not isolated by ${in_}; nothing to release`)
        return {
          ref: target.ref,
          ...where,
          id: target.id,
          name: target.name,
          status: 'not-isolated',
          networks: [],
          actions: [],
        }
      }
      if (!kase) return notIsolated()
      const k = kase
      if (opts.dryRun)
        return found?.record.status === 'isolated'
          ? await releaseOne(opts, k, target.ref, found.record, found.key)
          : notIsolated()
      // Held from reading the record to saving the new one: an `ir isolate` of the same container waits.
      return await withContainerLock(k, target.id, opts.host?.engineId, async () => {
        const fresh = findContainment((await readContainment(k)).containers, target.id, opts.host?.engineId)
        if (!fresh || fresh.record.status !== 'isolated') return notIsolated()
        return releaseOne(opts, k, target.ref, fresh.record, fresh.key)
      })
    } catch (error) {
      const info = toErrorInfo(error)
      opts.progress?.(`✗ ${target.ref}: ${info.message}`)
      return {
        ref: target.ref,
        ...where,
        id: target.id,
        name: target.name,
        status: 'failed',
        networks: [],
        actions: [],
        error: info,
      }
    }
  })
}

async function releaseOne(
  opts: OnHost<ReleaseOptions>,
  kase: Case,
  ref: string,
  record: ContainmentRecord,
  key: string,
): Promise<ContainerRelease> {
  const where = opts.host ? {host: opts.host.name, engineId: opts.host.engineId} : {}
  const d = await opts.engine.containers.inspect(record.containerId)
  const connected = new Set(d.endpoints.map((e) => e.networkId))
  const unfreeze = record.froze
    ? record.mode === 'stop'
      ? ['running', 'paused', 'restarting'].includes(record.stateBefore)
        ? 'start'
        : undefined
      : d.state === 'paused'
        ? 'unpause'
        : undefined
    : undefined
  const actions = record.endpoints.map(
    (ep) =>
      `reconnect to network ${ep.networkName}${ep.aliases.length ? ` with aliases ${ep.aliases.join(', ')}` : ''}${ep.staticIp ? ` at ${ep.ipv4Address ?? ep.ipv6Address}` : ''}`,
  )
  if (unfreeze) actions.push(`${unfreeze} container ${record.name}`)
  const base = {ref, ...where, id: d.id, name: d.name, caseId: kase.id}
  if (opts.dryRun) {
    return {
      ...base,
      status: 'planned',
      stateAfter: d.state,
      networks: record.endpoints.map((ep) => ({network: ep.networkName, aliases: ep.aliases, outcome: 'planned'})),
      actions,
    }
  }

  const networks: NetworkRestore[] = []
  let error: ErrorInfo | undefined
  const thaw = async (): Promise<void> => {
    try {
      if (unfreeze === 'unpause') await opts.engine.containers.unpause(d.id)
      if (unfreeze === 'start') await opts.engine.containers.start(d.id)
    } catch (opError) {
      error ??= toErrorInfo(opError)
    }
  }
  // Podman connects a paused container to nothing (as it disconnects none): unpause it first there.
  const podman = (await engineKind(opts.engine)) === 'podman'
  const thawFirst = unfreeze === 'unpause' && podman
  if (thawFirst) await thaw()
  for (const ep of record.endpoints) {
    if (connected.has(ep.networkId)) {
      networks.push({network: ep.networkName, aliases: ep.aliases, outcome: 'already-connected'})
      continue
    }
    try {
      // The default bridge takes no aliases; user-defined networks get them back.
      const spec = {
        ...(ep.networkName === 'bridge' ? {} : {aliases: ep.aliases}),
        ...(ep.staticIp && ep.ipv4Address ? {ipv4Address: ep.ipv4Address} : {}),
        ...(ep.staticIp && ep.ipv6Address ? {ipv6Address: ep.ipv6Address} : {}),
        ...(ep.links.length ? {links: ep.links} : {}),
        ...(ep.driverOpts ? {driverOpts: ep.driverOpts} : {}),
      }
      // Podman: the endpoint as it was. Its inspect does not say whether an address was static (no IPAMConfig), so
      // ask for the address the container had; and for its MAC address, because netavark sends no gratuitous ARP
      // on connect: with a new MAC, peers keep the old one in their neighbour caches and cannot reach it (measured:
      // still unreachable 20 s after release). Either may be taken by now: then connect as recorded.
      const sameEndpoint =
        podman && ep.networkName !== 'bridge' && ((!ep.staticIp && ep.ipAddress) || ep.macAddress)
          ? {
              ...spec,
              ...(!ep.staticIp && ep.ipAddress ? {ipv4Address: ep.ipAddress} : {}),
              ...(ep.macAddress ? {macAddress: ep.macAddress} : {}),
            }
          : undefined
      const outcome = sameEndpoint
        ? await opts.engine.networks
            .connect(ep.networkId, d.id, sameEndpoint)
            .catch(() => opts.engine.networks.connect(ep.networkId, d.id, spec))
        : await opts.engine.networks.connect(ep.networkId, d.id, spec)
      networks.push({
        network: ep.networkName,
        aliases: ep.aliases,
        outcome: outcome === 'done' ? 'reconnected' : 'already-connected',
      })
    } catch (epError) {
      const info = toErrorInfo(epError)
      networks.push({network: ep.networkName, aliases: ep.aliases, outcome: 'failed', error: info.message})
      error ??= info
    }
  }
  if (!thawFirst) await thaw()
  const after = await opts.engine.containers.inspect(d.id)
  for (const n of networks) {
    const ep = after.endpoints.find((e) => e.networkName === n.network)
    if (ep?.ipAddress) n.ipAddress = ep.ipAddress
  }
  if (!error) {
    await saveContainmentRecord(kase, {...record, status: 'released', releasedAt: new Date().toISOString()}, key)
  }
  await kase.record({
    action: 'release',
    target: d.name,
    outcome: error ? 'partial' : 'success',
    msg: `${error ? 'Release incomplete' : 'Released'}: ${d.name} (${d.id.slice(0, 12)})${opts.host?.multi ? ` on ${opts.host.name}` : ''}`,
    details: {containerId: d.id, ...where, networks, unfreeze, stateAfter: after.state, ...(error ? {error} : {})},
  })
  opts.progress?.(
    `${error ? '✗' : '✓'} ${d.name}: ${error ? 'partly released' : 'released'}, ${after.state}, ${networks.filter((n) => n.outcome === 'reconnected').length} network(s) restored`,
  )
  return {
    ...base,
    status: error ? 'partial' : 'released',
    stateAfter: after.state,
    networks,
    actions,
    ...(error ? {error} : {}),
  }
}
