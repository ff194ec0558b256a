import type {Case} from '../case/case-store.js'
import {fileStamp, safeFileName} from '../case/ids.js'
import type {SwarmTask} from '../docker/types.js'
import type {ServiceSelection} from './targets.js'

/**
 * What a swarm service looked like when ir acted on it: its spec (image, replicas or global,
 * everything else as the engine returned it, secret values redacted) and its desired state
 * (tasks with desired state running, on which node, with which container). Recovery restores the
 * service from this (`docker service update` or a stack redeploy); it is kept in
 * state/swarm-services.json and as evidence.
 */
export interface ServiceRecord {
  id: string
  name: string
  /** Spec version at the time (what `docker service update --rollback` and optimistic updates refer to). */
  version: number
  image: string
  mode: string
  replicas?: number
  labels: Record<string, string>
  spec: Record<string, unknown>
  desiredState: {
    running: number
    tasks: Array<{
      id: string
      slot?: number
      nodeId?: string
      node?: string
      host?: string
      containerId?: string
      state: string
    }>
  }
  manager: {host: string; engineId: string}
  recordedAt: string
  /** Evidence file holding the same (case-relative path). */
  evidence?: string
}

export interface SwarmServicesState {
  services: Record<string, ServiceRecord>
}

export const SWARM_SERVICES_FILE = 'swarm-services.json'

export interface ServiceSummary {
  name: string
  id: string
  mode: string
  replicas?: number
  image: string
  tasks: number
  manager: string
  warnings: string[]
  evidence?: string
}

function toRecord(s: ServiceSelection, recordedAt: string): ServiceRecord {
  const tasks = s.tasks.map((t: SwarmTask & {host?: string; node?: string}) => ({
    id: t.id,
    ...(t.slot === undefined ? {} : {slot: t.slot}),
    ...(t.nodeId ? {nodeId: t.nodeId} : {}),
    ...(t.node ? {node: t.node} : {}),
    ...(t.host ? {host: t.host} : {}),
    ...(t.containerId ? {containerId: t.containerId} : {}),
    state: t.state,
  }))
  return {
    id: s.service.id,
    name: s.service.name,
    version: s.service.version,
    image: s.service.image,
    mode: s.service.mode,
    ...(s.service.replicas === undefined ? {} : {replicas: s.service.replicas}),
    labels: s.service.labels,
    spec: s.service.spec,
    desiredState: {running: tasks.length, tasks},
    manager: s.manager,
    recordedAt,
  }
}

/**
 * Record each selected service in the case (evidence file + state + audit line). The state keeps the
 * first spec recorded for a service (a later run must not replace what recovery should restore
 * with a spec changed since); its task list is refreshed. Every read is also kept as evidence.
 */
export async function recordServices(kase: Case, selections: readonly ServiceSelection[]): Promise<ServiceSummary[]> {
  const out: ServiceSummary[] = []
  for (const s of selections) {
    const now = new Date().toISOString()
    const record = toRecord(s, now)
    const artifact = await kase.addJsonEvidence({
      name: `swarm/service-${safeFileName(s.service.name)}-${fileStamp()}.json`,
      type: 'swarm-service',
      description: `spec and running tasks of swarm service ${s.service.name} (read on ${s.manager.host})`,
      source: {host: s.manager.host, engineId: s.manager.engineId, service: s.service.name},
      data: record,
      meta: {service: s.service.name, serviceId: s.service.id, version: s.service.version},
    })
    record.evidence = artifact.path
    await kase.updateState<SwarmServicesState>(SWARM_SERVICES_FILE, {services: {}}, (st) => {
      const previous = st.services[s.service.id]
      // Keep the first spec seen as the one to restore; later reads are evidence of what changed.
      return {
        services: {
          ...st.services,
          [s.service.id]: previous ? {...previous, desiredState: record.desiredState} : record,
        },
      }
    })
    await kase.record({
      action: 'swarm.service',
      target: s.service.name,
      outcome: 'info',
      msg: `Swarm service ${s.service.name}: ${s.service.mode}${s.service.replicas === undefined ? '' : ` ${s.service.replicas} replica(s)`}, image ${s.service.image}, ${record.desiredState.running} running task(s) recorded`,
      details: {
        serviceId: s.service.id,
        version: s.service.version,
        image: s.service.image,
        mode: s.service.mode,
        replicas: s.service.replicas,
        tasks: record.desiredState.tasks,
        manager: s.manager,
        evidence: artifact.path,
      },
    })
    out.push({
      name: s.service.name,
      id: s.service.id,
      mode: s.service.mode,
      ...(s.service.replicas === undefined ? {} : {replicas: s.service.replicas}),
      image: s.service.image,
      tasks: record.desiredState.running,
      manager: s.manager.host,
      warnings: s.warnings,
      evidence: artifact.path,
    })
  }
  return out
}

export async function readServiceRecords(kase: Case): Promise<SwarmServicesState> {
  return kase.readState<SwarmServicesState>(SWARM_SERVICES_FILE, {services: {}})
}
