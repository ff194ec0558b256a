import type {ArtifactSource} from '../../case/manifest.js'
import type {HostRef} from '../../docker/hosts.js'
import {swarmTaskOf} from '../../docker/labels.js'
import type {ContainerDetails, Engine} from '../../docker/types.js'
import type {Target} from '../targets.js'

/**
 * Where a container's evidence comes from, as the manifest records it: the container and image, the engine, the
 * host and its engine id, and for a swarm task its service and task (`where` is the same, for results and audit).
 */
export function evidenceSource(
  engine: Engine,
  host: HostRef | undefined,
  d: ContainerDetails,
  target: Target,
): {where: {host?: string; engineId?: string; service?: string; task?: string}; source: ArtifactSource} {
  const swarm = swarmTaskOf(d.labels, target)
  const where = {
    ...(host ? {host: host.name, engineId: host.engineId} : {}),
    ...(swarm ? {service: swarm.service.name, task: swarm.task.id} : {}),
  }
  return {
    where,
    source: {
      containerId: d.id,
      containerName: d.name,
      image: d.image,
      imageId: d.imageId,
      engine: engine.endpoint,
      ...where,
    },
  }
}
