/**
 * CIS sections 2 (daemon), 3 (files on the engine's host), 4.5, 5.1 and 7 (swarm) as pure functions
 * over facts read beforehand: the engine's /info, its default bridge and networks, the swarm, and,
 * when ir runs on the engine's host, dockerd's command line, daemon.json and file modes. A check
 * that needs the host and has no local facts says "needs local access"; it never guesses.
 */
import {BENCHMARK_LABEL, type CisRecommendation, recommendation} from './catalogue.js'
import type {AuditSeverity, Finding} from './checks.js'

export interface FileFacts {
  path: string
  uid: number
  gid: number
  /** Permission bits, e.g. 0o644. */
  mode: number
  isDirectory: boolean
}

export interface LocalFacts {
  /** dockerd's pid and command line (argv). */
  pid: number
  args: string[]
  configFile: string
  /** daemon.json, parsed; {} when the file does not exist. */
  config: Record<string, unknown>
  configExists: boolean
  /** stat of the files section 3 looks at, by role; null: does not exist. */
  files: Partial<Record<FileRole, FileFacts | FileFacts[] | null>>
  /** The gid of the group named docker, when there is one. */
  dockerGid?: number
  /** Whether the swarm manager port (2377 unless the node says otherwise) listens on every interface (read from /proc/net/tcp*). */
  swarmPortOnAll?: boolean
}

export type FileRole =
  | 'docker.service'
  | 'docker.socket'
  | 'etc-docker'
  | 'certs.d'
  | 'tlscacert'
  | 'tlscert'
  | 'tlskey'
  | 'docker-sock'
  | 'daemon.json'
  | 'etc-default-docker'
  | 'etc-sysconfig-docker'
  | 'containerd-sock'

export interface DaemonFacts {
  endpoint: string
  info: Record<string, unknown>
  /** The default bridge network, as `docker network inspect bridge` gives it. */
  bridge?: Record<string, unknown>
  networks?: Array<Record<string, unknown>>
  /** GET /swarm, on a manager. */
  swarm?: Record<string, unknown>
  managers?: number
  /** This manager's swarm port (from /info Swarm.RemoteManagers). */
  swarmPort?: number
  /** ir's own environment (content trust is a client setting). */
  env: {DOCKER_CONTENT_TRUST?: string}
  /** Undefined when ir does not run on the engine's host (or could not find dockerd there). */
  local?: LocalFacts
  /** Why local facts are missing. */
  localNote?: string
}

export type Status = 'pass' | 'fail' | 'manual' | 'needs-local-access' | 'not-applicable'

export interface CheckOutcome {
  cis: string
  status: Status
  message: string
  /** Overrides the recommendation's severity. */
  severity?: AuditSeverity
  fix?: string
}

/** A dockerd setting: from the command line (wins, as dockerd refuses both) or daemon.json. */
export function setting(
  local: LocalFacts,
  key: string,
  flags: string[] = [`--${key}`],
): {value: string | boolean | string[]; source: string} | undefined {
  const fromArgs: string[] = []
  let bare = false
  for (let i = 0; i < local.args.length; i++) {
    const a = local.args[i]!
    for (const f of flags) {
      if (a === f) {
        const next = local.args[i + 1]
        if (next !== undefined && !next.startsWith('-') && !BOOLEAN_FLAGS.has(f)) {
          fromArgs.push(next)
          i++
        } else bare = true
      } else if (a.startsWith(`${f}=`)) fromArgs.push(a.slice(f.length + 1))
    }
  }
  if (fromArgs.length > 0)
    return {value: fromArgs.length === 1 ? fromArgs[0]! : fromArgs, source: 'dockerd command line'}
  if (bare) return {value: true, source: 'dockerd command line'}
  if (key in local.config) {
    const v = local.config[key]
    return {
      value:
        typeof v === 'boolean' || Array.isArray(v)
          ? (v as boolean | string[])
          : typeof v === 'object' && v !== null
            ? JSON.stringify(v)
            : String(v),
      source: local.configFile,
    }
  }
  return undefined
}

const BOOLEAN_FLAGS = new Set([
  '--icc',
  '--iptables',
  '--tlsverify',
  '--tls',
  '--live-restore',
  '--no-new-privileges',
  '--userland-proxy',
  '--experimental',
  '--selinux-enabled',
  '--debug',
  '-D',
])

function isFalse(v: string | boolean | string[] | undefined): boolean {
  return v === false || v === 'false'
}
function isTrue(v: string | boolean | string[] | undefined): boolean {
  return v === true || v === 'true'
}

const needsLocal = (cis: string, facts: DaemonFacts, what: string): CheckOutcome => ({
  cis,
  status: 'needs-local-access',
  message: `needs local access: ${what} is read on the engine's host${facts.localNote ? ` (${facts.localNote})` : ''}`,
})

const securityOptions = (info: Record<string, unknown>): string[] =>
  Array.isArray(info.SecurityOptions) ? (info.SecurityOptions as unknown[]).map(String) : []

export function daemonOutcomes(f: DaemonFacts): CheckOutcome[] {
  const out: CheckOutcome[] = []
  const info = f.info
  const local = f.local
  const sec = securityOptions(info)

  // 2.1 rootless (manual)
  out.push(
    sec.some((o) => o.includes('name=rootless'))
      ? {cis: '2.1', status: 'pass', message: 'the engine is rootless'}
      : {
          cis: '2.1',
          status: 'manual',
          message:
            'the engine runs as root (no name=rootless in SecurityOptions): consider rootless mode where its limits are acceptable',
        },
  )

  // 2.2 icc on the default bridge: from the engine (bridge network options)
  const bridgeOpts = (f.bridge?.Options ?? {}) as Record<string, string>
  if (f.bridge) {
    const icc = bridgeOpts['com.docker.network.bridge.enable_icc']
    out.push(
      icc === 'false'
        ? {cis: '2.2', status: 'pass', message: 'icc is disabled on the default bridge'}
        : {
            cis: '2.2',
            status: 'fail',
            message: `inter-container communication is allowed on the default bridge (com.docker.network.bridge.enable_icc=${icc ?? 'unset'})`,
            fix: 'daemon.json: "icc": false',
          },
    )
  } else out.push({cis: '2.2', status: 'not-applicable', message: 'no default bridge network on this engine'})

  // 2.3 log level: Debug from the engine, the exact level from the host
  if (info.Debug === true)
    out.push({
      cis: '2.3',
      status: 'fail',
      message: 'the daemon runs with debug logging (docker info: Debug true)',
      fix: 'daemon.json: "log-level": "info"',
    })
  else if (!local) out.push(needsLocal('2.3', f, 'the log level'))
  else {
    const lvl = setting(local, 'log-level', ['--log-level', '-l'])
    const v = lvl ? String(lvl.value) : 'info'
    out.push(
      v === 'info'
        ? {cis: '2.3', status: 'pass', message: `log level info${lvl ? ` (${lvl.source})` : ' (default)'}`}
        : {
            cis: '2.3',
            status: 'fail',
            message: `log level is "${v}" (${lvl!.source}), not info`,
            fix: 'daemon.json: "log-level": "info"',
          },
    )
  }

  // 2.4 iptables
  if (!local) out.push(needsLocal('2.4', f, 'the iptables setting'))
  else {
    const s = setting(local, 'iptables')
    out.push(
      s && isFalse(s.value)
        ? {
            cis: '2.4',
            status: 'fail',
            message: `iptables is disabled (${s.source}): the engine cannot manage the firewall rules for containers`,
            fix: 'remove --iptables=false / "iptables": false',
          }
        : {cis: '2.4', status: 'pass', message: 'the engine manages iptables'},
    )
  }

  // 2.5 insecure registries: from the engine
  const reg = (info.RegistryConfig ?? {}) as {
    InsecureRegistryCIDRs?: string[]
    IndexConfigs?: Record<string, {Name?: string; Secure?: boolean}>
  }
  const insecure = [
    ...(reg.InsecureRegistryCIDRs ?? []).filter((c) => c !== '127.0.0.0/8' && c !== '::1/128'),
    ...Object.values(reg.IndexConfigs ?? {})
      .filter((i) => i.Secure === false)
      .map((i) => i.Name ?? '?'),
  ]
  out.push(
    insecure.length === 0
      ? {cis: '2.5', status: 'pass', message: 'no insecure registries'}
      : {
          cis: '2.5',
          status: 'fail',
          message: `insecure registries: ${insecure.join(', ')}`,
          fix: 'remove insecure-registries from daemon.json',
        },
  )

  // 2.6 aufs
  out.push(
    info.Driver === 'aufs'
      ? {cis: '2.6', status: 'fail', message: 'storage driver aufs', fix: 'use overlay2'}
      : {cis: '2.6', status: 'pass', message: `storage driver ${String(info.Driver ?? '?')}`},
  )

  // 2.7 TLS: an engine reached over plain TCP fails from here; otherwise the listening hosts come from the host
  if (/^tcp:\/\//.test(f.endpoint) && !/tls|https/i.test(f.endpoint))
    out.push({
      cis: '2.7',
      status: 'fail',
      message: `the engine is reached over TCP without TLS (${f.endpoint})`,
      fix: 'dockerd --tlsverify --tlscacert ... --tlscert ... --tlskey ...',
    })
  else if (!local) out.push(needsLocal('2.7', f, 'which addresses dockerd listens on'))
  else {
    const hosts = ([] as string[]).concat(
      (setting(local, 'hosts', ['-H', '--host'])?.value as string | string[] | undefined) ?? [],
    )
    const tcp = hosts.filter(
      (h) => /^(tcp|https?):\/\//.test(String(h)) || /^:?\d+$/.test(String(h)) || /^[\d.]+:\d+$/.test(String(h)),
    )
    const verify = isTrue(setting(local, 'tlsverify')?.value)
    if (tcp.length === 0) out.push({cis: '2.7', status: 'pass', message: 'dockerd listens on no TCP address'})
    else
      out.push(
        verify
          ? {cis: '2.7', status: 'pass', message: `TCP ${tcp.join(', ')} with --tlsverify`}
          : {
              cis: '2.7',
              status: 'fail',
              message: `dockerd listens on ${tcp.join(', ')} without tlsverify: whoever reaches the port is root on the host`,
              fix: 'dockerd --tlsverify --tlscacert ... --tlscert ... --tlskey ...',
            },
      )
  }

  // 2.8 default ulimit (manual)
  if (!local)
    out.push({
      cis: '2.8',
      status: 'manual',
      message: 'check default-ulimits on the engine host (needs local access to read them)',
    })
  else {
    const u = setting(local, 'default-ulimits', ['--default-ulimit'])
    out.push({
      cis: '2.8',
      status: 'manual',
      message: u
        ? `default ulimits ${Array.isArray(u.value) ? u.value.join(', ') : String(u.value)} (${u.source}): check them against your policy`
        : 'no default ulimits set: the engine inherits its own limits',
    })
  }

  // 2.9 userns
  out.push(
    sec.some((o) => o.includes('name=userns'))
      ? {cis: '2.9', status: 'pass', message: 'user namespace remapping is on'}
      : {
          cis: '2.9',
          status: 'fail',
          message: 'user namespace remapping is off: root in a container is root on the host',
          fix: 'daemon.json: "userns-remap": "default"',
        },
  )

  // 2.10 cgroup parent
  if (!local) out.push(needsLocal('2.10', f, 'the default cgroup parent'))
  else {
    const c = setting(local, 'cgroup-parent')
    out.push(
      c
        ? {
            cis: '2.10',
            status: 'fail',
            message: `default cgroup parent changed to ${String(c.value)} (${c.source}): confirm it`,
            fix: 'remove cgroup-parent unless needed',
          }
        : {cis: '2.10', status: 'pass', message: 'default cgroup parent'},
    )
  }

  // 2.11 base device size
  if (!local)
    out.push(
      info.Driver === 'devicemapper'
        ? needsLocal('2.11', f, 'the storage options')
        : {
            cis: '2.11',
            status: 'not-applicable',
            message: `storage driver ${String(info.Driver ?? '?')} (dm.basesize applies to devicemapper)`,
          },
    )
  else {
    const so = setting(local, 'storage-opts', ['--storage-opt'])
    const vals = ([] as string[]).concat((so?.value as string | string[] | undefined) ?? []).map(String)
    const base = vals.find((v) => v.includes('dm.basesize'))
    out.push(
      base
        ? {
            cis: '2.11',
            status: 'fail',
            message: `base device size changed: ${base} (${so!.source})`,
            fix: 'remove dm.basesize unless needed',
          }
        : {cis: '2.11', status: 'pass', message: 'base device size not changed'},
    )
  }

  // 2.12 authorization plugins: from the engine
  const authz = ((info.Plugins ?? {}) as {Authorization?: string[] | null}).Authorization ?? []
  out.push(
    authz.length > 0
      ? {cis: '2.12', status: 'pass', message: `authorization plugins: ${authz.join(', ')}`}
      : {
          cis: '2.12',
          status: 'fail',
          message: 'no authorization plugin: every client of the socket can do everything',
          fix: 'dockerd --authorization-plugin=<plugin>',
        },
  )

  // 2.13 centralized logging
  const driver = String(info.LoggingDriver ?? '')
  out.push(
    ['json-file', 'local', 'none', ''].includes(driver)
      ? {
          cis: '2.13',
          status: 'fail',
          message: `default log driver "${driver || '?'}" keeps logs on this host only`,
          fix: 'daemon.json: "log-driver": "syslog" (or fluentd, gelf...) with its address',
        }
      : {cis: '2.13', status: 'pass', message: `default log driver ${driver}`},
  )

  // 2.14 no-new-privileges
  if (!local) out.push(needsLocal('2.14', f, 'the no-new-privileges default'))
  else {
    const n = setting(local, 'no-new-privileges')
    out.push(
      n && isTrue(n.value)
        ? {cis: '2.14', status: 'pass', message: `no-new-privileges by default (${n.source})`}
        : {
            cis: '2.14',
            status: 'fail',
            message: 'containers may acquire new privileges by default',
            fix: 'daemon.json: "no-new-privileges": true',
          },
    )
  }

  // 2.15 live restore: from the engine
  out.push(
    info.LiveRestoreEnabled === true
      ? {cis: '2.15', status: 'pass', message: 'live restore is on'}
      : {
          cis: '2.15',
          status: 'fail',
          message: 'live restore is off: containers stop when dockerd restarts',
          fix: 'daemon.json: "live-restore": true',
        },
  )

  // 2.16 userland proxy
  if (!local) out.push(needsLocal('2.16', f, 'the userland-proxy setting'))
  else {
    const p = setting(local, 'userland-proxy')
    out.push(
      p && isFalse(p.value)
        ? {cis: '2.16', status: 'pass', message: `userland proxy disabled (${p.source})`}
        : {
            cis: '2.16',
            status: 'fail',
            message: 'the userland proxy is enabled (the default)',
            fix: 'daemon.json: "userland-proxy": false',
          },
    )
  }

  // 2.17 seccomp (manual)
  const seccomp = sec.find((o) => o.includes('name=seccomp'))
  out.push({
    cis: '2.17',
    status: 'manual',
    message: seccomp ? `seccomp: ${seccomp}` : 'seccomp is not among the engine security options',
  })

  // 2.18 experimental
  out.push(
    info.ExperimentalBuild === true
      ? {
          cis: '2.18',
          status: 'fail',
          message: 'experimental features are on',
          fix: 'remove "experimental": true / --experimental',
        }
      : {cis: '2.18', status: 'pass', message: 'experimental features off'},
  )

  // 4.5 content trust (a client setting: ir's own environment)
  out.push(
    f.env.DOCKER_CONTENT_TRUST === '1'
      ? {cis: '4.5', status: 'pass', message: 'DOCKER_CONTENT_TRUST=1 in this environment'}
      : {
          cis: '4.5',
          status: 'fail',
          message: 'content trust is not enabled in this environment (DOCKER_CONTENT_TRUST is not 1)',
          fix: 'export DOCKER_CONTENT_TRUST=1 where images are pulled and built',
        },
  )

  // 5.1 swarm mode
  const swarm = (info.Swarm ?? {}) as {LocalNodeState?: string; ControlAvailable?: boolean}
  const inSwarm = swarm.LocalNodeState === 'active' || swarm.LocalNodeState === 'locked'
  out.push(
    inSwarm
      ? {
          cis: '5.1',
          status: 'fail',
          message: `swarm mode is ${swarm.LocalNodeState}: make sure it is needed`,
          fix: 'docker swarm leave (if not needed)',
        }
      : {cis: '5.1', status: 'pass', message: 'swarm mode inactive'},
  )

  out.push(
    ...(local ? fileOutcomes(local) : fileCisIds().map((cis) => needsLocal(cis, f, 'file ownership and permissions'))),
  )
  out.push(...swarmOutcomes(f, inSwarm && swarm.ControlAvailable === true))
  return out
}

function fileCisIds(): string[] {
  return Array.from({length: 24}, (_, i) => `3.${i + 1}`)
}

function owner(fs: FileFacts, uid: number, gid: number | undefined, name: string): string | undefined {
  if (fs.uid !== uid || (gid !== undefined && fs.gid !== gid))
    return `${fs.path} is owned by ${fs.uid}:${fs.gid}, not ${name}`
  return undefined
}
function perms(fs: FileFacts, max: number): string | undefined {
  if ((fs.mode & ~max & 0o7777) !== 0)
    return `${fs.path} has mode ${fs.mode.toString(8).padStart(4, '0')}, more permissive than ${max.toString(8).padStart(4, '0')}`
  return undefined
}

/** Section 3: one ownership and one permission check per file role. */
export function fileOutcomes(local: LocalFacts): CheckOutcome[] {
  const pairs: Array<[FileRole, string, string, number, {uid: number; gid?: number; name: string}]> = [
    ['docker.service', '3.1', '3.2', 0o644, {uid: 0, gid: 0, name: 'root:root'}],
    ['docker.socket', '3.3', '3.4', 0o644, {uid: 0, gid: 0, name: 'root:root'}],
    ['etc-docker', '3.5', '3.6', 0o755, {uid: 0, gid: 0, name: 'root:root'}],
    ['certs.d', '3.7', '3.8', 0o444, {uid: 0, gid: 0, name: 'root:root'}],
    ['tlscacert', '3.9', '3.10', 0o444, {uid: 0, gid: 0, name: 'root:root'}],
    ['tlscert', '3.11', '3.12', 0o444, {uid: 0, gid: 0, name: 'root:root'}],
    ['tlskey', '3.13', '3.14', 0o400, {uid: 0, gid: 0, name: 'root:root'}],
    [
      'docker-sock',
      '3.15',
      '3.16',
      0o660,
      {uid: 0, ...(local.dockerGid === undefined ? {} : {gid: local.dockerGid}), name: 'root:docker'},
    ],
    ['daemon.json', '3.17', '3.18', 0o644, {uid: 0, gid: 0, name: 'root:root'}],
    ['etc-default-docker', '3.19', '3.20', 0o644, {uid: 0, gid: 0, name: 'root:root'}],
    ['etc-sysconfig-docker', '3.22', '3.21', 0o644, {uid: 0, gid: 0, name: 'root:root'}],
    ['containerd-sock', '3.23', '3.24', 0o660, {uid: 0, gid: 0, name: 'root:root'}],
  ]
  const out: CheckOutcome[] = []
  for (const [role, ownCis, permCis, max, want] of pairs) {
    const got = local.files[role]
    const list = got === undefined || got === null ? [] : Array.isArray(got) ? got : [got]
    if (list.length === 0) {
      const why = `${role} not found on this host`
      out.push(
        {cis: ownCis, status: 'not-applicable', message: why},
        {cis: permCis, status: 'not-applicable', message: why},
      )
      continue
    }
    const badOwner = list.map((fs) => owner(fs, want.uid, want.gid, want.name)).filter((x): x is string => Boolean(x))
    const badPerm = list.map((fs) => perms(fs, max)).filter((x): x is string => Boolean(x))
    const paths = list.map((x) => x.path).join(', ')
    out.push(
      badOwner.length
        ? {cis: ownCis, status: 'fail', message: badOwner.join('; '), fix: `chown ${want.name} ${paths}`}
        : {cis: ownCis, status: 'pass', message: `${paths} owned by ${want.name}`},
    )
    out.push(
      badPerm.length
        ? {cis: permCis, status: 'fail', message: badPerm.join('; '), fix: `chmod ${max.toString(8)} ${paths}`}
        : {cis: permCis, status: 'pass', message: `${paths} mode ${max.toString(8)} or stricter`},
    )
  }
  return out
}

/** Section 7, on a swarm manager only. */
export function swarmOutcomes(f: DaemonFacts, manager: boolean): CheckOutcome[] {
  const ids = ['7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '7.7', '7.8', '7.9']
  if (!manager) return ids.map((cis) => ({cis, status: 'not-applicable', message: 'not a swarm manager'}))
  const out: CheckOutcome[] = []
  const m = f.managers ?? 0
  out.push(
    m > 7 || (m > 1 && m % 2 === 0)
      ? {
          cis: '7.1',
          status: 'fail',
          message: `${m} managers: use an odd number, at most 7`,
          fix: 'docker node demote <node>',
        }
      : {cis: '7.1', status: 'pass', message: `${m} manager(s)`},
  )
  const port = f.swarmPort ?? 2377
  if (f.local?.swarmPortOnAll === undefined) out.push(needsLocal('7.2', f, `the swarm port ${port} listener`))
  else
    out.push(
      f.local.swarmPortOnAll
        ? {
            cis: '7.2',
            status: 'fail',
            message: `the swarm manager port ${port} listens on every interface`,
            fix: `docker swarm init --listen-addr <ip>:${port}`,
          }
        : {cis: '7.2', status: 'pass', message: `the swarm manager port ${port} is bound to one address`},
    )
  const overlays = (f.networks ?? []).filter((n) => n.Driver === 'overlay')
  const plain = overlays.filter((n) => !('encrypted' in ((n.Options ?? {}) as Record<string, string>)))
  out.push(
    plain.length
      ? {
          cis: '7.3',
          status: 'fail',
          message: `overlay networks without encryption: ${plain.map((n) => String(n.Name)).join(', ')}`,
          fix: 'docker network create -d overlay --opt encrypted <name>',
        }
      : {cis: '7.3', status: 'pass', message: `${overlays.length} overlay network(s), all encrypted`},
  )
  out.push({
    cis: '7.4',
    status: 'manual',
    message: 'check that services take secrets from docker secret, not environment variables',
  })
  const spec = (f.swarm?.Spec ?? {}) as {
    EncryptionConfig?: {AutoLockManagers?: boolean}
    CAConfig?: {NodeCertExpiry?: number}
  }
  out.push(
    spec.EncryptionConfig?.AutoLockManagers
      ? {cis: '7.5', status: 'pass', message: 'managers auto-lock'}
      : {
          cis: '7.5',
          status: 'fail',
          message: 'the swarm managers do not auto-lock: their raft keys sit unencrypted on disk',
          fix: 'docker swarm update --autolock=true',
        },
  )
  out.push({
    cis: '7.6',
    status: 'manual',
    message: 'check when the unlock key was last rotated (docker swarm unlock-key --rotate)',
  })
  const expiry = spec.CAConfig?.NodeCertExpiry
  out.push({
    cis: '7.7',
    status: 'manual',
    message: `node certificates expire after ${expiry ? `${Math.round(expiry / 3.6e12)} h` : 'the default (2160 h)'}: check against your policy`,
  })
  out.push({
    cis: '7.8',
    status: 'manual',
    message: 'check when the swarm CA was last rotated (docker swarm ca --rotate)',
  })
  out.push({
    cis: '7.9',
    status: 'manual',
    message: 'check that --advertise-addr and --data-path-addr are on different interfaces',
  })
  return out
}

/** Outcomes as findings (what is not a pass or not applicable), with CIS id, benchmark and level. */
export function outcomeToFinding(
  o: CheckOutcome,
  rec: CisRecommendation | undefined = recommendation(o.cis),
): Finding | undefined {
  if (o.status === 'pass' || o.status === 'not-applicable') return undefined
  const kind = o.status === 'fail' ? 'fail' : o.status
  const severity: AuditSeverity = o.status === 'fail' ? (o.severity ?? rec?.severity ?? 'medium') : 'info'
  const fix =
    o.fix ??
    (o.status === 'manual'
      ? `look at: ${rec?.look ?? o.message}`
      : o.status === 'needs-local-access'
        ? 'run ir audit on the engine host (as root) to decide'
        : '-')
  return {
    id: `cis-${o.cis}`,
    severity,
    message: o.message,
    hint: {compose: fix, run: fix},
    cis: o.cis,
    benchmark: BENCHMARK_LABEL,
    level: rec?.level ?? 1,
    kind,
  }
}
