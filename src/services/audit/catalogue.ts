/**
 * The CIS Docker Benchmark 1.6.0 recommendations `ir audit` covers (sections 2, 3, 4, 5 and 7), with
 * their level (profile applicability), whether the benchmark calls them automated or manual, and
 * the ir check ids that implement them. ir's own checks (PID 1's real uid, log rotation, image age,
 * unbounded restarts, other runtimes' sockets) are listed in IR_CHECKS, without a CIS id.
 *
 * Titles are the benchmark's; levels follow its profile applicability. Pure data: no I/O.
 */
import type {AuditSeverity} from './checks.js'

export const BENCHMARK = {name: 'CIS Docker Benchmark', version: '1.6.0'} as const
export const BENCHMARK_LABEL = `${BENCHMARK.name} ${BENCHMARK.version}`

export type CisLevel = 1 | 2
/** Where the check looks: the engine's settings, the engine host's files, an image, a container, the swarm. */
export type CheckScope = 'daemon' | 'host' | 'image' | 'container' | 'swarm'

export interface CisRecommendation {
  /** The benchmark's number, e.g. `5.20`. */
  cis: string
  title: string
  level: CisLevel
  /** Automated in the benchmark; manual ones are reported as "manual", with what to look at. */
  automated: boolean
  scope: CheckScope
  /** Severity of a failed check (manual checks are reported as info). */
  severity: AuditSeverity
  /** What to look at, for manual checks (and where ir cannot decide). */
  look?: string
  /** Another benchmark version that numbers it differently. */
  renumbered?: string
}

const r = (
  cis: string,
  level: CisLevel,
  automated: boolean,
  scope: CheckScope,
  severity: AuditSeverity,
  title: string,
  extra: Partial<CisRecommendation> = {},
): CisRecommendation => ({
  cis,
  title,
  level,
  automated,
  scope,
  severity,
  ...extra,
})

export const CIS_RECOMMENDATIONS: readonly CisRecommendation[] = [
  // 2 Docker daemon configuration
  r('2.1', 2, false, 'daemon', 'info', 'Run the Docker daemon as a non-root user, if possible', {
    look: 'whether the engine is rootless (docker info: SecurityOptions name=rootless); ir reports what it sees',
    renumbered: 'not in 1.2.0',
  }),
  r(
    '2.2',
    1,
    true,
    'daemon',
    'medium',
    'Ensure network traffic is restricted between containers on the default bridge',
    {renumbered: '2.1 in 1.2.0'},
  ),
  r('2.3', 1, true, 'daemon', 'low', "Ensure the logging level is set to 'info'", {renumbered: '2.2 in 1.2.0'}),
  r('2.4', 1, true, 'daemon', 'medium', 'Ensure Docker is allowed to make changes to iptables', {
    renumbered: '2.3 in 1.2.0',
  }),
  r('2.5', 1, true, 'daemon', 'high', 'Ensure insecure registries are not used', {renumbered: '2.4 in 1.2.0'}),
  r('2.6', 1, true, 'daemon', 'medium', 'Ensure aufs storage driver is not used', {renumbered: '2.5 in 1.2.0'}),
  r('2.7', 1, true, 'daemon', 'critical', 'Ensure TLS authentication for Docker daemon is configured', {
    renumbered: '2.6 in 1.2.0',
  }),
  r('2.8', 1, false, 'daemon', 'info', 'Ensure the default ulimit is configured appropriately', {
    look: 'default-ulimits in daemon.json or --default-ulimit on the dockerd command line, against your policy',
    renumbered: '2.7 in 1.2.0',
  }),
  r('2.9', 2, true, 'daemon', 'medium', 'Enable user namespace support', {renumbered: '2.8 in 1.2.0'}),
  r('2.10', 2, true, 'daemon', 'low', 'Ensure the default cgroup usage has been confirmed', {
    renumbered: '2.9 in 1.2.0',
  }),
  r('2.11', 2, true, 'daemon', 'low', 'Ensure base device size is not changed until needed', {
    renumbered: '2.10 in 1.2.0',
  }),
  r('2.12', 2, true, 'daemon', 'medium', 'Ensure that authorization for Docker client commands is enabled', {
    renumbered: '2.11 in 1.2.0',
  }),
  r('2.13', 2, true, 'daemon', 'low', 'Ensure centralized and remote logging is configured', {
    renumbered: '2.12 in 1.2.0',
  }),
  r('2.14', 1, true, 'daemon', 'medium', 'Ensure containers are restricted from acquiring new privileges', {
    renumbered: '2.18 in 1.2.0',
  }),
  r('2.15', 1, true, 'daemon', 'low', 'Ensure live restore is enabled', {renumbered: '2.14 in 1.2.0'}),
  r('2.16', 1, true, 'daemon', 'low', 'Ensure Userland Proxy is Disabled', {renumbered: '2.15 in 1.2.0'}),
  r('2.17', 2, false, 'daemon', 'info', 'Ensure that a daemon-wide custom seccomp profile is applied if appropriate', {
    look: 'docker info SecurityOptions (seccomp profile); the default profile is adequate for most',
    renumbered: '2.16 in 1.2.0',
  }),
  r('2.18', 1, true, 'daemon', 'medium', 'Ensure that experimental features are not implemented in production', {
    renumbered: '2.17 in 1.2.0',
  }),
  // 3 Docker daemon configuration files
  r('3.1', 1, true, 'host', 'medium', 'Ensure that the docker.service file ownership is set to root:root'),
  r('3.2', 1, true, 'host', 'medium', 'Ensure that docker.service file permissions are appropriately set'),
  r('3.3', 1, true, 'host', 'medium', 'Ensure that docker.socket file ownership is set to root:root'),
  r('3.4', 1, true, 'host', 'medium', 'Ensure that docker.socket file permissions are set to 644 or more restrictive'),
  r('3.5', 1, true, 'host', 'medium', 'Ensure that the /etc/docker directory ownership is set to root:root'),
  r(
    '3.6',
    1,
    true,
    'host',
    'medium',
    'Ensure that /etc/docker directory permissions are set to 755 or more restrictively',
  ),
  r('3.7', 1, true, 'host', 'medium', 'Ensure that registry certificate file ownership is set to root:root'),
  r(
    '3.8',
    1,
    true,
    'host',
    'medium',
    'Ensure that registry certificate file permissions are set to 444 or more restrictively',
  ),
  r('3.9', 1, true, 'host', 'medium', 'Ensure that TLS CA certificate file ownership is set to root:root'),
  r(
    '3.10',
    1,
    true,
    'host',
    'medium',
    'Ensure that TLS CA certificate file permissions are set to 444 or more restrictively',
  ),
  r('3.11', 1, true, 'host', 'medium', 'Ensure that Docker server certificate file ownership is set to root:root'),
  r(
    '3.12',
    1,
    true,
    'host',
    'medium',
    'Ensure that the Docker server certificate file permissions are set to 444 or more restrictively',
  ),
  r(
    '3.13',
    1,
    true,
    'host',
    'high',
    'Ensure that the Docker server certificate key file ownership is set to root:root',
  ),
  r('3.14', 1, true, 'host', 'high', 'Ensure that the Docker server certificate key file permissions are set to 400'),
  r('3.15', 1, true, 'host', 'high', 'Ensure that the Docker socket file ownership is set to root:docker'),
  r(
    '3.16',
    1,
    true,
    'host',
    'high',
    'Ensure that the Docker socket file permissions are set to 660 or more restrictively',
  ),
  r('3.17', 1, true, 'host', 'medium', 'Ensure that the daemon.json file ownership is set to root:root'),
  r('3.18', 1, true, 'host', 'medium', 'Ensure that daemon.json file permissions are set to 644 or more restrictive'),
  r('3.19', 1, true, 'host', 'medium', 'Ensure that the /etc/default/docker file ownership is set to root:root'),
  r(
    '3.20',
    1,
    true,
    'host',
    'medium',
    'Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively',
  ),
  r(
    '3.21',
    1,
    true,
    'host',
    'medium',
    'Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively',
  ),
  r('3.22', 1, true, 'host', 'medium', 'Ensure that the /etc/sysconfig/docker file ownership is set to root:root'),
  r('3.23', 1, true, 'host', 'high', 'Ensure that the Containerd socket file ownership is set to root:root', {
    renumbered: 'not in 1.2.0',
  }),
  r(
    '3.24',
    1,
    true,
    'host',
    'high',
    'Ensure that the Containerd socket file permissions are set to 660 or more restrictively',
    {renumbered: 'not in 1.2.0'},
  ),
  // 4 Container images and build file configuration
  r('4.1', 1, true, 'image', 'high', 'Ensure that a user for the container has been created'),
  r('4.2', 1, false, 'image', 'info', 'Ensure that containers use only trusted base images', {
    look: 'the FROM line of each Dockerfile and where its base image comes from',
  }),
  r('4.3', 1, false, 'image', 'info', 'Ensure that unnecessary packages are not installed in the container', {
    look: 'the packages in each image (docker run --rm <image> dpkg -l, or apk info), outside the incident host',
  }),
  r('4.4', 1, false, 'image', 'info', 'Ensure images are scanned and rebuilt to include security patches', {
    look: 'a scanner run on each image in CI; ir reports image.age as a hint',
  }),
  r('4.5', 2, true, 'daemon', 'low', 'Ensure Content trust for Docker is Enabled'),
  r('4.6', 1, true, 'image', 'low', 'Ensure that HEALTHCHECK instructions have been added to container images'),
  r('4.7', 1, false, 'image', 'info', 'Ensure update instructions are not used alone in the Dockerfile', {
    look: 'RUN apt-get update lines without an install in the same layer (docker history <image>)',
  }),
  r('4.8', 2, false, 'image', 'info', 'Ensure setuid and setgid permissions are removed', {
    look: 'setuid/setgid files in each image, on a copy of it: docker export | tar -tv, never in the running container',
  }),
  r('4.9', 1, false, 'image', 'info', 'Ensure that COPY is used instead of ADD in Dockerfiles', {
    look: 'ADD lines in each Dockerfile (docker history <image>)',
  }),
  r('4.10', 1, false, 'image', 'info', 'Ensure secrets are not stored in Dockerfiles', {
    look: 'ENV, ARG and RUN lines in each Dockerfile and image history (ir snapshot stores the history redacted)',
  }),
  r('4.11', 2, false, 'image', 'info', 'Ensure only verified packages are installed', {
    look: 'that package managers in each Dockerfile verify signatures (no --allow-unauthenticated)',
  }),
  r('4.12', 2, false, 'image', 'info', 'Ensure all signed artifacts are validated', {
    look: 'that images are pulled by digest or with content trust, and artifacts are checked before use',
    renumbered: 'not in 1.2.0',
  }),
  // 5 Container runtime configuration
  r('5.1', 1, true, 'daemon', 'low', 'Ensure swarm mode is not Enabled, if not needed', {renumbered: '7.1 in 1.2.0'}),
  r('5.2', 1, true, 'container', 'high', 'Ensure that, if applicable, an AppArmor Profile is enabled', {
    renumbered: '5.1 in 1.2.0',
  }),
  r('5.3', 2, true, 'container', 'medium', 'Ensure that, if applicable, SELinux security options are set', {
    renumbered: '5.2 in 1.2.0',
  }),
  r('5.4', 1, true, 'container', 'medium', 'Ensure that Linux kernel capabilities are restricted within containers', {
    renumbered: '5.3 in 1.2.0',
  }),
  r('5.5', 1, true, 'container', 'critical', 'Ensure that privileged containers are not used', {
    renumbered: '5.4 in 1.2.0',
  }),
  r('5.6', 1, true, 'container', 'high', 'Ensure sensitive host system directories are not mounted on containers', {
    renumbered: '5.5 in 1.2.0',
  }),
  r('5.7', 1, true, 'container', 'medium', 'Ensure sshd is not run within containers', {renumbered: '5.6 in 1.2.0'}),
  r('5.8', 1, true, 'container', 'medium', 'Ensure privileged ports are not mapped within containers', {
    renumbered: '5.7 in 1.2.0',
  }),
  r('5.9', 1, false, 'container', 'info', 'Ensure that only needed ports are open on the container', {
    look: "each container's exposed and published ports (docker port <c>) against what the service needs",
    renumbered: '5.8 in 1.2.0',
  }),
  r('5.10', 1, true, 'container', 'high', "Ensure that the host's network namespace is not shared", {
    renumbered: '5.9 in 1.2.0',
  }),
  r('5.11', 1, true, 'container', 'medium', 'Ensure that the memory usage for containers is limited', {
    renumbered: '5.10 in 1.2.0',
  }),
  r('5.12', 1, true, 'container', 'low', 'Ensure that CPU priority is set appropriately on containers', {
    renumbered: '5.11 in 1.2.0',
  }),
  r('5.13', 1, true, 'container', 'medium', "Ensure that the container's root filesystem is mounted as read only", {
    renumbered: '5.12 in 1.2.0',
  }),
  r(
    '5.14',
    1,
    true,
    'container',
    'medium',
    'Ensure that incoming container traffic is bound to a specific host interface',
    {renumbered: '5.13 in 1.2.0'},
  ),
  r('5.15', 1, true, 'container', 'low', "Ensure that the 'on-failure' container restart policy is set to '5'", {
    renumbered: '5.14 in 1.2.0',
  }),
  r('5.16', 1, true, 'container', 'high', "Ensure that the host's process namespace is not shared", {
    renumbered: '5.15 in 1.2.0',
  }),
  r('5.17', 1, true, 'container', 'medium', "Ensure that the host's IPC namespace is not shared", {
    renumbered: '5.16 in 1.2.0',
  }),
  r('5.18', 1, true, 'container', 'high', 'Ensure that host devices are not directly exposed to containers', {
    renumbered: '5.17 in 1.2.0 (manual in the benchmark; ir decides it from HostConfig.Devices)',
  }),
  r('5.19', 1, false, 'container', 'info', 'Ensure that the default ulimit is overwritten at runtime if needed', {
    look: 'HostConfig.Ulimits of each container (ir lists them), against the daemon default',
    renumbered: '5.18 in 1.2.0',
  }),
  r('5.20', 1, true, 'container', 'medium', 'Ensure mount propagation mode is not set to shared', {
    renumbered: '5.19 in 1.2.0',
  }),
  r('5.21', 1, true, 'container', 'low', "Ensure that the host's UTS namespace is not shared", {
    renumbered: '5.20 in 1.2.0',
  }),
  r('5.22', 1, true, 'container', 'high', 'Ensure the default seccomp profile is not Disabled', {
    renumbered: '5.21 in 1.2.0',
  }),
  r('5.23', 2, true, 'container', 'high', 'Ensure that docker exec commands are not used with the privileged option', {
    renumbered: "5.22 in 1.2.0 (ir reads the container's exec instances from the engine, never the host audit log)",
  }),
  r('5.24', 2, true, 'container', 'low', 'Ensure that docker exec commands are not used with the user=root option', {
    renumbered: '5.23 in 1.2.0 (manual in the benchmark; ir reads the exec instances the engine still knows)',
  }),
  r('5.25', 1, true, 'container', 'low', 'Ensure that cgroup usage is confirmed', {renumbered: '5.24 in 1.2.0'}),
  r(
    '5.26',
    1,
    true,
    'container',
    'medium',
    'Ensure that the container is restricted from acquiring additional privileges',
    {renumbered: '5.25 in 1.2.0'},
  ),
  r('5.27', 1, true, 'container', 'low', 'Ensure that container health is checked at runtime', {
    renumbered: '5.26 in 1.2.0',
  }),
  r(
    '5.28',
    1,
    false,
    'container',
    'info',
    'Ensure that Docker commands always make use of the latest version of their image',
    {
      look: 'whether each container runs the image its tag points to now (docker compose pull / ir rebuild)',
      renumbered: '5.27 in 1.2.0',
    },
  ),
  r('5.29', 1, true, 'container', 'medium', 'Ensure that the PIDs cgroup limit is used', {renumbered: '5.28 in 1.2.0'}),
  r('5.30', 2, true, 'container', 'low', "Ensure that Docker's default bridge 'docker0' is not used", {
    renumbered: "5.29 in 1.2.0 (manual in the benchmark; ir decides it from the container's networks)",
  }),
  r('5.31', 1, true, 'container', 'low', "Ensure that the host's user namespaces are not shared", {
    renumbered: '5.30 in 1.2.0',
  }),
  r('5.32', 1, true, 'container', 'critical', 'Ensure that the Docker socket is not mounted inside any containers', {
    renumbered: '5.31 in 1.2.0',
  }),
  // 7 Docker swarm configuration (checked on a manager)
  r('7.1', 1, true, 'swarm', 'medium', 'Ensure that the minimum number of manager nodes have been created in a swarm', {
    renumbered: '7.2 in 1.2.0',
  }),
  r('7.2', 1, true, 'swarm', 'medium', 'Ensure that swarm services are bound to a specific host interface', {
    renumbered: '7.3 in 1.2.0',
  }),
  r('7.3', 1, true, 'swarm', 'medium', 'Ensure that all Docker swarm overlay networks are encrypted', {
    renumbered: '7.4 in 1.2.0',
  }),
  r(
    '7.4',
    2,
    false,
    'swarm',
    'info',
    "Ensure that Docker's secret management commands are used for managing secrets in a swarm cluster",
    {
      look: 'docker secret ls, and services that take secrets from environment variables instead (ir rotate lists them)',
      renumbered: '7.5 in 1.2.0',
    },
  ),
  r('7.5', 1, true, 'swarm', 'medium', 'Ensure that swarm manager is run in auto-lock mode', {
    renumbered: '7.6 in 1.2.0',
  }),
  r('7.6', 1, false, 'swarm', 'info', 'Ensure that the swarm manager auto-lock key is rotated periodically', {
    look: 'when `docker swarm unlock-key --rotate` last ran (your change log)',
    renumbered: '7.7 in 1.2.0',
  }),
  r('7.7', 2, false, 'swarm', 'info', 'Ensure that node certificates are rotated as appropriate', {
    look: 'the swarm CA config NodeCertExpiry (ir shows it) against your policy',
    renumbered: '7.8 in 1.2.0',
  }),
  r('7.8', 2, false, 'swarm', 'info', 'Ensure that CA certificates are rotated as appropriate', {
    look: 'when `docker swarm ca --rotate` last ran',
    renumbered: '7.9 in 1.2.0',
  }),
  r('7.9', 2, false, 'swarm', 'info', 'Ensure that management plane traffic is separated from data plane traffic', {
    look: 'whether --advertise-addr and --data-path-addr name different interfaces',
    renumbered: '7.10 in 1.2.0',
  }),
]

const BY_CIS = new Map(CIS_RECOMMENDATIONS.map((c) => [c.cis, c]))

export function recommendation(cis: string): CisRecommendation | undefined {
  return BY_CIS.get(cis)
}

/** ir's check id -> the CIS recommendation it implements. Checks not listed are ir's own (no CIS id). */
export const CIS_OF_CHECK: Readonly<Record<string, string>> = {
  'user.root': '4.1',
  'image.healthcheck': '4.6',
  'apparmor.unconfined': '5.2',
  'apparmor.none': '5.2',
  'selinux.disabled': '5.3',
  'selinux.none': '5.3',
  'caps.not-dropped': '5.4',
  'caps.dangerous': '5.4',
  'caps.added': '5.4',
  privileged: '5.5',
  'mount.sensitive': '5.6',
  'process.sshd': '5.7',
  'ports.privileged': '5.8',
  'namespace.network': '5.10',
  'limits.memory': '5.11',
  'limits.cpu': '5.12',
  'rootfs.writable': '5.13',
  'ports.exposed': '5.14',
  'restart.policy': '5.15',
  'namespace.pid': '5.16',
  'namespace.ipc': '5.17',
  devices: '5.18',
  'mount.propagation': '5.20',
  'namespace.uts': '5.21',
  'seccomp.unconfined': '5.22',
  'exec.privileged': '5.23',
  'exec.root': '5.24',
  'cgroup.parent': '5.25',
  'no-new-privileges': '5.26',
  'health.none': '5.27',
  'limits.pids': '5.29',
  'network.default-bridge': '5.30',
  'namespace.userns': '5.31',
  'mount.docker-socket': '5.32',
}

/** ir's own checks, beside the CIS ones: what they add. */
export const IR_CHECKS: Readonly<Record<string, string>> = {
  'pid1.root': "PID 1's real uid is 0 (read from /proc on the engine host, else docker top)",
  'pid1.unknown': "PID 1's uid could not be read",
  'logging.rotation': 'json-file/local logs without max-size and max-file',
  'logging.none': 'logging disabled (driver none)',
  'logging.remote': 'logs go to a remote driver',
  'image.age': 'image older than --max-image-age days',
  'image.root-default': 'the image runs as root unless overridden',
  'image.unavailable': 'the image could not be inspected',
  'restart.none': 'no restart policy',
  'restart.unbounded': 'a restart policy that never gives up',
  'mount.runtime-socket': "another runtime's socket (containerd, podman, CRI-O) mounted",
}

/** Level of an ir check: its CIS recommendation's, or 1 for ir's own. */
export function levelOfCheck(id: string, cisId?: string): CisLevel {
  const cis = cisId ?? CIS_OF_CHECK[id]
  return (cis ? BY_CIS.get(cis)?.level : undefined) ?? 1
}

/** `--only` matches a check id, a CIS id (`5.8`, `cis-5.8`) or a section (`5`, `cis-5`). */
export function matchesOnly(only: readonly string[], id: string, cis: string | undefined): boolean {
  if (only.length === 0) return true
  return only.some((raw) => {
    const o = raw
      .trim()
      .toLowerCase()
      .replace(/^cis[-: ]?/, '')
    if (o === '') return false
    if (o === id.toLowerCase()) return true
    if (!cis) return false
    return o === cis || (/^\d+$/.test(o) && cis.startsWith(`${o}.`))
  })
}
