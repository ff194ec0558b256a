import type {Case} from '../case/case-store.js'
import {connectHosts, type HostSpec, hostSpecFromSource} from '../docker/hosts.js'
import type {Engine} from '../docker/types.js'
import {AbortError} from '../errors.js'
import type {Logger} from '../util/logger.js'
import type {IsolateMode} from './containment-state.js'
import {readFanout} from './fanout.js'
import {type IsolateResult, isolateOnHosts} from './isolate.js'

export interface RetryOptions {
  kase: Case
  /** The fan-out step to finish (state/fanout-<action>.json). */
  action: 'isolate'
  log: Logger
  /** Engine client for a host (tests inject fakes; the CLI uses dockerode). */
  makeEngine: (spec: HostSpec) => Engine
  env?: NodeJS.ProcessEnv
  concurrency?: number
  maxHosts?: number
  signal?: AbortSignal
  progress?: (line: string) => void
}

export interface RetryResult extends IsolateResult {
  /** Hosts that were tried again. */
  retried: string[]
}

/**
 * Finish a fan-out on the hosts that failed (unreachable, or a container not isolated): reconnect
 * to them as recorded in the case, and run the same step with the same selection. Hosts already
 * done are not touched, except the swarm manager when services are selected (read-only there, and
 * isolating is idempotent). References already found on a done host are not looked for again.
 * Re-running the original command has the same effect; this is the entry point for a playbook resume.
 */
export async function retryFailedHosts(opts: RetryOptions): Promise<RetryResult> {
  const state = await readFanout(opts.kase, opts.action)
  if (!state)
    throw new AbortError(`Case ${opts.kase.id} has no ${opts.action} across hosts to finish`, {
      exit: 'NOT_FOUND',
      hint: `state/fanout-${opts.action}.json is written by a multi-host ${opts.action}.`,
    })
  const entries = Object.values(state.hosts)
  const failed = entries.filter((h) => h.status === 'failed')
  const mode = (state.options.mode as IsolateMode | undefined) ?? 'pause'
  const empty: RetryResult = {
    caseId: opts.kase.id,
    dryRun: false,
    mode,
    containers: [],
    hosts: [],
    ok: true,
    retried: [],
  }
  if (failed.length === 0) return empty
  const withServices = Boolean(state.selection.services?.length)
  const chosen = withServices ? entries : failed
  const specs = await Promise.all(chosen.map((h) => hostSpecFromSource(h.source, opts.env ?? process.env)))
  const hosts = await connectHosts(specs, {
    log: opts.log,
    makeEngine: opts.makeEngine,
    multi: state.multi,
    allowNone: true,
  })
  const done = new Set(entries.filter((h) => h.status === 'done').map((h) => h.host))
  const refs = state.selection.refs.filter((r) => !(state.refs[r] && done.has(state.refs[r])))
  const result = await isolateOnHosts({
    hosts,
    kase: opts.kase,
    selection: {
      refs,
      ...(state.selection.filters ? {filters: state.selection.filters} : {}),
      ...(state.selection.services ? {services: state.selection.services} : {}),
    },
    mode,
    dryRun: false,
    ...(typeof state.options.stopTimeoutSeconds === 'number'
      ? {stopTimeoutSeconds: state.options.stopTimeoutSeconds}
      : {}),
    ...(opts.concurrency ? {concurrency: opts.concurrency} : {}),
    ...(opts.maxHosts ? {maxHosts: opts.maxHosts} : {}),
    ...(opts.signal ? {signal: opts.signal} : {}),
    ...(opts.progress ? {progress: opts.progress} : {}),
  })
  return {...result, retried: failed.map((h) => h.host)}
}
