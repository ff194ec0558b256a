import {describe, expect, it} from 'vitest'

import {
  atOrAbove,
  auditInspect,
  checkCapabilities,
  PODMAN_DEFAULT_CAPABILITIES,
  checkDockerSocket,
  checkImage,
  checkLogging,
  checkNamespaces,
  checkPid1,
  checkPrivileged,
  checkPublishedPorts,
  checkReadOnlyRootfs,
  checkResourceLimits,
  checkRestartPolicy,
  checkSecurityOpts,
  checkSensitiveMounts,
  checkUser,
  type Finding,
  type InspectDoc,
  isRootUserSpec,
  parseSecurityOpt,
  sortFindings,
  summarize,
} from '../../src/services/audit/checks.js'

/** A fake inspect document of a container that passes every check. */
function hardened(): InspectDoc {
  return {
    Id: 'a'.repeat(64),
    Name: '/web-1',
    AppArmorProfile: 'docker-default',
    Config: {
      User: 'developer',
      Image: 'shop/web:1.2',
      ExposedPorts: {'8080/tcp': {}},
      Healthcheck: {Test: ['CMD', 'true']},
    },
    HostConfig: {
      Privileged: false,
      CapAdd: null,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      ReadonlyRootfs: true,
      Memory: 64 * 1024 * 1024,
      NanoCpus: 500_000_000,
      CpuQuota: 0,
      CpuShares: 0,
      PidsLimit: 64,
      RestartPolicy: {Name: 'on-failure', MaximumRetryCount: 3},
      NetworkMode: 'shop_default',
      PidMode: '',
      IpcMode: 'private',
      UTSMode: '',
      UsernsMode: '',
      Binds: null,
      PortBindings: {},
      PublishAllPorts: false,
      LogConfig: {Type: 'json-file', Config: {'max-size': '10m', 'max-file': '3'}},
    },
    Mounts: [{Type: 'volume', Source: '/var/lib/docker/volumes/data/_data', Destination: '/data', RW: true}],
    NetworkSettings: {Ports: {}},
    State: {Status: 'running', Running: true, Pid: 4242},
  }
}

function withHost(patch: NonNullable<InspectDoc['HostConfig']>, base = hardened()): InspectDoc {
  return {...base, HostConfig: {...base.HostConfig, ...patch}}
}

const ids = (fs: Finding[]): string[] => fs.map((f) => f.id)

describe('audit checks: a hardened container', () => {
  it('has no finding at or above low, and every finding carries a message and fix hints', () => {
    const findings = auditInspect(hardened(), {
      pid1: {method: 'proc', uid: 1000, hostUid: 1000, source: '/proc/4242/status'},
      image: {id: 'sha256:1', created: '2026-11-01T00:00:00Z', user: '1000'},
      now: new Date('2026-11-28T00:00:00Z'),
    })
    expect(findings).toEqual([])
    expect(summarize(findings)).toEqual({
      counts: {critical: 0, high: 0, medium: 0, low: 0, info: 0},
      score: 100,
      pass: true,
    })
  })
})

describe('user checks', () => {
  it('treats an empty user, root and uid 0 (with or without group) as root', () => {
    for (const spec of ['', 'root', '0', '0:0', 'root:root', '000']) expect(isRootUserSpec(spec), spec).toBe(true)
    for (const spec of ['developer', '1000', '1000:0', 'nobody:nogroup']) expect(isRootUserSpec(spec), spec).toBe(false)
  })

  it('flags a root configured user as high, with compose and run hints', () => {
    const empty = checkUser({...hardened(), Config: {User: ''}})
    expect(empty).toEqual([expect.objectContaining({id: 'user.root', severity: 'high'})])
    expect(empty[0]!.message).toMatch(/no user set/)
    expect(empty[0]!.hint.run).toContain('--user')
    expect(empty[0]!.hint.compose).toContain('user:')
    expect(checkUser({...hardened(), Config: {User: '0:0'}})[0]!.message).toContain('"0:0"')
    expect(checkUser(hardened())).toEqual([])
  })

  it('flags PID 1 running as uid 0, says how it was read, and notes an undetermined uid as info', () => {
    const root = checkPid1({method: 'proc', uid: 0, hostUid: 0, source: '/proc/9/status'})
    expect(root).toEqual([expect.objectContaining({id: 'pid1.root', severity: 'high'})])
    expect(root[0]!.message).toContain('/proc/9/status')
    expect(checkPid1({method: 'top', user: 'root', source: 'docker top'})[0]!.id).toBe('pid1.root')
    expect(checkPid1({method: 'top', uid: 1000, source: 'docker top'})).toEqual([])
    const unknown = checkPid1({method: 'none', note: 'the container is exited: no PID 1 to read'})
    expect(unknown).toEqual([expect.objectContaining({id: 'pid1.unknown', severity: 'info'})])
    expect(unknown[0]!.message).toContain('exited')
  })
})

describe('privilege checks', () => {
  it('flags privileged as critical', () => {
    expect(checkPrivileged(withHost({Privileged: true}))).toEqual([
      expect.objectContaining({id: 'privileged', severity: 'critical'}),
    ])
    expect(checkPrivileged(hardened())).toEqual([])
  })

  it('flags capabilities not all dropped (naming the partial drops)', () => {
    expect(checkCapabilities(withHost({CapDrop: null}))).toEqual([
      expect.objectContaining({id: 'caps.not-dropped', severity: 'medium'}),
    ])
    expect(checkCapabilities(withHost({CapDrop: ['NET_RAW', 'MKNOD']}))[0]!.message).toContain(
      'drops only NET_RAW, MKNOD',
    )
    expect(checkCapabilities(withHost({CapDrop: ['all']}))).toEqual([])
    // Podman's compat inspect writes --cap-drop ALL as its 11 defaults: ALL there, not on Docker (NET_RAW, MKNOD stay).
    const podmanAll = withHost({CapDrop: [...PODMAN_DEFAULT_CAPABILITIES]})
    expect(auditInspect(podmanAll, {engineKind: 'podman'}).map((f) => f.id)).not.toContain('caps.not-dropped')
    expect(auditInspect(podmanAll, {engineKind: 'docker'}).map((f) => f.id)).toContain('caps.not-dropped')
    const podmanSome = withHost({CapDrop: PODMAN_DEFAULT_CAPABILITIES.slice(1)})
    expect(auditInspect(podmanSome, {engineKind: 'podman'}).map((f) => f.id)).toContain('caps.not-dropped')
  })

  it('flags each dangerous added capability with its own severity, normalising CAP_ and case, and notes the others as info', () => {
    const f = checkCapabilities(
      withHost({CapAdd: ['CAP_SYS_ADMIN', 'net_admin', 'NET_RAW', 'SYS_PTRACE', 'NET_BIND_SERVICE', 'CHOWN']}),
    )
    expect(f.map((x) => [x.id, x.severity, x.message.split(' ').at(-1)])).toEqual([
      ['caps.dangerous', 'critical', 'SYS_ADMIN'],
      ['caps.dangerous', 'high', 'NET_ADMIN'],
      ['caps.dangerous', 'medium', 'NET_RAW'],
      ['caps.dangerous', 'high', 'SYS_PTRACE'],
      ['caps.added', 'info', 'CHOWN'],
    ])
    expect(f.at(-1)!.message).toContain('NET_BIND_SERVICE, CHOWN')
    expect(checkCapabilities(withHost({CapAdd: ['ALL']}))[0]).toMatchObject({
      id: 'caps.dangerous',
      severity: 'critical',
    })
    for (const cap of ['SYS_MODULE', 'DAC_READ_SEARCH', 'SYS_RAWIO', 'BPF', 'PERFMON']) {
      expect(checkCapabilities(withHost({CapAdd: [cap]}))[0], cap).toMatchObject({id: 'caps.dangerous'})
    }
  })

  it('parses security options in = and : forms', () => {
    const m = parseSecurityOpt(['no-new-privileges', 'seccomp:unconfined', 'apparmor=unconfined', 'label=disable'])
    expect([...m.entries()]).toEqual([
      ['no-new-privileges', ''],
      ['seccomp', 'unconfined'],
      ['apparmor', 'unconfined'],
      ['label', 'disable'],
    ])
  })

  it('requires no-new-privileges (bare, :true or =true), and flags unconfined seccomp, AppArmor and SELinux', () => {
    for (const opt of ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true'])
      expect(checkSecurityOpts(withHost({SecurityOpt: [opt]})), opt).toEqual([])
    expect(ids(checkSecurityOpts(withHost({SecurityOpt: ['no-new-privileges:false']})))).toEqual(['no-new-privileges'])
    expect(ids(checkSecurityOpts(withHost({SecurityOpt: null})))).toEqual(['no-new-privileges'])
    const f = checkSecurityOpts(
      withHost({SecurityOpt: ['no-new-privileges', 'seccomp=unconfined', 'apparmor:unconfined', 'label:disable']}),
    )
    expect(f.map((x) => [x.id, x.severity])).toEqual([
      ['seccomp.unconfined', 'high'],
      ['apparmor.unconfined', 'high'],
      ['selinux.disabled', 'medium'],
    ])
    expect(ids(checkSecurityOpts({...hardened(), AppArmorProfile: 'unconfined'}))).toEqual(['apparmor.unconfined'])
  })

  it('does not repeat unconfined seccomp/AppArmor for a privileged container', () => {
    expect(
      ids(
        checkSecurityOpts({
          ...withHost({Privileged: true, SecurityOpt: ['seccomp=unconfined']}),
          AppArmorProfile: 'unconfined',
        }),
      ),
    ).toEqual(['no-new-privileges'])
  })
})

describe('filesystem, limits and restart checks', () => {
  it('flags a writable root filesystem', () => {
    expect(checkReadOnlyRootfs(withHost({ReadonlyRootfs: false}))).toEqual([
      expect.objectContaining({id: 'rootfs.writable', severity: 'medium'}),
    ])
    expect(checkReadOnlyRootfs(hardened())).toEqual([])
  })

  it('flags missing memory, CPU and pids limits; any of NanoCpus, CpuQuota or CpuShares counts for CPU', () => {
    const none = checkResourceLimits(withHost({Memory: 0, NanoCpus: 0, CpuQuota: 0, CpuShares: 0, PidsLimit: null}))
    expect(none.map((f) => [f.id, f.severity])).toEqual([
      ['limits.memory', 'medium'],
      ['limits.cpu', 'low'],
      ['limits.pids', 'medium'],
    ])
    expect(ids(checkResourceLimits(withHost({PidsLimit: -1})))).toEqual(['limits.pids'])
    expect(ids(checkResourceLimits(withHost({PidsLimit: 0})))).toEqual(['limits.pids'])
    expect(checkResourceLimits(withHost({NanoCpus: 0, CpuQuota: 50_000}))).toEqual([])
    expect(checkResourceLimits(withHost({NanoCpus: 0, CpuShares: 512}))).toEqual([])
    expect(checkResourceLimits(hardened())).toEqual([])
  })

  it('wants a bounded restart policy', () => {
    expect(checkRestartPolicy(withHost({RestartPolicy: {Name: 'no', MaximumRetryCount: 0}}))).toEqual([
      expect.objectContaining({id: 'restart.none', severity: 'low'}),
    ])
    expect(checkRestartPolicy(withHost({RestartPolicy: {Name: '', MaximumRetryCount: 0}}))[0]!.id).toBe('restart.none')
    for (const name of ['always', 'unless-stopped']) {
      const f = checkRestartPolicy(withHost({RestartPolicy: {Name: name, MaximumRetryCount: 0}}))
      expect(f, name).toEqual([expect.objectContaining({id: 'restart.unbounded', severity: 'low'})])
      expect(f[0]!.hint.run).toBe('--restart on-failure:5')
    }
    expect(checkRestartPolicy(withHost({RestartPolicy: {Name: 'on-failure', MaximumRetryCount: 0}}))[0]!.id).toBe(
      'restart.unbounded',
    )
    expect(checkRestartPolicy(hardened())).toEqual([])
  })
})

describe('host access checks', () => {
  it('flags a mounted engine socket as critical, by source or destination, even read-only', () => {
    const doc: InspectDoc = {
      ...hardened(),
      Mounts: [{Type: 'bind', Source: '/tmp/x/docker.sock', Destination: '/var/run/docker.sock', RW: false}],
    }
    const f = checkDockerSocket(doc)
    expect(f).toEqual([expect.objectContaining({id: 'mount.docker-socket', severity: 'critical'})])
    expect(f[0]!.message).toContain('read-only does not help')
    expect(
      checkDockerSocket({
        ...hardened(),
        Mounts: [{Type: 'bind', Source: '/run/containerd/containerd.sock', Destination: '/c.sock', RW: true}],
      }),
    ).toHaveLength(1)
    expect(checkDockerSocket(hardened())).toEqual([])
  })

  it('reads HostConfig.Binds when the engine gave no Mounts', () => {
    const doc = withHost(
      {Binds: ['/var/run/docker.sock:/var/run/docker.sock:ro', '/etc:/host-etc']},
      {...hardened(), Mounts: null},
    )
    expect(ids(checkDockerSocket(doc))).toEqual(['mount.docker-socket'])
    expect(checkSensitiveMounts(doc).map((f) => [f.id, f.severity])).toEqual([['mount.sensitive', 'high']])
  })

  it('flags host network, PID, IPC, UTS and user namespaces', () => {
    const f = checkNamespaces(
      withHost({NetworkMode: 'host', PidMode: 'host', IpcMode: 'host', UTSMode: 'host', UsernsMode: 'host'}),
    )
    expect(f.map((x) => [x.id, x.severity])).toEqual([
      ['namespace.network', 'high'],
      ['namespace.pid', 'high'],
      ['namespace.ipc', 'medium'],
      ['namespace.uts', 'low'],
      ['namespace.userns', 'low'],
    ])
    expect(checkNamespaces(withHost({NetworkMode: 'bridge', PidMode: 'container:abc', IpcMode: 'shareable'}))).toEqual(
      [],
    )
  })

  it('flags sensitive host paths: the roots themselves, and below them one step lower when read-only', () => {
    const mount = (Source: string, RW = true): InspectDoc => ({
      ...hardened(),
      Mounts: [{Type: 'bind', Source, Destination: '/mnt', RW}],
    })
    const sev = (doc: InspectDoc): string[] => checkSensitiveMounts(doc).map((f) => f.severity)
    expect(sev(mount('/'))).toEqual(['critical'])
    expect(sev(mount('/var/run'))).toEqual(['critical'])
    expect(checkSensitiveMounts(mount('/var/run'))[0]!.message).toContain('engine socket')
    for (const p of ['/etc', '/proc', '/sys', '/root', '/boot']) expect(sev(mount(p)), p).toEqual(['high'])
    expect(sev(mount('/etc', false))).toEqual(['high'])
    expect(sev(mount('/home'))).toEqual(['medium'])
    expect(sev(mount('/etc/ssl/certs', false))).toEqual(['medium'])
    expect(sev(mount('/etc/ssl/certs', true))).toEqual(['high'])
    expect(sev(mount('/proc/'))).toEqual(['high'])
    expect(sev(mount('/etc/localtime', false))).toEqual([])
    expect(sev(mount('/srv/app'))).toEqual([])
    expect(sev(mount('/etcetera'))).toEqual([])
    expect(
      sev({
        ...hardened(),
        Mounts: [{Type: 'volume', Source: '/var/lib/docker/volumes/x/_data', Destination: '/x', RW: true}],
      }),
    ).toEqual([])
  })

  it('flags ports published on all interfaces with the port list, from the live bindings or the configured ones', () => {
    const live: InspectDoc = {
      ...hardened(),
      NetworkSettings: {
        Ports: {
          '8080/tcp': [
            {HostIp: '0.0.0.0', HostPort: '32768'},
            {HostIp: '::', HostPort: '32768'},
          ],
          '9090/tcp': [{HostIp: '127.0.0.1', HostPort: '9090'}],
          '53/udp': null,
        },
      },
    }
    const f = checkPublishedPorts(live)
    expect(f).toEqual([expect.objectContaining({id: 'ports.exposed', severity: 'medium'})])
    expect(f[0]!.message).toBe('publishes on all interfaces: 8080/tcp -> 0.0.0.0:32768, 8080/tcp -> [::]:32768')
    const configured = withHost(
      {PortBindings: {'8080/tcp': [{HostIp: '', HostPort: ''}]}},
      {...hardened(), NetworkSettings: {Ports: {}}},
    )
    expect(checkPublishedPorts(configured)[0]!.message).toContain('8080/tcp -> 0.0.0.0:(random)')
    expect(checkPublishedPorts(withHost({PublishAllPorts: true}))[0]!.message).toContain(
      '8080/tcp -> 0.0.0.0:(random, -P)',
    )
    expect(
      checkPublishedPorts(withHost({PortBindings: {'80/tcp': [{HostIp: '127.0.0.1', HostPort: '8080'}]}})),
    ).toEqual([])
    expect(checkPublishedPorts(hardened())).toEqual([])
  })
})

describe('logging check', () => {
  const log = (Type: string, Config: Record<string, string> = {}): InspectDoc => withHost({LogConfig: {Type, Config}})
  it('wants json-file with max-size and max-file', () => {
    expect(checkLogging(log('json-file')).map((f) => [f.id, f.severity])).toEqual([['logging.rotation', 'medium']])
    expect(checkLogging(log('json-file', {'max-size': '10m'})).map((f) => [f.id, f.severity])).toEqual([
      ['logging.rotation', 'low'],
    ])
    expect(checkLogging(log('json-file', {'max-size': '10m', 'max-file': '3'}))).toEqual([])
    expect(checkLogging(withHost({LogConfig: null})).map((f) => f.id)).toEqual(['logging.rotation'])
  })

  it('notes local without options, none and remote drivers', () => {
    expect(checkLogging(log('local')).map((f) => [f.id, f.severity])).toEqual([['logging.rotation', 'info']])
    expect(checkLogging(log('local', {'max-size': '10m', 'max-file': '3'}))).toEqual([])
    expect(checkLogging(log('none')).map((f) => [f.id, f.severity])).toEqual([['logging.none', 'low']])
    expect(checkLogging(log('syslog')).map((f) => [f.id, f.severity])).toEqual([['logging.remote', 'info']])
    expect(checkLogging(log('syslog'))[0]!.message).toContain('syslog')
  })
})

describe('image check', () => {
  const now = new Date('2026-11-28T12:00:00Z')
  it('flags an image older than the limit, with its age and build date', () => {
    const f = checkImage({id: 'sha256:1', created: '2026-06-01T00:00:00Z', user: 'app'}, hardened(), {
      now,
      maxImageAgeDays: 90,
    })
    expect(f).toEqual([expect.objectContaining({id: 'image.age', severity: 'medium'})])
    expect(f[0]!.message).toContain('180 days old (built 2026-06-01; limit 90 days)')
    expect(
      checkImage({id: 'sha256:1', created: '2026-06-01T00:00:00Z', user: 'app'}, hardened(), {
        now,
        maxImageAgeDays: 200,
      }),
    ).toEqual([])
    expect(
      checkImage({id: 'sha256:1', created: '2026-08-30T12:00:00Z', user: 'app'}, hardened(), {
        now,
        maxImageAgeDays: 90,
      }),
    ).toEqual([])
    expect(
      checkImage({id: 'sha256:1', created: '0001-01-01T00:00:00Z', user: 'app'}, hardened(), {
        now,
        maxImageAgeDays: 90,
      }),
    ).toEqual([expect.objectContaining({id: 'image.age', severity: 'info'})])
  })

  it('flags an image that runs as root by default: low, or info when the container sets a user', () => {
    const fresh = {id: 'sha256:1', created: '2026-11-27T00:00:00Z'}
    expect(
      checkImage({...fresh, user: ''}, {...hardened(), Config: {User: ''}}, {now, maxImageAgeDays: 90}).map((f) => [
        f.id,
        f.severity,
      ]),
    ).toEqual([['image.root-default', 'low']])
    expect(
      checkImage({...fresh, user: 'root'}, hardened(), {now, maxImageAgeDays: 90}).map((f) => [f.id, f.severity]),
    ).toEqual([['image.root-default', 'info']])
    expect(checkImage({...fresh, user: '1000:1000'}, hardened(), {now, maxImageAgeDays: 90})).toEqual([])
  })

  it('notes an image that could not be inspected', () => {
    expect(checkImage({id: 'sha256:gone', error: 'No such image'}, hardened(), {now, maxImageAgeDays: 90})).toEqual([
      expect.objectContaining({id: 'image.unavailable', severity: 'info'}),
    ])
  })
})

describe('severity ordering and summary', () => {
  it('compares severities', () => {
    expect(atOrAbove('critical', 'high')).toBe(true)
    expect(atOrAbove('high', 'high')).toBe(true)
    expect(atOrAbove('medium', 'high')).toBe(false)
    expect(atOrAbove('info', 'low')).toBe(false)
  })

  it('sorts most severe first (stable within a severity) and scores', () => {
    const f = (id: string, severity: Finding['severity']): Finding => ({
      id,
      severity,
      message: id,
      hint: {compose: '-', run: '-'},
    })
    const sorted = sortFindings([f('a', 'low'), f('b', 'critical'), f('c', 'info'), f('d', 'high'), f('e', 'low')])
    expect(sorted.map((x) => x.id)).toEqual(['b', 'd', 'a', 'e', 'c'])
    expect(summarize(sorted)).toEqual({
      counts: {critical: 1, high: 1, medium: 0, low: 2, info: 1},
      score: 63,
      pass: false,
    })
    expect(summarize([f('c', 'info')]).pass).toBe(true)
    expect(summarize(Array.from({length: 5}, () => f('x', 'critical'))).score).toBe(0)
  })

  it('reports every weakness of a deliberately weak container', () => {
    const weak: InspectDoc = {
      Config: {User: '', Image: 'busybox'},
      HostConfig: {
        Privileged: true,
        CapAdd: ['SYS_ADMIN'],
        NetworkMode: 'host',
        PidMode: 'host',
        PortBindings: {'8080/tcp': [{HostIp: '0.0.0.0', HostPort: ''}]},
        RestartPolicy: {Name: 'always'},
        LogConfig: {Type: 'json-file', Config: {}},
      },
      Mounts: [{Type: 'bind', Source: '/tmp/docker.sock', Destination: '/var/run/docker.sock', RW: true}],
      State: {Status: 'running', Pid: 7},
    }
    const found = auditInspect(weak, {
      pid1: {method: 'proc', uid: 0, hostUid: 0, source: '/proc/7/status'},
      image: {id: 'x', created: '2025-01-01T00:00:00Z', user: ''},
      now: new Date('2026-11-28T00:00:00Z'),
    })
    expect(new Set(ids(found))).toEqual(
      new Set([
        'user.root',
        'pid1.root',
        'privileged',
        'caps.not-dropped',
        'caps.dangerous',
        'no-new-privileges',
        'rootfs.writable',
        'limits.memory',
        'limits.cpu',
        'limits.pids',
        'restart.unbounded',
        'restart.policy',
        'health.none',
        'mount.docker-socket',
        'namespace.network',
        'namespace.pid',
        'ports.exposed',
        'logging.rotation',
        'image.age',
        'image.root-default',
      ]),
    )
    expect(found[0]!.severity).toBe('critical')
    for (const f of found) {
      expect(f.message.length, f.id).toBeGreaterThan(10)
      expect(f.message, f.id).not.toContain('\n')
      expect(f.hint.compose.length, f.id).toBeGreaterThan(1)
      expect(f.hint.run.length, f.id).toBeGreaterThan(1)
    }
  })
})
