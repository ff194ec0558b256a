import {dirname, join} from 'node:path'

import type {Case, CaseStore} from '../case/case-store.js'
import {CaseLock} from '../case/lock.js'
import {ensureDir} from '../util/fs.js'
import type {EndpointRecord} from '../docker/types.js'
import type {NetworkVerification} from './containment-verify.js'

export type IsolateMode = 'pause' | 'stop' | 'network-only'

/** What `ir isolate` changed on one container, kept so `ir release` can undo exactly that. */
export interface ContainmentRecord {
  containerId: string
  name: string
  image: string
  /** removed: the container was taken down (e.g. by ir rebuild) while isolated; its evidence stays in the case. */
  status: 'isolated' | 'released' | 'removed'
  mode: IsolateMode
  /** Container state before ir touched it (running, paused, exited...). */
  stateBefore: string
  isolatedAt: string
  releasedAt?: string
  endpoints: EndpointRecord[]
  /** True only when the check after the cut found no endpoint in the inspect and no interface but lo in the namespace. */
  networkCut: boolean
  /** What that check read, and how (services/containment-verify.ts). */
  verification?: NetworkVerification
  networkNote?: string
  dockerSocket: boolean
  /** Whether ir itself paused or stopped it (so release does not unpause what it did not pause). */
  froze: boolean
  /** The host it runs on (its name for ir) and that engine's id (`docker info`). */
  host?: string
  engineId?: string
  /** Set when the container is a swarm task. */
  service?: {id: string; name: string}
  task?: {id: string; slot?: number; nodeId?: string}
}

export interface ContainmentState {
  containers: Record<string, ContainmentRecord>
}

export const CONTAINMENT_FILE = 'containment.json'

export async function readContainment(kase: Case): Promise<ContainmentState> {
  return kase.readState<ContainmentState>(CONTAINMENT_FILE, {containers: {}})
}

/**
 * Records are keyed by container id when one engine is in play (as before hosts existed), and by
 * `<engineId>/<containerId>` when several are, so the same id on two engines cannot collide.
 */
export function containmentKey(containerId: string, engineId?: string, multi = false): string {
  return multi && engineId ? `${engineId}/${containerId}` : containerId
}

/**
 * The record of a container on an engine, whichever way it was keyed. Without an engine id, a
 * record under a legacy key wins, then any engine's record of that container id.
 */
export function findContainment(
  containers: Record<string, ContainmentRecord>,
  containerId: string,
  engineId?: string,
): {key: string; record: ContainmentRecord} | undefined {
  if (engineId) {
    const scoped = containers[`${engineId}/${containerId}`]
    if (scoped) return {key: `${engineId}/${containerId}`, record: scoped}
    const legacy = containers[containerId]
    if (legacy && (!legacy.engineId || legacy.engineId === engineId)) return {key: containerId, record: legacy}
    return undefined
  }
  const legacy = containers[containerId]
  if (legacy) return {key: containerId, record: legacy}
  const key = Object.keys(containers).find((k) => k.endsWith(`/${containerId}`))
  return key ? {key, record: containers[key]!} : undefined
}

/** Save a record under `key` (default: its container id, the single-engine key). */
export function saveContainmentRecord(
  kase: Case,
  record: ContainmentRecord,
  key = record.containerId,
): Promise<ContainmentState> {
  return kase.updateState<ContainmentState>(CONTAINMENT_FILE, {containers: {}}, (s) => ({
    containers: {...s.containers, [key]: record},
  }))
}

/** Find the newest case holding an active isolation of this container (for `ir release` without --case). */
export async function findIsolatingCase(
  store: CaseStore,
  containerId: string,
  engineId?: string,
): Promise<{kase: Case; record: ContainmentRecord; key: string} | undefined> {
  const metas = await store.list()
  for (const meta of metas.reverse()) {
    const {kase} = await store.open({id: meta.id, create: false})
    const state = await readContainment(kase)
    const found = findContainment(state.containers, containerId, engineId)
    if (found?.record.status === 'isolated') return {kase, record: found.record, key: found.key}
  }
  return undefined
}

export function mountsDockerSocket(mounts: ReadonlyArray<{source: string; destination: string}>): boolean {
  return mounts.some((m) => /(^|\/)docker\.sock$/.test(m.source) || /(^|\/)docker\.sock$/.test(m.destination))
}

/** Network modes whose network cannot be cut by disconnecting endpoints. */
export function sharedNetworkNote(networkMode: string): string | undefined {
  if (networkMode === 'host') return 'uses the host network (network_mode: host): its network cannot be disconnected'
  if (networkMode.startsWith('container:'))
    return `shares the network namespace of ${networkMode.slice('container:'.length)}: its network cannot be disconnected on its own`
  return undefined
}

/**
 * Serialise every containment change of one container (isolate, release) across processes: the
 * lock is held from reading the record, through the engine calls, to saving the new record, so
 * the record always matches the engine. It lives beside the cases (`<incidents>/.locks/`).
 */
export async function withContainerLock<T>(
  kase: Case,
  containerId: string,
  engineId: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const dir = join(dirname(kase.dir), '.locks')
  await ensureDir(dir)
  const path = join(
    dir,
    `containment-${(engineId ?? 'local').replace(/[^A-Za-z0-9._-]+/g, '_')}-${containerId.replace(/[^A-Za-z0-9]+/g, '')}`,
  )
  return CaseLock.for(path).run(fn)
}
