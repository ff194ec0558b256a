import type {Case} from '../case/case-store.js'
import {
  type ConnectedHost,
  type HostRef,
  hostRef,
  type HostSet,
  type HostSource,
  type UnreachableHost,
} from '../docker/hosts.js'
import type {ContainerDetails, Engine} from '../docker/types.js'
import {type ErrorInfo, toErrorInfo} from '../errors.js'
import {mapBounded} from '../util/concurrency.js'
import type {HostTargets, ResolveFailure, Selection, SelectionResult, Target} from './targets.js'

/**
 * Running one step on many hosts: bounded overall (hosts at once) while each host bounds its own
 * containers; a host that cannot be reached or fails does not hold the others back. The outcome
 * per host is written to the case (state/fanout-<action>.json), so the step can be finished later
 * on the hosts that failed.
 */

export const DEFAULT_MAX_HOSTS = 8

export interface HostOutcome {
  host: string
  endpoint: string
  engineId?: string
  reachable: boolean
  /** done: every target handled (or none matched); failed: unreachable, not listable, or a target failed. */
  status: 'done' | 'failed'
  error?: ErrorInfo
  targets: Array<{id: string; name?: string; status: string}>
}

export interface FanoutHostState extends HostOutcome {
  source: HostSource
  attempts: number
  updatedAt: string
}

export interface FanoutState {
  action: string
  selection: {refs: string[]; filters?: Record<string, string[]>; services?: string[]}
  /** Step options needed to run it again (e.g. the isolate mode). */
  options: Record<string, unknown>
  /** Where each bare or qualified reference was found (host name), so a retry does not look for it again elsewhere. */
  refs: Record<string, string>
  hosts: Record<string, FanoutHostState>
  /** More than one host: the case uses the per-host evidence layout and engine-scoped containment keys. */
  multi: boolean
  updatedAt: string
}

export function fanoutFile(action: string): string {
  return `fanout-${action}.json`
}

export async function readFanout(kase: Case, action: string): Promise<FanoutState | undefined> {
  return kase.readState<FanoutState | undefined>(fanoutFile(action), undefined)
}

/** Run `work` for each reachable host with targets, at most `maxHosts` at once. */
export async function forEachHost<R>(
  perHost: readonly HostTargets[],
  maxHosts: number,
  work: (h: HostTargets) => Promise<R>,
): Promise<R[]> {
  return mapBounded(perHost, maxHosts, work)
}

/** What every response step is given: the engines (one engine is a set of one: singleHost) and what to select. */
export interface StepOptions {
  hosts: HostSet
  selection: Selection
  /** Containers per host at once. */
  concurrency?: number
  /** Hosts worked on at once (each bounds its containers with `concurrency`). */
  maxHosts?: number
  signal?: AbortSignal
  progress?: (line: string) => void
}

/** A step's options as one host's work sees them: its engine and its identity (name, engine id, evidence folder). */
export type OnHost<O extends StepOptions> = Omit<O, 'hosts' | 'selection'> & {engine: Engine; host: HostRef}

/** Byte progress for one long transfer; returns a callback and a finisher. */
export type TransferProgress = (label: string) => {onProgress: (bytes: number) => void; done: () => void}

/** What a step reports for each container it handled (or failed to find). */
export interface StepContainer {
  ref: string
  /** The host the container runs on, and its engine id. */
  host?: string
  engineId?: string
  /** Swarm service and task id, when the container is a swarm task. */
  service?: string
  task?: string
  id?: string
  name?: string
  status: string
}

/** One response step's work, run by runOnHosts on every host of a selection. */
export interface HostStep<C extends StepContainer> {
  hosts: HostSet
  selection: SelectionResult
  /** Hosts worked on at once (default DEFAULT_MAX_HOSTS). */
  maxHosts?: number | undefined
  /** A container status that makes its host (and the step) failed. */
  failed: (status: string) => boolean
  /** A container status the step's `ok` accepts (default: not failed); collect counts a partial one as not ok. */
  done?: (status: string) => boolean
  /** The containers of one reachable host, on its engine. */
  work: (engine: Engine, host: HostRef, targets: readonly Target[]) => Promise<C[]>
  /** References that selected nothing: reported (and audited) by the step. */
  refFailures: (failed: readonly ResolveFailure[]) => Promise<C[]>
  /** A host whose containers could not be listed (its outcome is failed either way). */
  onUnlisted?: (h: HostTargets & {error: ErrorInfo}) => Promise<void>
  /** A host that did not answer (its outcome is failed either way); returns its last known engine id, if any. */
  onUnreachable?: (u: UnreachableHost) => Promise<string | undefined>
  progress?: ((line: string) => void) | undefined
}

/**
 * The audit entries of a step for hosts it could not work on: one that could not be listed, one that did not
 * answer (`notDone` says what that means, e.g. "nothing was snapshotted there"). isolate also names them on stderr
 * and keeps the engine id last seen for an unreachable host.
 */
export function hostFailureAudit(
  kase: Case | undefined,
  action: string,
  notDone: string,
  opts: {progress?: ((line: string) => void) | undefined; engineIdOf?: (host: string) => string | undefined} = {},
): Pick<HostStep<StepContainer>, 'onUnlisted' | 'onUnreachable'> {
  return {
    onUnlisted: async (h) => {
      opts.progress?.(`✗ ${h.host.name}: ${h.error.message}`)
      await kase?.record({
        action,
        target: h.host.name,
        outcome: 'failure',
        msg: `Could not list containers on ${h.host.name}: ${h.error.message}`,
        details: {host: h.host.name, engineId: h.host.engineId, error: h.error},
      })
    },
    onUnreachable: async (u) => {
      const engineId = opts.engineIdOf?.(u.name)
      await kase?.record({
        action,
        target: u.name,
        outcome: 'failure',
        msg: `Host ${u.name} unreachable; ${notDone}: ${u.error.message}`,
        details: {host: u.name, ...(engineId ? {engineId} : {}), endpoint: u.endpoint, error: u.error},
      })
      return engineId
    },
  }
}

/**
 * References that selected nothing, as a step reports them: a line on stderr (with the "Did you mean" hint when
 * `suggest`), an audit entry when `audit` words it (release records none), and the step's failed entry.
 */
export async function reportRefFailures<C>(
  failed: readonly ResolveFailure[],
  opts: {
    kase?: Case | undefined
    action: string
    progress?: ((line: string) => void) | undefined
    suggest?: boolean
    audit?: (ref: string, message: string) => string
    entry: (ref: string, error: ErrorInfo) => C
  },
): Promise<C[]> {
  const out: C[] = []
  for (const f of failed) {
    const error = toErrorInfo(f.error)
    const hint = opts.suggest && error.hint?.startsWith('Did you mean') ? ` ${error.hint}` : ''
    opts.progress?.(`✗ ${f.ref}: ${error.message}${hint}`)
    if (opts.audit)
      await opts.kase?.record({
        action: opts.action,
        target: f.ref,
        outcome: 'failure',
        msg: opts.audit(f.ref, error.message),
        details: {error},
      })
    out.push(opts.entry(f.ref, error))
  }
  return out
}

/**
 * One host's containers for a step that reads each one (snapshot, collect): inspect, then `one`, at most
 * `concurrency` at once; a container that fails is named on stderr, audited (`audit` words it) and reported as
 * the step's failed entry, and the others carry on.
 */
export function eachContainer<C>(
  opts: OnHost<StepOptions> & {kase: Case},
  targets: readonly Target[],
  step: {
    action: string
    concurrency: number
    one: (t: Target, d: ContainerDetails) => Promise<C>
    audit: (name: string, message: string) => string
    failed: (t: Target, where: {host: string; engineId: string}, error: ErrorInfo) => C
  },
): Promise<C[]> {
  const where = {host: opts.host.name, engineId: opts.host.engineId}
  return mapBounded(targets, opts.concurrency ?? step.concurrency, async (t): Promise<C> => {
    try {
      opts.signal?.throwIfAborted()
      return await step.one(t, await opts.engine.containers.inspect(t.id))
    } catch (error) {
      const info = toErrorInfo(error)
      opts.progress?.(`✗ ${t.ref}: ${info.message}`)
      await opts.kase.record({
        action: step.action,
        target: t.name,
        outcome: 'failure',
        msg: step.audit(t.name, info.message),
        details: {containerId: t.id, ...where, error: info},
      })
      return step.failed(t, where, info)
    }
  })
}

export interface HostStepResult<C> {
  containers: C[]
  hosts: HostOutcome[]
  ok: boolean
}

/**
 * The one loop every response step runs: each reachable host's targets on its own engine (hosts concurrently,
 * at most maxHosts), a failed outcome for a host that could not be listed or reached, then the references that
 * selected nothing. One engine is a set of one host; the outcome is the same shape either way.
 */
export async function runOnHosts<C extends StepContainer>(step: HostStep<C>): Promise<HostStepResult<C>> {
  const {hosts: set} = step
  const perHost = await forEachHost(step.selection.perHost, step.maxHosts ?? DEFAULT_MAX_HOSTS, async (h) => {
    if (h.error) {
      await step.onUnlisted?.({...h, error: h.error})
      return {containers: [] as C[], outcome: hostOutcome(h.host, [], step.failed, h.error)}
    }
    const containers = await step.work(h.host.engine, hostRef(h.host, set.multi), h.targets)
    return {
      containers,
      outcome: hostOutcome(
        h.host,
        containers.map((c) => ({id: c.id ?? c.ref, ...(c.name ? {name: c.name} : {}), status: c.status})),
        step.failed,
      ),
    }
  })
  const outcomes: HostOutcome[] = perHost.map((p) => p.outcome)
  for (const u of set.unreachable) {
    step.progress?.(`✗ ${u.name}: unreachable: ${u.error.message}`)
    outcomes.push(unreachableOutcome(u, await step.onUnreachable?.(u)))
  }
  const containers = [...perHost.flatMap((p) => p.containers), ...(await step.refFailures(step.selection.failed))]
  return {
    containers,
    hosts: outcomes,
    ok:
      containers.every((c) => (step.done ? step.done(c.status) : !step.failed(c.status))) &&
      outcomes.every((o) => o.status === 'done'),
  }
}

/** Where each reference of the selection was resolved. */
export function refHosts(sel: Selection, result: SelectionResult): Record<string, string> {
  const out: Record<string, string> = {}
  for (const ref of sel.refs) {
    const hit = result.perHost.find((p) => p.targets.some((t: Target) => t.ref === ref))
    if (hit) out[ref] = hit.host.name
  }
  return out
}

export function unreachableOutcome(u: UnreachableHost, engineId?: string): HostOutcome {
  return {
    host: u.name,
    endpoint: u.endpoint,
    ...(engineId ? {engineId} : {}),
    reachable: false,
    status: 'failed',
    error: u.error,
    targets: [],
  }
}

export function hostOutcome(
  host: ConnectedHost,
  targets: HostOutcome['targets'],
  failed: (status: string) => boolean,
  error?: ErrorInfo,
): HostOutcome {
  const bad = targets.find((t) => failed(t.status))
  return {
    host: host.name,
    endpoint: host.endpoint,
    engineId: host.engineId,
    reachable: true,
    status: error || bad ? 'failed' : 'done',
    ...(error ? {error} : {}),
    targets,
  }
}

/** Merge this run's outcomes into state/fanout-<action>.json (hosts not in this run keep their entry). */
export async function recordFanout(
  kase: Case,
  action: string,
  run: {
    hosts: HostSet
    selection: Selection
    options: Record<string, unknown>
    outcomes: HostOutcome[]
    refs: Record<string, string>
  },
): Promise<FanoutState> {
  const now = new Date().toISOString()
  const sources = new Map<string, HostSource>([
    ...run.hosts.hosts.map((h) => [h.name, h.source] as const),
    ...run.hosts.unreachable.map((u) => [u.name, u.source] as const),
  ])
  const empty: FanoutState = {
    action,
    selection: {refs: []},
    options: {},
    refs: {},
    hosts: {},
    multi: run.hosts.multi,
    updatedAt: now,
  }
  return kase.updateState<FanoutState>(fanoutFile(action), empty, (prev) => {
    const hosts = {...prev.hosts}
    for (const o of run.outcomes) {
      const before = hosts[o.host]
      hosts[o.host] = {
        ...o,
        ...(o.engineId ? {} : before?.engineId ? {engineId: before.engineId} : {}),
        source: sources.get(o.host) ?? before?.source ?? {kind: 'host', value: o.endpoint},
        attempts: (before?.attempts ?? 0) + 1,
        updatedAt: now,
      }
    }
    return {
      action,
      selection: {
        refs: [...run.selection.refs],
        ...(run.selection.filters ? {filters: run.selection.filters} : {}),
        ...(run.selection.services?.length ? {services: [...run.selection.services]} : {}),
      },
      options: run.options,
      refs: {...prev.refs, ...run.refs},
      hosts,
      multi: prev.multi || run.hosts.multi,
      updatedAt: now,
    }
  })
}

/** The engine id last seen for a host (so an unreachable host's audit entry can still name it). */
export function knownEngineId(state: FanoutState | undefined, host: string): string | undefined {
  return state?.hosts[host]?.engineId
}
