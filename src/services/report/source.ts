import type {EvidenceRow} from './types.js'

/**
 * The parts of an evidence source shown in the report: the host and its engine id (when the
 * evidence was taken across hosts, or recorded them), the container, its image, and the swarm
 * service and task of a task container. Plain strings: the renderers escape them.
 */
export function sourceParts(s: NonNullable<EvidenceRow['source']>): string[] {
  const host = s.host ? `${s.host}${s.engineId ? ` (engine ${s.engineId.slice(0, 14)})` : ''}` : undefined
  const swarm = s.service ? `service ${s.service}${s.task ? `, task ${s.task.slice(0, 12)}` : ''}` : undefined
  return [host, s.containerName ?? s.containerId, s.image, swarm].filter((x): x is string => Boolean(x))
}
