/**
 * The CIS section 4 and 5 checks that the first checklist did not have, as pure functions over a
 * container's inspect document and facts the service read from the engine (never from inside the
 * container: no exec, no pause).
 */
import type {Finding, InspectDoc} from './checks.js'

/** SecurityOpt entries are `key=value`, the older `key:value`, or a bare `no-new-privileges`. */
export function parseSecurityOpt(opts: readonly string[] | null | undefined): Map<string, string> {
  const out = new Map<string, string>()
  for (const raw of opts ?? []) {
    const m = /^([^=:]+)(?:[=:](.*))?$/.exec(raw.trim())
    if (!m) continue
    out.set(m[1]!.trim().toLowerCase(), (m[2] ?? '').trim())
  }
  return out
}

/** Facts about a container gathered read-only by the service. */
export interface RuntimeFacts {
  /** Security options the engine reports (docker info SecurityOptions), to know whether AppArmor/SELinux apply. */
  engineSecurityOptions?: readonly string[]
  /** Commands of the container's processes (docker top, or /proc on the engine's host); absent when not running. */
  processes?: readonly string[]
  /** Exec instances the engine still knows for this container (GET /exec/{id}/json). */
  execs?: ReadonlyArray<{id: string; privileged: boolean; user: string}>
  /** Whether the container's image has a HEALTHCHECK; undefined when the image could not be inspected. */
  imageHealthcheck?: boolean
}

const NONE = {compose: '-', run: '-'}

export function checkPrivilegedPorts(doc: InspectDoc): Finding[] {
  const live = doc.NetworkSettings?.Ports ?? {}
  const hasLive = Object.values(live).some((b) => Array.isArray(b) && b.length > 0)
  const source = (hasLive ? live : doc.HostConfig?.PortBindings) ?? {}
  const low = new Set<string>()
  for (const [port, bindings] of Object.entries(source)) {
    for (const b of bindings ?? []) {
      const hostPort = Number(b.HostPort)
      if (Number.isInteger(hostPort) && hostPort > 0 && hostPort < 1024)
        low.add(`${port} -> ${b.HostIp || '0.0.0.0'}:${hostPort}`)
    }
  }
  if (low.size === 0) return []
  return [
    {
      id: 'ports.privileged',
      severity: 'medium',
      message: `maps privileged host ports (below 1024): ${[...low].join(', ')}`,
      hint: {
        compose: 'ports: ["127.0.0.1:8443:443"]  (a host port of 1024 or above; a proxy in front)',
        run: '-p 127.0.0.1:8443:443',
      },
    },
  ]
}

export function checkDevices(doc: InspectDoc): Finding[] {
  const devices = doc.HostConfig?.Devices ?? []
  if (devices.length === 0) return []
  const list = devices.map(
    (d) => `${d.PathOnHost ?? '?'}:${d.PathInContainer ?? '?'}${d.CgroupPermissions ? `:${d.CgroupPermissions}` : ''}`,
  )
  return [
    {
      id: 'devices',
      severity: 'high',
      message: `host devices exposed: ${list.join(', ')}`,
      hint: {
        compose: 'remove `devices:` (or narrow the permissions to r)',
        run: 'drop --device; if needed, --device <host>:<container>:r',
      },
    },
  ]
}

export function checkMountPropagation(doc: InspectDoc): Finding[] {
  const shared = (doc.Mounts ?? []).filter((m) => m.Propagation === 'shared' || m.Propagation === 'rshared')
  if (shared.length === 0) return []
  return [
    {
      id: 'mount.propagation',
      severity: 'medium',
      message: `mounts with ${shared.map((m) => `${m.Propagation} propagation: ${m.Source ?? '?'} at ${m.Destination ?? '?'}`).join(', ')}: mounts made inside reach the host`,
      hint: {
        compose: 'drop `bind: {propagation: shared}` (private is the default)',
        run: 'drop :shared / bind-propagation=shared from -v / --mount',
      },
    },
  ]
}

export function checkHealthcheck(doc: InspectDoc): Finding[] {
  const test = doc.Config?.Healthcheck?.Test ?? []
  if (test.length > 0 && test[0] !== 'NONE') return []
  return [
    {
      id: 'health.none',
      severity: 'low',
      message:
        test[0] === 'NONE'
          ? 'health check disabled (--no-healthcheck)'
          : 'no health check: a hung or hijacked service is not noticed',
      hint: {
        compose: 'healthcheck: {test: ["CMD", "wget", "-qO-", "http://127.0.0.1/health"], interval: 30s}',
        run: '--health-cmd "wget -qO- http://127.0.0.1/health" --health-interval 30s',
      },
    },
  ]
}

export function checkImageHealthcheck(doc: InspectDoc, facts: RuntimeFacts): Finding[] {
  if (facts.imageHealthcheck !== false) return []
  const overridden = (doc.Config?.Healthcheck?.Test ?? []).length > 0 && doc.Config?.Healthcheck?.Test?.[0] !== 'NONE'
  return [
    {
      id: 'image.healthcheck',
      severity: overridden ? 'info' : 'low',
      message: `the image ${doc.Config?.Image ?? ''} has no HEALTHCHECK instruction${overridden ? '; this container sets its own' : ''}`,
      hint: {compose: 'add a HEALTHCHECK line to the Dockerfile', run: 'add a HEALTHCHECK line to the Dockerfile'},
    },
  ]
}

export function checkDefaultBridge(doc: InspectDoc): Finding[] {
  const mode = doc.HostConfig?.NetworkMode ?? ''
  const networks = Object.keys(doc.NetworkSettings?.Networks ?? {})
  if (mode !== 'default' && mode !== 'bridge' && !networks.includes('bridge')) return []
  return [
    {
      id: 'network.default-bridge',
      severity: 'low',
      message: 'uses the default bridge (docker0): no isolation from the other containers on it',
      hint: {
        compose: 'networks: [app]  (a user-defined network; compose makes one per project)',
        run: '--network <user-defined network>',
      },
    },
  ]
}

export function checkCgroupParent(doc: InspectDoc): Finding[] {
  const parent = doc.HostConfig?.CgroupParent ?? ''
  if (parent === '') return []
  return [
    {
      id: 'cgroup.parent',
      severity: 'low',
      message: `runs under the cgroup parent ${parent}, not the engine's default: confirm its limits`,
      hint: {compose: 'remove cgroup_parent unless it is needed', run: 'drop --cgroup-parent'},
    },
  ]
}

/** 5.15: no restart policy is fine; `always`/`unless-stopped` or on-failure other than 1..5 is not. */
export function checkRestartCis(doc: InspectDoc): Finding[] {
  const p = doc.HostConfig?.RestartPolicy ?? {}
  const name = p.Name ?? ''
  const max = p.MaximumRetryCount ?? 0
  const hint = {compose: 'restart: on-failure:5', run: '--restart on-failure:5'}
  if (name === 'always' || name === 'unless-stopped')
    return [
      {
        id: 'restart.policy',
        severity: 'low',
        message: `restart policy "${name}", not on-failure with at most 5 retries`,
        hint,
      },
    ]
  if (name === 'on-failure' && (max <= 0 || max > 5))
    return [
      {
        id: 'restart.policy',
        severity: 'low',
        message: `restart policy on-failure with ${max <= 0 ? 'no maximum' : `${max} retries`} (CIS: at most 5)`,
        hint,
      },
    ]
  return []
}

export function checkMacProfiles(doc: InspectDoc, facts: RuntimeFacts): Finding[] {
  const engine = facts.engineSecurityOptions
  if (!engine || doc.HostConfig?.Privileged) return []
  const findings: Finding[] = []
  const opts = parseSecurityOpt(doc.HostConfig?.SecurityOpt)
  const hasAppArmor = engine.some((o) => /name=apparmor/.test(o))
  if (hasAppArmor && (doc.AppArmorProfile ?? '') === '' && !opts.has('apparmor')) {
    findings.push({
      id: 'apparmor.none',
      severity: 'high',
      message: 'no AppArmor profile applied although the engine supports AppArmor',
      hint: {compose: 'security_opt: ["apparmor=docker-default"]', run: '--security-opt apparmor=docker-default'},
    })
  }
  const hasSelinux = engine.some((o) => /name=selinux/.test(o))
  if (hasSelinux && !opts.has('label')) {
    findings.push({
      id: 'selinux.none',
      severity: 'medium',
      message: 'no SELinux label option set although the engine runs with SELinux',
      hint: {compose: 'security_opt: ["label=type:svirt_apache_t"]', run: '--security-opt label=type:<type>'},
    })
  }
  return findings
}

export function checkSshd(facts: RuntimeFacts): Finding[] {
  const sshd = (facts.processes ?? []).filter((c) => /(^|\/)sshd(\s|:|$)/.test(c))
  if (sshd.length === 0) return []
  return [
    {
      id: 'process.sshd',
      severity: 'medium',
      message: `runs an SSH daemon: ${sshd[0]}`,
      hint: {
        compose: 'remove sshd from the image; use docker exec (or ir collect) to look inside',
        run: 'remove sshd from the image',
      },
    },
  ]
}

export function checkExecs(facts: RuntimeFacts): Finding[] {
  const execs = facts.execs ?? []
  const findings: Finding[] = []
  const priv = execs.filter((e) => e.privileged)
  if (priv.length > 0)
    findings.push({
      id: 'exec.privileged',
      severity: 'high',
      message: `docker exec --privileged was used: ${priv.map((e) => e.id.slice(0, 12)).join(', ')}`,
      hint: {compose: 'never exec --privileged into a container', run: 'drop --privileged from docker exec'},
    })
  const root = execs.filter((e) => !e.privileged && (e.user === '' || e.user === 'root' || /^0(:|$)/.test(e.user)))
  if (root.length > 0)
    findings.push({
      id: 'exec.root',
      severity: 'low',
      message: `docker exec ran as root: ${root.map((e) => e.id.slice(0, 12)).join(', ')}`,
      hint: {compose: 'exec as the service user: docker exec -u 1000 ...', run: 'docker exec -u 1000 ...'},
    })
  return findings
}

/** Ulimits overriding the daemon's defaults, for the manual check 5.19. */
export function ulimitsOf(doc: InspectDoc): string[] {
  return (doc.HostConfig?.Ulimits ?? []).map((u) => `${u.Name ?? '?'}=${u.Soft ?? '?'}:${u.Hard ?? '?'}`)
}

export const NO_FIX = NONE

export function runtimeChecks(doc: InspectDoc, facts: RuntimeFacts): Finding[] {
  return [
    ...checkMacProfiles(doc, facts),
    ...checkPrivilegedPorts(doc),
    ...checkDevices(doc),
    ...checkMountPropagation(doc),
    ...checkHealthcheck(doc),
    ...checkImageHealthcheck(doc, facts),
    ...checkDefaultBridge(doc),
    ...checkCgroupParent(doc),
    ...checkRestartCis(doc),
    ...checkSshd(facts),
    ...checkExecs(facts),
  ]
}
