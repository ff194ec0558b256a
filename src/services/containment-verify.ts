import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {ContainerDetails} from '../docker/types.js'

/**
 * After `ir isolate` cut a container's networks, check the effect rather than trust the engine's answer
 * (Podman's compat API answers a disconnect of a paused container with 200 and leaves the interface up):
 * - the inspect lists no network endpoint;
 * - where ir runs on the engine's host (a unix socket, and /proc/<pid>/cgroup names that container), its
 *   network namespace has no interface but lo, read from /proc/<pid>/net/dev.
 */
export interface NetworkVerification {
  contained: boolean
  /** Endpoints the engine still lists after the cut. */
  inspectEndpoints: string[]
  /** Interfaces found in the container's network namespace (lo and the kernel's down fallback tunnels left out). */
  procInterfaces?: string[]
  procPid?: number
  /** Why the namespace was not read (remote engine, not running...). */
  procSkipped?: string
  /** One line: what was checked and how. */
  how: string
}

/** Devices the kernel puts in every network namespace when their module is loaded; they carry no traffic until configured. */
const FALLBACK_DEVICES = new Set([
  'lo',
  'tunl0',
  'sit0',
  'ip6tnl0',
  'gre0',
  'gretap0',
  'erspan0',
  'ip6gre0',
  'ip_vti0',
  'ip6_vti0',
])

export function interfacesOf(netDev: string): string[] {
  return netDev
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]?.trim() ?? '')
    .filter((n) => n && !FALLBACK_DEVICES.has(n))
}

/** Whether the engine's unix socket is on this machine (its container pids are then ours to read). */
export function localEngine(endpoint: string): boolean {
  return endpoint.startsWith('unix://') || endpoint.startsWith('/')
}

export async function verifyNetworkCut(
  after: ContainerDetails | undefined,
  opts: {local: boolean; procRoot?: string},
): Promise<NetworkVerification> {
  if (!after) return {contained: false, inspectEndpoints: [], how: 'the container could not be inspected after the cut'}
  const inspectEndpoints = after.endpoints.map((e) => e.networkName)
  const checks = [
    `inspect: ${inspectEndpoints.length === 0 ? 'no network endpoint' : `still on ${inspectEndpoints.join(', ')}`}`,
  ]
  let procInterfaces: string[] | undefined
  let procSkipped: string | undefined
  const proc = opts.procRoot ?? '/proc'
  if (!opts.local) procSkipped = 'the engine is remote: its network namespaces cannot be read from here'
  else if (!after.pid) procSkipped = `the container is ${after.state}: it has no network namespace`
  else {
    const cgroup = await readFile(join(proc, String(after.pid), 'cgroup'), 'utf8').catch(() => undefined)
    if (cgroup === undefined || !cgroup.includes(after.id))
      procSkipped = `pid ${after.pid} on this machine is not that container's (the engine runs elsewhere)`
    else {
      const dev = await readFile(join(proc, String(after.pid), 'net', 'dev'), 'utf8').catch(() => undefined)
      if (dev === undefined) procSkipped = `${join(proc, String(after.pid), 'net/dev')} could not be read`
      else procInterfaces = interfacesOf(dev)
    }
  }
  if (procInterfaces)
    checks.push(
      `${join(proc, String(after.pid), 'net/dev')}: ${procInterfaces.length === 0 ? 'no interface but lo' : `interfaces ${procInterfaces.join(', ')}`}`,
    )
  else checks.push(`network namespace not read (${procSkipped})`)
  return {
    contained: inspectEndpoints.length === 0 && (procInterfaces?.length ?? 0) === 0,
    inspectEndpoints,
    ...(procInterfaces ? {procInterfaces, procPid: after.pid} : {}),
    ...(procSkipped ? {procSkipped} : {}),
    how: checks.join('; '),
  }
}

export {engineKind} from '../docker/engine-kind.js'
