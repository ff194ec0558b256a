/** Labels ir puts on everything it creates in Docker, so it can find (and never remove) them. */
export const LABEL = {
  managed: 'ir.managed',
  evidence: 'ir.evidence',
  case: 'ir.case',
  sourceContainer: 'ir.source.container',
  sourceName: 'ir.source.name',
  lab: 'ir.lab',
  labProject: 'ir.lab.project',
  test: 'ir.test',
  /** On evidence images: where the container ran (host name, engine id) and, for a swarm task, its service and task. */
  sourceHost: 'ir.source.host',
  sourceEngine: 'ir.source.engine',
  service: 'ir.service',
  task: 'ir.task',
} as const

/** Labels the swarm puts on a task's container. */
export const SWARM_LABEL = {
  serviceId: 'com.docker.swarm.service.id',
  serviceName: 'com.docker.swarm.service.name',
  taskId: 'com.docker.swarm.task.id',
  taskName: 'com.docker.swarm.task.name',
  nodeId: 'com.docker.swarm.node.id',
  stack: 'com.docker.stack.namespace',
} as const

export function evidenceLabels(
  caseId: string,
  containerId: string,
  containerName: string,
  extra: {host?: string; engineId?: string; service?: string; task?: string} = {},
): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.evidence]: 'true',
    [LABEL.case]: caseId,
    [LABEL.sourceContainer]: containerId,
    [LABEL.sourceName]: containerName,
    ...(extra.host ? {[LABEL.sourceHost]: extra.host} : {}),
    ...(extra.engineId ? {[LABEL.sourceEngine]: extra.engineId} : {}),
    ...(extra.service ? {[LABEL.service]: extra.service} : {}),
    ...(extra.task ? {[LABEL.task]: extra.task} : {}),
  }
}

/** The swarm service and task of a container, from what selected it or from the labels the swarm sets. */
export function swarmTaskOf(
  labels: Record<string, string>,
  selected?: {service?: {id: string; name: string}; task?: {id: string; slot?: number; nodeId?: string}},
): {service: {id: string; name: string}; task: {id: string; slot?: number; nodeId?: string}} | undefined {
  if (selected?.service && selected.task) return {service: selected.service, task: selected.task}
  const serviceName = labels[SWARM_LABEL.serviceName]
  const taskId = labels[SWARM_LABEL.taskId]
  if (!serviceName || !taskId) return undefined
  // Task names are <service>.<slot>.<task id> (replicated) or <service>.<node id>.<task id> (global).
  const taskName = labels[SWARM_LABEL.taskName] ?? ''
  const slot = taskName.startsWith(`${serviceName}.`)
    ? /^(\d+)\./.exec(taskName.slice(serviceName.length + 1))?.[1]
    : undefined
  return {
    service: {id: labels[SWARM_LABEL.serviceId] ?? '', name: serviceName},
    task: {
      id: taskId,
      ...(slot ? {slot: Number(slot)} : {}),
      ...(labels[SWARM_LABEL.nodeId] ? {nodeId: labels[SWARM_LABEL.nodeId]} : {}),
    },
  }
}

export function isEvidenceImage(labels: Record<string, string> | null | undefined): boolean {
  return labels?.[LABEL.evidence] === 'true'
}
