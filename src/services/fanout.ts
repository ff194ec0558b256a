import type {Case} from '../case/case-store.js'
import type {ConnectedHost, HostSet, HostSource, UnreachableHost} from '../docker/hosts.js'
import type {ErrorInfo} from '../errors.js'
import {mapBounded} from '../util/concurrency.js'
import type {HostTargets, Selection, SelectionResult, Target} from './targets.js'

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
