import {BENCHMARK_LABEL, CIS_OF_CHECK, levelOfCheck} from './catalogue.js'
import {parseSecurityOpt, type RuntimeFacts, runtimeChecks} from './runtime-checks.js'

export {parseSecurityOpt} from './runtime-checks.js'

/**
 * Container-hardening checks as pure functions over a `docker inspect` document (and, for the
 * runtime and image checks, over facts the service gathered). No I/O here: every check can be
 * unit-tested with a fake inspect object.
 */

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const
export type AuditSeverity = (typeof SEVERITIES)[number]

const RANK: Record<AuditSeverity, number> = {critical: 4, high: 3, medium: 2, low: 1, info: 0}

export function severityRank(s: AuditSeverity): number {
  return RANK[s]
}

export function atOrAbove(s: AuditSeverity, threshold: AuditSeverity): boolean {
  return RANK[s] >= RANK[threshold]
}

/** How to fix it, in compose and in `docker run` syntax. */
export interface FixHint {
  compose: string
  run: string
}

export interface Finding {
  /** Stable check id, e.g. `user.root`, `caps.dangerous`, `mount.docker-socket`. */
  id: string
  severity: AuditSeverity
  /** One line. */
  message: string
  hint: FixHint
  /** The CIS Docker Benchmark recommendation it implements (absent for ir's own checks). */
  cis?: string
  /** The benchmark and version the CIS id refers to, e.g. `CIS Docker Benchmark 1.6.0`. */
  benchmark?: string
  /** The CIS profile level (ir's own checks count as level 1). */
  level?: 1 | 2
  /** fail: the check failed; manual: a person must look (see hint); needs-local-access: ir must run on the engine's host to decide. */
  kind?: 'fail' | 'manual' | 'needs-local-access'
}

type PortMap = Record<string, Array<{HostIp?: string; HostPort?: string}> | null | undefined> | null

/** The parts of a container inspect the checks read. Everything is optional: the engine omits fields. */
export interface InspectDoc {
  Id?: string
  Name?: string
  AppArmorProfile?: string
  Config?: {
    User?: string
    Image?: string
    ExposedPorts?: Record<string, unknown> | null
    Healthcheck?: {Test?: string[] | null} | null
  } | null
  ExecIDs?: string[] | null
  HostConfig?: {
    Privileged?: boolean
    CapAdd?: string[] | null
    CapDrop?: string[] | null
    SecurityOpt?: string[] | null
    ReadonlyRootfs?: boolean
    Memory?: number
    NanoCpus?: number
    CpuQuota?: number
    CpuShares?: number
    PidsLimit?: number | null
    RestartPolicy?: {Name?: string; MaximumRetryCount?: number} | null
    NetworkMode?: string
    PidMode?: string
    IpcMode?: string
    UTSMode?: string
    UsernsMode?: string
    Binds?: string[] | null
    PortBindings?: PortMap
    PublishAllPorts?: boolean
    LogConfig?: {Type?: string; Config?: Record<string, string> | null} | null
    Devices?: Array<{PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string}> | null
    CgroupParent?: string
    Ulimits?: Array<{Name?: string; Soft?: number; Hard?: number}> | null
  } | null
  Mounts?: Array<{Type?: string; Source?: string; Destination?: string; RW?: boolean; Propagation?: string}> | null
  NetworkSettings?: {Ports?: PortMap; Networks?: Record<string, unknown> | null} | null
  State?: {Status?: string; Running?: boolean; Pid?: number} | null
}

// ---------------------------------------------------------------------------------------------
// Users

/** True when a `user[:group]` spec means root: empty (the image default, root unless the image says otherwise), `root` or uid 0. */
export function isRootUserSpec(spec: string | undefined): boolean {
  const user = (spec ?? '').split(':')[0]!.trim()
  return user === '' || user === 'root' || /^0+$/.test(user)
}

export function checkUser(doc: InspectDoc): Finding[] {
  const spec = doc.Config?.User ?? ''
  if (!isRootUserSpec(spec)) return []
  return [
    {
      id: 'user.root',
      severity: 'high',
      message:
        spec === ''
          ? 'configured to run as root (no user set: the image default applies)'
          : `configured to run as root (user "${spec}")`,
      hint: {compose: 'user: "1000:1000"  (and a USER line in the Dockerfile)', run: '--user 1000:1000'},
    },
  ]
}

/** What was seen running as the container's PID 1, and how it was read. */
export interface Pid1Observation {
  /** proc: /proc/<pid>/status read on the engine's host; top: the engine's `docker top`; none: not determined. */
  method: 'proc' | 'top' | 'none'
  /** The uid inside the container (translated through uid_map when user namespaces remap it). */
  uid?: number
  /** The uid as the host sees it, when it differs or was read from the host. */
  hostUid?: number
  /** The user name when only a name was available (ps -ef). */
  user?: string
  /** Where the answer came from, e.g. `/proc/1234/status`. */
  source?: string
  /** Why it could not be determined, or a caveat. */
  note?: string
}

export function checkPid1(obs: Pid1Observation): Finding[] {
  const how = obs.source ? ` (${obs.method === 'proc' ? 'read from' : 'via'} ${obs.source})` : ''
  if (obs.uid === 0 || (obs.uid === undefined && obs.user === 'root')) {
    return [
      {
        id: 'pid1.root',
        severity: 'high',
        message: `PID 1 is running as uid 0 (root)${how}`,
        hint: {compose: 'user: "1000:1000"', run: '--user 1000:1000'},
      },
    ]
  }
  if (obs.uid === undefined) {
    return [
      {
        id: 'pid1.unknown',
        severity: 'info',
        message: `PID 1 user not determined${obs.note ? `: ${obs.note}` : ''}`,
        hint: {compose: '-', run: '-'},
      },
    ]
  }
  return []
}

// ---------------------------------------------------------------------------------------------
// Privileges

/** Capabilities that break out of or reach around a container; severity when added. */
export const DANGEROUS_CAPABILITIES: Record<string, AuditSeverity> = {
  ALL: 'critical',
  SYS_ADMIN: 'critical',
  SYS_MODULE: 'critical',
  SYS_PTRACE: 'high',
  SYS_RAWIO: 'high',
  DAC_READ_SEARCH: 'high',
  NET_ADMIN: 'high',
  BPF: 'high',
  PERFMON: 'high',
  SYS_BOOT: 'high',
  SYS_TIME: 'high',
  MAC_ADMIN: 'high',
  MAC_OVERRIDE: 'high',
  NET_RAW: 'medium',
}

function normCap(c: string): string {
  return c.trim().toUpperCase().replace(/^CAP_/, '')
}

export function checkPrivileged(doc: InspectDoc): Finding[] {
  if (!doc.HostConfig?.Privileged) return []
  return [
    {
      id: 'privileged',
      severity: 'critical',
      message: 'runs privileged: all capabilities, all devices, no seccomp/AppArmor: root in it is root on the host',
      hint: {
        compose: 'remove `privileged: true`; add only the capability needed with cap_add',
        run: 'drop --privileged; use --cap-add <CAP> for the one needed',
      },
    },
  ]
}

export function checkCapabilities(doc: InspectDoc): Finding[] {
  const findings: Finding[] = []
  const drop = (doc.HostConfig?.CapDrop ?? []).map(normCap)
  const add = [...new Set((doc.HostConfig?.CapAdd ?? []).map(normCap))]
  if (!drop.includes('ALL')) {
    findings.push({
      id: 'caps.not-dropped',
      severity: 'medium',
      message: `keeps the default capabilities (CHOWN, DAC_OVERRIDE, FOWNER, NET_RAW, SETUID, SETGID, ...)${drop.length ? `; drops only ${drop.join(', ')}` : ''}`,
      hint: {
        compose: 'cap_drop: [ALL]  (then cap_add only what is needed, e.g. NET_BIND_SERVICE)',
        run: '--cap-drop ALL [--cap-add NET_BIND_SERVICE]',
      },
    })
  }
  const other: string[] = []
  for (const cap of add) {
    const sev = DANGEROUS_CAPABILITIES[cap]
    if (!sev) {
      other.push(cap)
      continue
    }
    findings.push({
      id: 'caps.dangerous',
      severity: sev,
      message: cap === 'ALL' ? 'adds ALL capabilities (as good as privileged)' : `adds the dangerous capability ${cap}`,
      hint: {compose: `remove ${cap} from cap_add`, run: `drop --cap-add ${cap}`},
    })
  }
  if (other.length > 0) {
    findings.push({
      id: 'caps.added',
      severity: 'info',
      message: `adds capabilities ${other.join(', ')}`,
      hint: {compose: 'keep cap_add to what the service needs', run: 'keep --cap-add to what the service needs'},
    })
  }
  return findings
}

export function checkSecurityOpts(doc: InspectDoc): Finding[] {
  const findings: Finding[] = []
  const opts = parseSecurityOpt(doc.HostConfig?.SecurityOpt)
  const nnp = opts.get('no-new-privileges')
  if (nnp === undefined || !(nnp === '' || nnp.toLowerCase() === 'true')) {
    findings.push({
      id: 'no-new-privileges',
      severity: 'medium',
      message: 'no-new-privileges is not set: setuid binaries can raise privileges inside the container',
      hint: {compose: 'security_opt: ["no-new-privileges:true"]', run: '--security-opt no-new-privileges'},
    })
  }
  // A privileged container is unconfined anyway; that is reported once, as `privileged`.
  if (doc.HostConfig?.Privileged) return findings
  if (opts.get('seccomp')?.toLowerCase() === 'unconfined') {
    findings.push({
      id: 'seccomp.unconfined',
      severity: 'high',
      message: 'seccomp is disabled (seccomp=unconfined): every syscall reaches the kernel',
      hint: {
        compose: 'remove `seccomp:unconfined` from security_opt (or give a profile file)',
        run: 'drop --security-opt seccomp=unconfined',
      },
    })
  }
  if (opts.get('apparmor')?.toLowerCase() === 'unconfined' || doc.AppArmorProfile === 'unconfined') {
    findings.push({
      id: 'apparmor.unconfined',
      severity: 'high',
      message: 'AppArmor is disabled (apparmor=unconfined)',
      hint: {compose: 'remove `apparmor:unconfined` from security_opt', run: 'drop --security-opt apparmor=unconfined'},
    })
  }
  if (opts.get('label')?.toLowerCase() === 'disable') {
    findings.push({
      id: 'selinux.disabled',
      severity: 'medium',
      message: 'SELinux labelling is disabled (label=disable)',
      hint: {compose: 'remove `label:disable` from security_opt', run: 'drop --security-opt label=disable'},
    })
  }
  return findings
}

// ---------------------------------------------------------------------------------------------
// Filesystem, resources, restart

export function checkReadOnlyRootfs(doc: InspectDoc): Finding[] {
  if (doc.HostConfig?.ReadonlyRootfs) return []
  return [
    {
      id: 'rootfs.writable',
      severity: 'medium',
      message: 'root filesystem is writable: an intruder can drop tools and change binaries',
      hint: {compose: 'read_only: true  (plus tmpfs: [/tmp] for scratch space)', run: '--read-only --tmpfs /tmp'},
    },
  ]
}

export function checkResourceLimits(doc: InspectDoc): Finding[] {
  const h = doc.HostConfig ?? {}
  const findings: Finding[] = []
  if (!((h.Memory ?? 0) > 0)) {
    findings.push({
      id: 'limits.memory',
      severity: 'medium',
      message: 'no memory limit: it can starve the host (and every other container) of memory',
      hint: {compose: 'mem_limit: 256m  (or deploy.resources.limits.memory)', run: '--memory 256m'},
    })
  }
  if (!((h.NanoCpus ?? 0) > 0 || (h.CpuQuota ?? 0) > 0 || (h.CpuShares ?? 0) > 0)) {
    findings.push({
      id: 'limits.cpu',
      severity: 'low',
      message: 'no CPU limit (NanoCpus, CpuQuota and CpuShares unset): a miner gets every core',
      hint: {compose: 'cpus: 0.5  (or deploy.resources.limits.cpus)', run: '--cpus 0.5'},
    })
  }
  if (!((h.PidsLimit ?? 0) > 0)) {
    findings.push({
      id: 'limits.pids',
      severity: 'medium',
      message: 'no pids limit: a fork bomb takes the host down',
      hint: {compose: 'pids_limit: 100', run: '--pids-limit 100'},
    })
  }
  return findings
}

export function checkRestartPolicy(doc: InspectDoc): Finding[] {
  const p = doc.HostConfig?.RestartPolicy ?? {}
  const name = p.Name ?? ''
  const hint = {
    compose: 'restart: on-failure:5  (swarm: deploy.restart_policy.max_attempts)',
    run: '--restart on-failure:5',
  }
  if (name === '' || name === 'no') {
    return [{id: 'restart.none', severity: 'low', message: 'no restart policy: it stays down after a crash', hint}]
  }
  if (name === 'always' || name === 'unless-stopped') {
    return [
      {
        id: 'restart.unbounded',
        severity: 'low',
        message: `restart policy "${name}" restarts forever: a crash loop (or a persistent payload) is never stopped`,
        hint,
      },
    ]
  }
  if (name === 'on-failure' && !((p.MaximumRetryCount ?? 0) > 0)) {
    return [
      {
        id: 'restart.unbounded',
        severity: 'low',
        message: 'restart policy "on-failure" has no maximum retry count',
        hint,
      },
    ]
  }
  return []
}

// ---------------------------------------------------------------------------------------------
// Host access: socket, namespaces, mounts, ports

const SOCKET = /(^|\/)(docker|containerd|podman|crio|cri-dockerd)\.sock$/

interface MountLike {
  type: string
  source: string
  destination: string
  rw: boolean
}

/** Mounts from `Mounts`, or parsed from `HostConfig.Binds` when the engine gave no Mounts. */
export function mountsOf(doc: InspectDoc): MountLike[] {
  if (doc.Mounts && doc.Mounts.length > 0) {
    return doc.Mounts.map((m) => ({
      type: m.Type ?? 'bind',
      source: m.Source ?? '',
      destination: m.Destination ?? '',
      rw: m.RW !== false,
    }))
  }
  return (doc.HostConfig?.Binds ?? []).map((b) => {
    const [source = '', destination = '', mode = ''] = b.split(':')
    return {type: source.startsWith('/') ? 'bind' : 'volume', source, destination, rw: !mode.split(',').includes('ro')}
  })
}

const DOCKER_SOCKET = /(^|\/)docker\.sock$/

export function checkDockerSocket(doc: InspectDoc): Finding[] {
  return mountsOf(doc)
    .filter((m) => SOCKET.test(m.source) || SOCKET.test(m.destination))
    .map((m) => ({
      id:
        DOCKER_SOCKET.test(m.source) || DOCKER_SOCKET.test(m.destination)
          ? 'mount.docker-socket'
          : 'mount.runtime-socket',
      severity: 'critical' as const,
      message: `mounts the engine socket ${m.source} at ${m.destination}${m.rw ? '' : ' (read-only does not help: the API is still reachable)'}: whoever is inside controls the host`,
      hint: {
        compose: `remove the volume "${m.source}:${m.destination}"; use a socket proxy with a read-only allow-list if it is truly needed`,
        run: `drop -v ${m.source}:${m.destination}`,
      },
    }))
}

export function checkNamespaces(doc: InspectDoc): Finding[] {
  const h = doc.HostConfig ?? {}
  const findings: Finding[] = []
  if (h.NetworkMode === 'host') {
    findings.push({
      id: 'namespace.network',
      severity: 'high',
      message: "shares the host's network namespace: every port it listens on is on the host, and it sees host traffic",
      hint: {
        compose: 'remove `network_mode: host`; publish the ports needed',
        run: 'drop --network host; use -p 127.0.0.1:<port>:<port>',
      },
    })
  }
  if (h.PidMode === 'host') {
    findings.push({
      id: 'namespace.pid',
      severity: 'high',
      message: "shares the host's PID namespace: it sees (and may signal) every host process",
      hint: {compose: 'remove `pid: host`', run: 'drop --pid host'},
    })
  }
  if (h.IpcMode === 'host') {
    findings.push({
      id: 'namespace.ipc',
      severity: 'medium',
      message: "shares the host's IPC namespace (shared memory of host processes)",
      hint: {compose: 'remove `ipc: host`', run: 'drop --ipc host'},
    })
  }
  if (h.UTSMode === 'host') {
    findings.push({
      id: 'namespace.uts',
      severity: 'low',
      message: "shares the host's UTS namespace (can change the host name)",
      hint: {compose: 'remove `uts: host`', run: 'drop --uts host'},
    })
  }
  if (h.UsernsMode === 'host') {
    findings.push({
      id: 'namespace.userns',
      severity: 'low',
      message: 'opts out of user-namespace remapping (userns_mode: host): its root is host root',
      hint: {compose: 'remove `userns_mode: host`', run: 'drop --userns host'},
    })
  }
  return findings
}

/** Host paths that must not be bind-mounted, and how bad each is. */
export const SENSITIVE_HOST_PATHS: Record<string, AuditSeverity> = {
  '/': 'critical',
  '/var/run': 'critical',
  '/run': 'critical',
  '/proc': 'high',
  '/sys': 'high',
  '/etc': 'high',
  '/root': 'high',
  '/boot': 'high',
  '/var/lib/docker': 'high',
  '/home': 'medium',
}

/** Read-only mounts of these are routine and harmless. */
const BENIGN_READ_ONLY = new Set(['/etc/localtime', '/etc/timezone'])

const LOWER: Record<AuditSeverity, AuditSeverity> = {
  critical: 'high',
  high: 'medium',
  medium: 'low',
  low: 'low',
  info: 'info',
}

export function checkSensitiveMounts(doc: InspectDoc): Finding[] {
  const findings: Finding[] = []
  for (const m of mountsOf(doc)) {
    if (m.type !== 'bind' || !m.source.startsWith('/')) continue
    if (SOCKET.test(m.source) || SOCKET.test(m.destination)) continue // reported as mount.docker-socket
    const source = m.source.length > 1 ? m.source.replace(/\/+$/, '') : m.source
    if (!m.rw && BENIGN_READ_ONLY.has(source)) continue
    const root = Object.keys(SENSITIVE_HOST_PATHS)
      .filter((p) => source === p || (p !== '/' && source.startsWith(`${p}/`)))
      .sort((a, b) => b.length - a.length)[0]
    if (!root) continue
    const base = SENSITIVE_HOST_PATHS[root]!
    // A read-only file or folder below a sensitive root is less bad than the root itself.
    const severity = source !== root && !m.rw ? LOWER[base] : base
    const why =
      root === '/var/run' || root === '/run'
        ? ' (it holds the engine socket)'
        : root === '/'
          ? ' (the whole host filesystem)'
          : ''
    findings.push({
      id: 'mount.sensitive',
      severity,
      message: `bind-mounts the host path ${m.source}${why} at ${m.destination}${m.rw ? ' read-write' : ' read-only'}`,
      hint: {
        compose: `remove the volume "${m.source}:${m.destination}"; mount only the file needed, read-only (":ro")`,
        run: `drop -v ${m.source}:${m.destination}; mount only the file needed with :ro`,
      },
    })
  }
  return findings
}

const ALL_INTERFACES = new Set(['', '0.0.0.0', '::', '[::]'])

/** Published ports listening on every interface, as `8080/tcp -> 0.0.0.0:32768`. */
export function publicPorts(doc: InspectDoc): string[] {
  const live = doc.NetworkSettings?.Ports ?? {}
  const hasLive = Object.values(live).some((b) => Array.isArray(b) && b.length > 0)
  const source: NonNullable<PortMap> = hasLive ? live : (doc.HostConfig?.PortBindings ?? {})
  const out = new Set<string>()
  for (const [port, bindings] of Object.entries(source)) {
    for (const b of bindings ?? []) {
      const ip = b.HostIp ?? ''
      if (!ALL_INTERFACES.has(ip)) continue
      const shownIp = ip === '' ? '0.0.0.0' : ip.includes(':') ? `[${ip.replace(/^\[|\]$/g, '')}]` : ip
      out.add(`${port} -> ${shownIp}:${b.HostPort || '(random)'}`)
    }
  }
  if (!hasLive && doc.HostConfig?.PublishAllPorts) {
    for (const port of Object.keys(doc.Config?.ExposedPorts ?? {})) out.add(`${port} -> 0.0.0.0:(random, -P)`)
  }
  return [...out]
}

export function checkPublishedPorts(doc: InspectDoc): Finding[] {
  const ports = publicPorts(doc)
  if (ports.length === 0) return []
  return [
    {
      id: 'ports.exposed',
      severity: 'medium',
      message: `publishes on all interfaces: ${ports.join(', ')}`,
      hint: {
        compose: 'ports: ["127.0.0.1:8080:8080"]  (bind to one address; put a proxy in front)',
        run: '-p 127.0.0.1:8080:8080',
      },
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Logging

export function checkLogging(doc: InspectDoc): Finding[] {
  const type = doc.HostConfig?.LogConfig?.Type || 'json-file'
  const cfg = doc.HostConfig?.LogConfig?.Config ?? {}
  const hint = {
    compose: 'logging: {driver: json-file, options: {max-size: "10m", max-file: "5"}}',
    run: '--log-driver json-file --log-opt max-size=10m --log-opt max-file=5',
  }
  if (type === 'json-file') {
    if (!cfg['max-size'])
      return [
        {
          id: 'logging.rotation',
          severity: 'medium',
          message: 'json-file logs without max-size grow without bound and can fill the disk',
          hint,
        },
      ]
    if (!cfg['max-file'])
      return [
        {
          id: 'logging.rotation',
          severity: 'low',
          message: `json-file logs rotate at ${cfg['max-size']} but max-file is not set (one file kept)`,
          hint,
        },
      ]
    return []
  }
  if (type === 'local') {
    if (!cfg['max-size'] || !cfg['max-file'])
      return [
        {
          id: 'logging.rotation',
          severity: 'info',
          message: 'local log driver without explicit max-size/max-file (its defaults apply: 20m x 5)',
          hint: {
            compose: 'logging: {driver: local, options: {max-size: "10m", max-file: "5"}}',
            run: '--log-driver local --log-opt max-size=10m --log-opt max-file=5',
          },
        },
      ]
    return []
  }
  if (type === 'none') {
    return [
      {
        id: 'logging.none',
        severity: 'low',
        message: 'logging disabled (driver none): nothing to investigate after an incident',
        hint,
      },
    ]
  }
  return [
    {
      id: 'logging.remote',
      severity: 'info',
      message: `logs go to the ${type} driver: rotation and retention are handled there`,
      hint: {compose: '-', run: '-'},
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Image

export interface ImageFacts {
  id: string
  created?: string
  user?: string
  /** Set when the image could not be inspected. */
  error?: string
}

export const DEFAULT_MAX_IMAGE_AGE_DAYS = 90

export function imageAgeDays(created: string | undefined, now: Date): number | undefined {
  if (!created) return undefined
  const t = Date.parse(created)
  // The engine reports "0001-01-01T00:00:00Z" for images without a date.
  if (Number.isNaN(t) || t <= 0) return undefined
  return Math.floor((now.getTime() - t) / 86_400_000)
}

export function checkImage(image: ImageFacts, doc: InspectDoc, opts: {now: Date; maxImageAgeDays: number}): Finding[] {
  if (image.error) {
    return [
      {
        id: 'image.unavailable',
        severity: 'info',
        message: `image ${image.id || doc.Config?.Image || ''} could not be inspected: ${image.error}`,
        hint: {compose: '-', run: '-'},
      },
    ]
  }
  const findings: Finding[] = []
  const rebuild = {
    compose: 'docker compose build --pull --no-cache (or: ir rebuild)',
    run: 'docker build --pull --no-cache ...',
  }
  const age = imageAgeDays(image.created, opts.now)
  if (age === undefined) {
    findings.push({id: 'image.age', severity: 'info', message: 'image creation date unknown', hint: rebuild})
  } else if (age > opts.maxImageAgeDays) {
    findings.push({
      id: 'image.age',
      severity: 'medium',
      message: `image is ${age} days old (built ${image.created!.slice(0, 10)}; limit ${opts.maxImageAgeDays} days): it misses recent patches`,
      hint: rebuild,
    })
  }
  if (isRootUserSpec(image.user)) {
    const overridden = !isRootUserSpec(doc.Config?.User)
    findings.push({
      id: 'image.root-default',
      severity: overridden ? 'info' : 'low',
      message: `image runs as root by default (no USER in it)${overridden ? '; this container overrides it' : ''}`,
      hint: {compose: 'add `USER 1000:1000` to the Dockerfile', run: 'add `USER 1000:1000` to the Dockerfile'},
    })
  }
  return findings
}

// ---------------------------------------------------------------------------------------------
// All together

/** The checks over the inspect document alone, in report order. */
export const CONTAINER_CHECKS: ReadonlyArray<(doc: InspectDoc) => Finding[]> = [
  checkUser,
  checkPrivileged,
  checkCapabilities,
  checkSecurityOpts,
  checkReadOnlyRootfs,
  checkResourceLimits,
  checkRestartPolicy,
  checkDockerSocket,
  checkNamespaces,
  checkSensitiveMounts,
  checkPublishedPorts,
  checkLogging,
]

export interface AuditFacts {
  pid1?: Pid1Observation
  image?: ImageFacts
  now?: Date
  maxImageAgeDays?: number
  runtime?: RuntimeFacts
  /** The engine: Podman's compat inspect differs (see podmanAsDocker). */
  engineKind?: 'docker' | 'podman'
}

/** Podman's default capabilities (containers.conf): what it starts a container with. */
export const PODMAN_DEFAULT_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]

/**
 * Podman's compat inspect writes `--cap-drop ALL` as the list of its default capabilities: a drop list that covers
 * them all keeps nothing of the defaults, which is what ALL says.
 */
export function podmanAsDocker(doc: InspectDoc): InspectDoc {
  const drop = (doc.HostConfig?.CapDrop ?? []).map(normCap)
  if (drop.includes('ALL') || !PODMAN_DEFAULT_CAPABILITIES.every((c) => drop.includes(c))) return doc
  return {...doc, HostConfig: {...doc.HostConfig, CapDrop: ['ALL']}}
}

/** Every check for one container, most severe first, each with its CIS id and level where it has one. */
export function auditInspect(inspect: InspectDoc, facts: AuditFacts = {}): Finding[] {
  const doc = facts.engineKind === 'podman' ? podmanAsDocker(inspect) : inspect
  const findings = CONTAINER_CHECKS.flatMap((check) => check(doc))
  findings.push(...runtimeChecks(doc, facts.runtime ?? {}))
  if (facts.pid1) findings.push(...checkPid1(facts.pid1))
  if (facts.image)
    findings.push(
      ...checkImage(facts.image, doc, {
        now: facts.now ?? new Date(),
        maxImageAgeDays: facts.maxImageAgeDays ?? DEFAULT_MAX_IMAGE_AGE_DAYS,
      }),
    )
  return sortFindings(findings.map(annotate))
}

/** Adds the CIS id, benchmark and level to a finding of a check that implements a recommendation. */
export function annotate(f: Finding): Finding {
  const cis = f.cis ?? CIS_OF_CHECK[f.id]
  const kind = f.kind ?? 'fail'
  if (!cis) return {...f, level: f.level ?? 1, kind}
  return {...f, cis, benchmark: BENCHMARK_LABEL, level: f.level ?? levelOfCheck(f.id, cis), kind}
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => ({f, i}))
    .sort((a, b) => RANK[b.f.severity] - RANK[a.f.severity] || a.i - b.i)
    .map(({f}) => f)
}

export type SeverityCounts = Record<AuditSeverity, number>

export interface FindingSummary {
  counts: SeverityCounts
  /** 100 minus 25 per critical, 10 per high, 4 per medium, 1 per low; never below 0. */
  score: number
  /** No finding at or above low. */
  pass: boolean
}

const WEIGHT: Record<AuditSeverity, number> = {critical: 25, high: 10, medium: 4, low: 1, info: 0}

export function emptyCounts(): SeverityCounts {
  return {critical: 0, high: 0, medium: 0, low: 0, info: 0}
}

export function summarize(findings: readonly Finding[]): FindingSummary {
  const counts = emptyCounts()
  for (const f of findings) counts[f.severity]++
  const penalty = SEVERITIES.reduce((sum, s) => sum + counts[s] * WEIGHT[s], 0)
  return {counts, score: Math.max(0, 100 - penalty), pass: findings.every((f) => !atOrAbove(f.severity, 'low'))}
}
