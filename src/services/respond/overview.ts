import {resolve} from 'node:path'

import type {Engine} from '../../docker/types.js'
import {recordedComposeFolder} from '../../docker/compose.js'
import {mapBounded} from '../../util/concurrency.js'
import {mountsDockerSocket} from '../containment-state.js'
import {LABEL} from '../../docker/labels.js'
import {LAB_TARGET_SERVICE} from '../lab/model.js'

export interface ContainerOverview {
  id: string
  name: string
  image: string
  status: string
  state: string
  networks: string[]
  ports: string[]
  project?: string
  projectDirectory?: string
  service?: string
  /** The practice lab marks this one as its compromised container (ir.lab=true, service web). */
  labTarget?: boolean
  /** Why this container deserves a look: socket mounted, privileged, host namespaces. */
  hints: string[]
}

/** The containers on the host, with what a responder needs to pick the affected ones. Read-only. */
export async function hostOverview(engine: Engine): Promise<ContainerOverview[]> {
  const list = await engine.containers.list({all: true})
  const rows = await mapBounded(list, 8, async (c): Promise<ContainerOverview | undefined> => {
    const d = await engine.containers.inspect(c.id).catch(() => undefined)
    if (!d) return undefined
    const host = (d.raw.HostConfig ?? {}) as {
      Privileged?: boolean
      PidMode?: string
      CapAdd?: string[] | null
      PortBindings?: Record<string, Array<{HostIp?: string; HostPort?: string}> | null> | null
    }
    const hints: string[] = []
    if (mountsDockerSocket(d.mounts)) hints.push('mounts the Docker socket')
    if (host.Privileged) hints.push('privileged')
    if (d.networkMode === 'host') hints.push('host network')
    if (host.PidMode === 'host') hints.push('host PID namespace')
    if (host.CapAdd?.some((cap) => /SYS_ADMIN|ALL/.test(cap))) hints.push(`adds ${host.CapAdd.join(',')}`)
    const ports = Object.entries(host.PortBindings ?? {}).flatMap(([port, bindings]) =>
      (bindings ?? []).map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort || '?'}->${port}`),
    )
    if (ports.some((p) => p.startsWith('0.0.0.0') || p.startsWith('::'))) hints.push('published on all interfaces')
    return {
      id: d.id,
      name: d.name,
      image: d.image,
      status: c.status,
      state: d.state,
      networks: d.endpoints.map((e) => e.networkName),
      ports,
      ...(d.labels['com.docker.compose.project'] ? {project: d.labels['com.docker.compose.project']} : {}),
      ...(recordedComposeFolder(d) ? {projectDirectory: recordedComposeFolder(d)!.projectDirectory} : {}),
      ...(d.labels['com.docker.compose.service'] ? {service: d.labels['com.docker.compose.service']} : {}),
      ...(d.labels[LABEL.lab] === 'true' && d.labels['com.docker.compose.service'] === LAB_TARGET_SERVICE
        ? {labTarget: true}
        : {}),
      hints,
    }
  })
  return rows.filter((r): r is ContainerOverview => r !== undefined).sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * The picker's order, most likely affected first (its cursor starts on the first): the container the practice
 * lab marks as compromised; then those with findings-like hints (a mounted Docker socket, privileged, host
 * namespaces), the more the likelier; then containers of the compose project in the folder the responder runs
 * ir from (the project the case is about), running before stopped. Ties keep the name order.
 */
export function likelyFirst(all: ContainerOverview[], opts: {cwd: string}): ContainerOverview[] {
  const here = resolve(opts.cwd)
  const score = (c: ContainerOverview): number =>
    (c.labTarget ? 1000 : 0) +
    c.hints.length * 100 +
    (c.projectDirectory && resolve(c.projectDirectory) === here ? 10 : 0) +
    (c.state === 'running' ? 1 : 0)
  return all
    .map((c, i) => ({c, i, s: score(c)}))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .map((x) => x.c)
}
