import type {ConnectedHost, HostSet} from '../docker/hosts.js'
import {engineKind} from '../docker/engine-kind.js'
import type {ContainerClient, ContainerSummary, SwarmService, SwarmTask} from '../docker/types.js'
import {AbortError, type ErrorInfo, toErrorInfo} from '../errors.js'
import {mapBounded} from '../util/concurrency.js'
import {notFoundHint} from './suggest.js'

/**
 * The one road from a reference to a container: parseRef reads what the user wrote once (host qualifier,
 * container part), matchRef finds it in an engine's container list (full id, name, unique id prefix) and says
 * ambiguous or not found as a typed result, findHost matches a host qualifier, and selectTargets does all of it
 * on a set of hosts (one engine is a set of one). No caller parses an error message to learn what happened.
 */

/** A container reference as written: `web-1`, `node-2/web-1`, `unix:///run/e1.sock/web-1`, a full id, an id prefix. */
export interface ContainerRef {
  /** As given (the key of results and of the fan-out state). */
  ref: string
  /** The `host/` qualifier, when there is one. */
  host?: string
  /** The container part: trimmed, without a leading slash. */
  container: string
}

/** Read a reference once: trim it, split off a `host/` qualifier at the last slash, drop a leading slash. */
export function parseRef(ref: string): ContainerRef {
  const text = ref.trim()
  const i = text.lastIndexOf('/')
  if (i <= 0) return {ref, container: text.replace(/^\//, '')}
  return {ref, host: text.slice(0, i), container: text.slice(i + 1)}
}

/** How a reference matched on one engine. */
export type RefMatch =
  | {kind: 'found'; by: 'id' | 'name' | 'id-prefix'; id: string; name: string}
  | {kind: 'ambiguous'; matches: ContainerSummary[]}
  | {kind: 'not-found'}

/** Match the container part of a reference in one engine's list: full id, then exact name, then a unique id prefix. */
export function matchRef(all: readonly ContainerSummary[], container: string): RefMatch {
  const shown = (c: ContainerSummary): string => c.names[0] ?? c.id.slice(0, 12)
  const byId = all.find((c) => c.id === container)
  if (byId) return {kind: 'found', by: 'id', id: byId.id, name: shown(byId)}
  const byName = all.find((c) => c.names.includes(container))
  if (byName) return {kind: 'found', by: 'name', id: byName.id, name: container}
  if (/^[0-9a-f]+$/i.test(container)) {
    const matches = all.filter((c) => c.id.startsWith(container.toLowerCase()))
    if (matches.length === 1) return {kind: 'found', by: 'id-prefix', id: matches[0]!.id, name: shown(matches[0]!)}
    if (matches.length > 1) return {kind: 'ambiguous', matches}
  }
  return {kind: 'not-found'}
}

/** A container as resolved from a reference. */
export interface Resolved {
  ref: string
  id: string
  name: string
}

/** Why a reference selected nothing. */
export type FailureReason =
  'not-found' | 'ambiguous' | 'unknown-host' | 'host-ambiguous' | 'host-unreachable' | 'host-unlisted' | 'service'

export interface ResolveFailure {
  ref: string
  reason: FailureReason
  error: AbortError
}

function ambiguousError(shownRef: string, matches: readonly ContainerSummary[]): AbortError {
  const names = matches
    .slice(0, 5)
    .map((m) => `${m.names[0] ?? ''} (${m.id.slice(0, 12)})`)
    .join(', ')
  return new AbortError(`"${shownRef}" is ambiguous: it matches ${matches.length} containers: ${names}`, {
    exit: 'NOT_FOUND',
    hint: 'Give a longer id prefix or the container name.',
  })
}

/** One engine's answer for a reference: the container, or the failure (ambiguous, not found) with its error. */
export function resolveRef(all: readonly ContainerSummary[], r: ContainerRef): Resolved | ResolveFailure {
  const m = matchRef(all, r.container)
  if (m.kind === 'found') return {ref: r.ref, id: m.id, name: m.name}
  // A qualified reference is named by its container part: the host was found.
  const shownRef = r.host === undefined ? r.ref.trim() : r.container
  if (m.kind === 'ambiguous') return {ref: r.ref, reason: 'ambiguous', error: ambiguousError(shownRef, m.matches)}
  return {
    ref: r.ref,
    reason: 'not-found',
    error: new AbortError(`No container named or with id "${shownRef}"`, {
      exit: 'NOT_FOUND',
      hint: notFoundHint(all, r.container),
    }),
  }
}

/**
 * References on one engine, with one list call for all of them (services that work on one engine: audit,
 * rotate). Unknown and ambiguous references are failures so the others still proceed; a container named twice
 * is resolved once.
 */
export async function resolveContainers(
  client: ContainerClient,
  refs: readonly string[],
): Promise<{resolved: Resolved[]; failed: ResolveFailure[]}> {
  const all = await client.list({all: true})
  const resolved: Resolved[] = []
  const failed: ResolveFailure[] = []
  for (const ref of refs) {
    const r = resolveRef(all, parseRef(ref))
    if ('error' in r) failed.push(r)
    else if (!resolved.some((x) => x.id === r.id)) resolved.push(r)
  }
  return {resolved, failed}
}

/**
 * Which host a `host/` qualifier names: the host name, its endpoint, its engine id, or its engine
 * hostname when only one host has it.
 */
export function findHost(
  hosts: readonly Pick<ConnectedHost, 'name' | 'endpoint' | 'engineId' | 'engineName'>[],
  qualifier: string,
): number[] {
  const exact = hosts.flatMap((h, i) =>
    h.name === qualifier || h.endpoint === qualifier || h.engineId === qualifier ? [i] : [],
  )
  if (exact.length > 0) return exact
  return hosts.flatMap((h, i) => (h.engineName === qualifier ? [i] : []))
}

/**
 * Which containers, on which hosts: references (`web-1`, `host/web-1`, id prefixes), selectors in
 * the docker CLI's filter syntax (`label=app=web`, `ancestor=<image>`), and swarm services (every
 * task's container, on the node engine running it).
 */
export interface Selection {
  refs: readonly string[]
  /** Engine container-list filters, e.g. {label: ['app=web'], ancestor: ['nginx']}. */
  filters?: Record<string, string[]>
  /** Swarm service names or ids. */
  services?: readonly string[]
}

export interface Target extends Resolved {
  /** Set when the container was selected as a swarm task. */
  service?: {id: string; name: string}
  task?: {id: string; slot?: number; nodeId?: string}
}

export interface HostTargets {
  host: ConnectedHost
  targets: Target[]
  /** Listing containers on this host failed: its targets are unknown. */
  error?: ErrorInfo
}

/** A swarm service as found on its manager, with its running tasks: what recovery needs to restore it. */
export interface ServiceSelection {
  service: SwarmService
  /** The manager host it was read from. */
  manager: {host: string; engineId: string}
  tasks: Array<SwarmTask & {host?: string; node?: string}>
  warnings: string[]
}

export interface SelectionResult {
  perHost: HostTargets[]
  /** References that matched nothing, were ambiguous, or name a host that is unknown or unreachable. */
  failed: ResolveFailure[]
  services: ServiceSelection[]
}

/** Filter keys `docker ps --filter` understands. */
export const CONTAINER_FILTER_KEYS = [
  'ancestor',
  'before',
  'expose',
  'exited',
  'health',
  'id',
  'is-task',
  'isolation',
  'label',
  'name',
  'network',
  'publish',
  'since',
  'status',
  'volume',
] as const

/** `--filter label=app=web --filter ancestor=nginx` -> {label: ['app=web'], ancestor: ['nginx']} (the docker CLI's syntax). */
export function parseFilters(values: readonly string[] | undefined): Record<string, string[]> | undefined {
  if (!values?.length) return undefined
  const out: Record<string, string[]> = {}
  for (const raw of values) {
    const eq = raw.indexOf('=')
    const key = (eq < 0 ? raw : raw.slice(0, eq)).trim()
    const value = eq < 0 ? '' : raw.slice(eq + 1).trim()
    if (!(CONTAINER_FILTER_KEYS as readonly string[]).includes(key)) {
      throw new AbortError(`--filter "${raw}": unknown filter "${key}"`, {
        exit: 'USAGE',
        hint: `Use key=value with a key docker ps knows: ${CONTAINER_FILTER_KEYS.join(', ')} (e.g. label=app=web, ancestor=nginx:1.25).`,
      })
    }
    if (!value)
      throw new AbortError(`--filter "${raw}" has no value`, {
        exit: 'USAGE',
        hint: 'Write it as key=value, e.g. ancestor=nginx or label=app=web.',
      })
    ;(out[key] ??= []).push(value)
  }
  return out
}

const TASK_STATES_WITHOUT_CONTAINER = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing'])

/**
 * Resolve a selection on every reachable host, concurrently: one container list per host (two
 * when both references and filters are given). A bare reference must match on exactly one host;
 * matches on several is an error naming them.
 */
export async function selectTargets(
  set: HostSet,
  sel: Selection,
  opts: {concurrency?: number} = {},
): Promise<SelectionResult> {
  const hosts = set.hosts
  const needAll = sel.refs.length > 0
  type Listing = {all: ContainerSummary[]; filtered: ContainerSummary[]} | {error: ErrorInfo}
  const listings = await mapBounded(hosts, opts.concurrency ?? 16, async (host): Promise<Listing> => {
    try {
      const all = needAll ? await host.engine.containers.list({all: true}) : []
      const filtered = sel.filters ? await host.engine.containers.list({all: false, filters: sel.filters}) : []
      return {all, filtered}
    } catch (error) {
      return {error: toErrorInfo(error)}
    }
  })
  const perHost: HostTargets[] = hosts.map((host, i) => {
    const l = listings[i]!
    return {host, targets: [], ...('error' in l ? {error: l.error} : {})}
  })
  // The same engine reached through two addresses lists the same containers: handle each once.
  const owner = new Map<string, number>()
  const add = (i: number, t: Target): void => {
    const key = `${hosts[i]!.engineId}/${t.id}`
    const first = owner.get(key)
    if (first !== undefined && first !== i) return
    owner.set(key, i)
    const slot = perHost[i]!
    const existing = slot.targets.find((x) => x.id === t.id)
    if (!existing) slot.targets.push(t)
    else if (t.service && !existing.service) Object.assign(existing, {service: t.service, task: t.task})
  }
  const failed: ResolveFailure[] = []
  const unreachableNames = set.unreachable.map((u) => u.name)
  const listFailed = perHost.filter((p) => p.error).map((p) => p.host.name)

  for (const ref of sel.refs) {
    const r = parseRef(ref)
    if (r.host !== undefined) {
      const qualifier = r.host
      const idx = findHost(hosts, qualifier)
      if (idx.length === 0) {
        const down = set.unreachable.find((u) => u.name === qualifier || u.endpoint === qualifier)
        failed.push(
          down
            ? {
                ref,
                reason: 'host-unreachable',
                error: new AbortError(`"${ref}": host ${down.name} is unreachable (${down.error.message})`, {
                  exit: 'ENGINE_UNREACHABLE',
                }),
              }
            : {
                ref,
                reason: 'unknown-host',
                error: new AbortError(`"${ref}": no host named "${qualifier}"`, {
                  exit: 'NOT_FOUND',
                  hint: `Hosts: ${[...hosts.map((h) => h.name), ...unreachableNames].join(', ')}.`,
                }),
              },
        )
        continue
      }
      if (idx.length > 1) {
        failed.push({
          ref,
          reason: 'host-ambiguous',
          error: new AbortError(
            `"${ref}": "${qualifier}" names ${idx.length} hosts (${idx.map((i) => hosts[i]!.name).join(', ')})`,
            {exit: 'NOT_FOUND', hint: 'Qualify with the host name or the engine id.'},
          ),
        })
        continue
      }
      const i = idx[0]!
      const l = listings[i]!
      if ('error' in l) {
        failed.push({
          ref,
          reason: 'host-unlisted',
          error: new AbortError(`"${ref}": containers on ${hosts[i]!.name} could not be listed: ${l.error.message}`, {
            exit: l.error.code,
          }),
        })
        continue
      }
      const one = resolveRef(l.all, r)
      if ('error' in one) failed.push(one)
      else add(i, one)
      continue
    }
    // A bare reference: look on every host.
    const hits: Array<{i: number; id: string; name: string}> = []
    const ambiguousOn: ContainerSummary[][] = []
    listings.forEach((l, i) => {
      if ('error' in l) return
      const m = matchRef(l.all, r.container)
      if (m.kind === 'found') hits.push({i, id: m.id, name: m.name})
      else if (m.kind === 'ambiguous') ambiguousOn.push(m.matches)
    })
    if (hits.length === 1 && ambiguousOn.length === 0) {
      add(hits[0]!.i, {ref, id: hits[0]!.id, name: hits[0]!.name})
    } else if (hits.length > 1) {
      const where = hits.map((h) => `${hosts[h.i]!.name} (${h.name}, ${h.id.slice(0, 12)})`).join(', ')
      failed.push({
        ref,
        reason: 'ambiguous',
        error: new AbortError(`"${ref}" is ambiguous: it matches on ${hits.length} hosts: ${where}`, {
          exit: 'NOT_FOUND',
          hint: `Qualify it as <host>/${r.container}, e.g. ${hosts[hits[0]!.i]!.name}/${r.container}.`,
        }),
      })
    } else if (ambiguousOn.length > 0) {
      failed.push({ref, reason: 'ambiguous', error: ambiguousError(r.container, ambiguousOn[0]!)})
    } else {
      const missing = [...unreachableNames, ...listFailed]
      const base =
        hosts.length > 1 || set.unreachable.length > 0
          ? `No container named or with id "${ref}" on ${hosts.length === 1 ? hosts[0]!.name : `any of ${hosts.length} hosts`}`
          : `No container named or with id "${ref}"`
      failed.push({
        ref,
        reason: 'not-found',
        error: new AbortError(missing.length ? `${base} (not searched: ${missing.join(', ')})` : base, {
          exit: 'NOT_FOUND',
          hint: notFoundHint(
            listings.flatMap((l) => ('error' in l ? [] : l.all)),
            r.container,
          ),
        }),
      })
    }
  }

  if (sel.filters) {
    listings.forEach((l, i) => {
      if ('error' in l) return
      for (const c of l.filtered) add(i, summaryTarget(c))
    })
  }

  const services: ServiceSelection[] = []
  if (sel.services?.length) {
    const found = await selectServices(set, sel.services, add)
    services.push(...found.services)
    failed.push(...found.failed)
  }
  return {perHost, failed, services}
}

function summaryTarget(c: ContainerSummary): Target {
  const name = c.names[0] ?? c.id.slice(0, 12)
  return {ref: name, id: c.id, name}
}

/**
 * Swarm services: read each service and its tasks with desired state running on a manager, and
 * map every task's container to the host whose engine is the task's node.
 */
async function selectServices(
  set: HostSet,
  names: readonly string[],
  add: (i: number, t: Target) => void,
): Promise<{services: ServiceSelection[]; failed: ResolveFailure[]}> {
  const failed: ResolveFailure[] = []
  const states = await Promise.all(set.hosts.map((h) => h.engine.swarm.state().catch(() => undefined)))
  const managerIdx = states.findIndex((s) => s?.controlAvailable)
  if (managerIdx < 0) {
    const podmanOnly = (await Promise.all(set.hosts.map((h) => engineKind(h.engine)))).every((k) => k === 'podman')
    for (const name of names) {
      failed.push({
        ref: name,
        reason: 'service',
        error: podmanOnly
          ? new AbortError(
              `Service "${name}": Podman has no swarm mode (${set.hosts.map((h) => h.name).join(', ')}); services need a Docker Engine swarm manager`,
              {
                exit: 'PRECONDITION',
                hint: 'Select the containers themselves (names, --filter label=...), or point --host at a Docker swarm manager.',
              },
            )
          : new AbortError(
              `Service "${name}": none of the hosts is a swarm manager (${set.hosts.map((h) => h.name).join(', ')})`,
              {
                exit: 'NOT_FOUND',
                hint: 'Add a manager node with --host, --context or --hosts (`docker node ls` on it lists the nodes).',
              },
            ),
      })
    }
    return {services: [], failed}
  }
  const manager = set.hosts[managerIdx]!
  const nodes = await manager.engine.swarm.nodes().catch(() => [])
  const services: ServiceSelection[] = []
  for (const name of names) {
    let service: SwarmService
    try {
      service = await manager.engine.swarm.inspectService(name)
    } catch (error) {
      const info = toErrorInfo(error)
      failed.push({
        ref: name,
        reason: 'service',
        error: new AbortError(`Service "${name}" not found on the swarm manager ${manager.name}: ${info.message}`, {
          exit: info.code === 'NOT_FOUND' ? 'NOT_FOUND' : info.code,
          hint: 'List services with `docker service ls` on a manager.',
        }),
      })
      continue
    }
    const tasks = await manager.engine.swarm.tasks({service: [service.id], 'desired-state': ['running']})
    const warnings: string[] = []
    const rows: ServiceSelection['tasks'] = []
    for (const task of tasks) {
      const node = nodes.find((n) => n.id === task.nodeId)
      const hostIdx = states.findIndex((s) => s?.nodeId !== undefined && s.nodeId === task.nodeId)
      const host = hostIdx >= 0 ? set.hosts[hostIdx] : undefined
      rows.push({...task, ...(host ? {host: host.name} : {}), ...(node?.hostname ? {node: node.hostname} : {})})
      const taskRef = `${service.name}.${task.slot ?? task.id.slice(0, 12)}`
      if (!task.containerId) {
        if (TASK_STATES_WITHOUT_CONTAINER.has(task.state))
          warnings.push(`task ${taskRef} (${task.id.slice(0, 12)}) has no container yet (${task.state})`)
        else
          warnings.push(
            `task ${taskRef} (${task.id.slice(0, 12)}) reports no container (${task.state}${task.message ? `: ${task.message}` : ''})`,
          )
        continue
      }
      if (!host) {
        const where = node ? `node ${node.hostname} (${task.nodeId})` : `node ${task.nodeId ?? 'unknown'}`
        failed.push({
          ref: taskRef,
          reason: 'host-unreachable',
          error: new AbortError(
            `Task ${taskRef} of service ${service.name} runs on ${where}, which is not among the reachable hosts`,
            {
              exit: 'ENGINE_UNREACHABLE',
              hint: `Add that node's engine with --host (e.g. ssh://${node?.hostname ?? '<node>'}) or --hosts.`,
            },
          ),
        })
        continue
      }
      add(hostIdx, {
        ref: taskRef,
        id: task.containerId,
        name: `${service.name}.${task.slot ?? task.nodeId}.${task.id}`,
        service: {id: service.id, name: service.name},
        task: {
          id: task.id,
          ...(task.slot === undefined ? {} : {slot: task.slot}),
          ...(task.nodeId ? {nodeId: task.nodeId} : {}),
        },
      })
    }
    if (tasks.length === 0) warnings.push(`service ${service.name} has no task with desired state running`)
    services.push({service, manager: {host: manager.name, engineId: manager.engineId}, tasks: rows, warnings})
  }
  return {services, failed}
}
