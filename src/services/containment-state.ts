import type {Case, CaseStore} from '../case/case-store.js'
import type {EndpointRecord} from '../docker/types.js'

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
  networkCut: boolean
  networkNote?: string
  dockerSocket: boolean
  /** Whether ir itself paused or stopped it (so release does not unpause what it did not pause). */
  froze: boolean
}

export interface ContainmentState {
  containers: Record<string, ContainmentRecord>
}

export const CONTAINMENT_FILE = 'containment.json'

export async function readContainment(kase: Case): Promise<ContainmentState> {
  return kase.readState<ContainmentState>(CONTAINMENT_FILE, {containers: {}})
}

export function saveContainmentRecord(kase: Case, record: ContainmentRecord): Promise<ContainmentState> {
  return kase.updateState<ContainmentState>(CONTAINMENT_FILE, {containers: {}}, (s) => ({containers: {...s.containers, [record.containerId]: record}}))
}

/** Find the newest case holding an active isolation of this container (for `ir release` without --case). */
export async function findIsolatingCase(store: CaseStore, containerId: string): Promise<{kase: Case; record: ContainmentRecord} | undefined> {
  const metas = await store.list()
  for (const meta of metas.reverse()) {
    const {kase} = await store.open({id: meta.id, create: false})
    const state = await readContainment(kase)
    const record = state.containers[containerId]
    if (record?.status === 'isolated') return {kase, record}
  }
  return undefined
}

export function mountsDockerSocket(mounts: ReadonlyArray<{source: string; destination: string}>): boolean {
  return mounts.some((m) => /(^|\/)docker\.sock$/.test(m.source) || /(^|\/)docker\.sock$/.test(m.destination))
}

/** Network modes whose network cannot be cut by disconnecting endpoints. */
export function sharedNetworkNote(networkMode: string): string | undefined {
  if (networkMode === 'host') return 'uses the host network (network_mode: host): its network cannot be disconnected'
  if (networkMode.startsWith('container:')) return `shares the network namespace of ${networkMode.slice('container:'.length)}: its network cannot be disconnected on its own`
  return undefined
}
