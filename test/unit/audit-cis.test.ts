import {readFile} from 'node:fs/promises'
import {createRequire} from 'node:module'

import {XMLParser, XMLValidator} from 'fast-xml-parser'
import {describe, expect, it} from 'vitest'

import {CIS_OF_CHECK, CIS_RECOMMENDATIONS, matchesOnly, recommendation} from '../../src/services/audit/catalogue.js'
import {auditInspect, type InspectDoc} from '../../src/services/audit/checks.js'
import {
  type DaemonFacts,
  daemonOutcomes,
  fileOutcomes,
  type LocalFacts,
  setting,
} from '../../src/services/audit/daemon.js'
import {toJunit, toSarif, xmlEscape} from '../../src/services/audit/formats.js'
import {flagValues, listensOnAll} from '../../src/services/audit/host-facts.js'
import {runtimeChecks} from '../../src/services/audit/runtime-checks.js'
import {auditContainers, globToRegExp} from '../../src/services/audit.js'
import type {ContainerDetails, Engine, InspectReader} from '../../src/docker/types.js'
import {engineFailure, FakeEngine} from '../helpers/fake-engine.js'

const ids = (fs: Array<{id: string}>): string[] => fs.map((f) => f.id).sort()

describe('the CIS Docker Benchmark 1.6.0 catalogue', () => {
  it('has every recommendation of sections 2 (18), 3 (24), 4 (12), 5 (32) and 7 (9), once each, with a level', () => {
    const count = (s: string): number => CIS_RECOMMENDATIONS.filter((r) => r.cis.startsWith(`${s}.`)).length
    expect([count('2'), count('3'), count('4'), count('5'), count('7')]).toEqual([18, 24, 12, 32, 9])
    expect(new Set(CIS_RECOMMENDATIONS.map((r) => r.cis)).size).toBe(CIS_RECOMMENDATIONS.length)
    for (const r of CIS_RECOMMENDATIONS) {
      expect([1, 2], r.cis).toContain(r.level)
      if (!r.automated) expect(r.look, r.cis).toBeTruthy()
    }
    expect(recommendation('5.30')).toMatchObject({
      level: 2,
      title: "Ensure that Docker's default bridge 'docker0' is not used",
    })
  })

  it('maps every ir check with a CIS id onto an existing recommendation', () => {
    for (const [check, cis] of Object.entries(CIS_OF_CHECK)) expect(recommendation(cis), check).toBeDefined()
  })

  it('--only matches check ids, CIS ids with or without the cis- prefix, and sections', () => {
    expect(matchesOnly(['5.8'], 'ports.privileged', '5.8')).toBe(true)
    expect(matchesOnly(['cis-5.8'], 'ports.privileged', '5.8')).toBe(true)
    expect(matchesOnly(['5'], 'ports.privileged', '5.8')).toBe(true)
    expect(matchesOnly(['5.8'], 'ports.exposed', '5.14')).toBe(false)
    expect(matchesOnly(['5.1'], 'x', '5.14')).toBe(false)
    expect(matchesOnly(['pid1.root'], 'pid1.root', undefined)).toBe(true)
    expect(matchesOnly([], 'anything', undefined)).toBe(true)
  })

  it('--exclude patterns are globs on the whole name', () => {
    expect(globToRegExp('ir-lab-*').test('ir-lab-web-1')).toBe(true)
    expect(globToRegExp('ir-lab-*').test('my-ir-lab-web')).toBe(false)
    expect(globToRegExp('web-?').test('web-1')).toBe(true)
    expect(globToRegExp('a.b').test('axb')).toBe(false)
  })
})

const BASE: InspectDoc = {
  Config: {User: '1000', Image: 'x', Healthcheck: {Test: ['CMD', 'true']}},
  HostConfig: {
    NetworkMode: 'app',
    CapDrop: ['ALL'],
    ReadonlyRootfs: true,
    Memory: 1,
    NanoCpus: 1,
    PidsLimit: 1,
    SecurityOpt: ['no-new-privileges'],
    RestartPolicy: {Name: 'on-failure', MaximumRetryCount: 5},
    LogConfig: {Type: 'json-file', Config: {'max-size': '1m', 'max-file': '2'}},
  },
  NetworkSettings: {Networks: {app: {}}},
}
const withHost = (h: NonNullable<InspectDoc['HostConfig']>, extra: Partial<InspectDoc> = {}): InspectDoc => ({
  ...BASE,
  ...extra,
  HostConfig: {...BASE.HostConfig, ...h},
})

describe('runtime checks docker-bench missed', () => {
  it('flags privileged host ports (5.8), devices (5.18), shared propagation (5.20), no health check (5.27), the default bridge (5.30)', () => {
    expect(runtimeChecks(BASE, {})).toEqual([])
    expect(
      ids(
        runtimeChecks(
          withHost({
            PortBindings: {
              '80/tcp': [{HostIp: '127.0.0.1', HostPort: '80'}],
              '8080/tcp': [{HostIp: '127.0.0.1', HostPort: '8080'}],
            },
          }),
          {},
        ),
      ),
    ).toEqual(['ports.privileged'])
    expect(
      runtimeChecks(
        withHost({Devices: [{PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm'}]}),
        {},
      )[0],
    ).toMatchObject({id: 'devices', severity: 'high', message: expect.stringContaining('/dev/fuse')})
    expect(
      ids(
        runtimeChecks(
          {...BASE, Mounts: [{Type: 'bind', Source: '/srv', Destination: '/srv', Propagation: 'rshared'}]},
          {},
        ),
      ),
    ).toEqual(['mount.propagation'])
    expect(
      ids(
        runtimeChecks(
          {...BASE, Mounts: [{Type: 'bind', Source: '/srv', Destination: '/srv', Propagation: 'rprivate'}]},
          {},
        ),
      ),
    ).toEqual([])
    expect(ids(runtimeChecks({...BASE, Config: {User: '1000'}}, {}))).toEqual(['health.none'])
    expect(ids(runtimeChecks({...BASE, Config: {User: '1000', Healthcheck: {Test: ['NONE']}}}, {}))).toEqual([
      'health.none',
    ])
    expect(
      ids(runtimeChecks(withHost({NetworkMode: 'bridge'}, {NetworkSettings: {Networks: {bridge: {}}}}), {})),
    ).toEqual(['network.default-bridge'])
  })

  it('4.6 is low without a HEALTHCHECK in the image, info when the container sets one; 5.15 wants on-failure:1..5; 5.25 a default cgroup', () => {
    expect(runtimeChecks(BASE, {imageHealthcheck: false})).toEqual([
      expect.objectContaining({id: 'image.healthcheck', severity: 'info'}),
    ])
    expect(
      runtimeChecks({...BASE, Config: {User: '1'}}, {imageHealthcheck: false}).find((f) => f.id === 'image.healthcheck')
        ?.severity,
    ).toBe('low')
    expect(ids(runtimeChecks(withHost({RestartPolicy: {Name: 'always'}}), {}))).toEqual(['restart.policy'])
    expect(ids(runtimeChecks(withHost({RestartPolicy: {Name: 'on-failure', MaximumRetryCount: 10}}), {}))).toEqual([
      'restart.policy',
    ])
    expect(ids(runtimeChecks(withHost({RestartPolicy: {Name: 'no'}}), {}))).toEqual([])
    expect(ids(runtimeChecks(withHost({CgroupParent: '/custom'}), {}))).toEqual(['cgroup.parent'])
  })

  it('reads sshd from the process list and privileged/root execs from the engine, never from inside', () => {
    expect(ids(runtimeChecks(BASE, {processes: ['/usr/sbin/sshd -D', 'sleep 1']}))).toEqual(['process.sshd'])
    expect(ids(runtimeChecks(BASE, {processes: ['sshdump', 'notsshd']}))).toEqual([])
    expect(
      ids(
        runtimeChecks(BASE, {
          execs: [
            {id: 'e1', privileged: true, user: ''},
            {id: 'e2', privileged: false, user: 'root'},
            {id: 'e3', privileged: false, user: '1000'},
          ],
        }),
      ),
    ).toEqual(['exec.privileged', 'exec.root'])
  })

  it('AppArmor (5.2) and SELinux (5.3) only where the engine supports them', () => {
    expect(
      runtimeChecks({...BASE, AppArmorProfile: ''}, {engineSecurityOptions: ['name=seccomp,profile=default']}),
    ).toEqual([])
    expect(
      ids(runtimeChecks({...BASE, AppArmorProfile: ''}, {engineSecurityOptions: ['name=apparmor', 'name=selinux']})),
    ).toEqual(['apparmor.none', 'selinux.none'])
    expect(
      ids(runtimeChecks({...BASE, AppArmorProfile: 'docker-default'}, {engineSecurityOptions: ['name=apparmor']})),
    ).toEqual([])
  })

  it('every finding carries the CIS id, benchmark and level; ir checks carry none', () => {
    const f = auditInspect(withHost({NetworkMode: 'bridge', Privileged: true}), {pid1: {method: 'proc', uid: 0}})
    expect(f.find((x) => x.id === 'privileged')).toMatchObject({
      cis: '5.5',
      benchmark: 'CIS Docker Benchmark 1.6.0',
      level: 1,
      kind: 'fail',
    })
    expect(f.find((x) => x.id === 'network.default-bridge')).toMatchObject({cis: '5.30', level: 2})
    const pid1 = f.find((x) => x.id === 'pid1.root')!
    expect(pid1.cis).toBeUndefined()
    expect(pid1.level).toBe(1)
  })

  it("tells the docker socket (5.32) from other runtimes' sockets (ir's own check)", () => {
    const f = auditInspect({
      ...BASE,
      Mounts: [
        {Type: 'bind', Source: '/run/containerd/containerd.sock', Destination: '/c.sock', RW: true},
        {Type: 'bind', Source: '/var/run/docker.sock', Destination: '/var/run/docker.sock', RW: false},
      ],
    })
    expect(f.filter((x) => x.id.startsWith('mount.')).map((x) => [x.id, x.cis])).toEqual([
      ['mount.runtime-socket', undefined],
      ['mount.docker-socket', '5.32'],
    ])
  })
})

function local(over: Partial<LocalFacts> = {}): LocalFacts {
  return {
    pid: 1,
    args: ['dockerd'],
    configFile: '/etc/docker/daemon.json',
    config: {},
    configExists: false,
    files: {},
    swarmPortOnAll: false,
    ...over,
  }
}
function daemon(over: Partial<DaemonFacts> = {}): DaemonFacts {
  return {
    endpoint: 'unix:///var/run/docker.sock',
    info: {
      Driver: 'overlay2',
      LoggingDriver: 'json-file',
      SecurityOptions: ['name=seccomp,profile=default'],
      Swarm: {LocalNodeState: 'inactive'},
    },
    bridge: {Options: {'com.docker.network.bridge.enable_icc': 'true'}},
    env: {},
    ...over,
  }
}
const statusOf = (outs: ReturnType<typeof daemonOutcomes>, cis: string): string | undefined =>
  outs.find((o) => o.cis === cis)?.status

describe('daemon, host and swarm checks over facts', () => {
  it('reads a setting from the command line first, then daemon.json; bare booleans and repeated flags', () => {
    const l = local({
      args: [
        'dockerd',
        '--iptables=false',
        '--log-level',
        'debug',
        '-H',
        'unix:///a.sock',
        '--host=tcp://0.0.0.0:2375',
        '--live-restore',
      ],
      config: {'log-level': 'info', icc: false},
    })
    expect(setting(l, 'iptables')).toEqual({value: 'false', source: 'dockerd command line'})
    expect(setting(l, 'log-level', ['--log-level'])).toEqual({value: 'debug', source: 'dockerd command line'})
    expect(setting(l, 'hosts', ['-H', '--host'])?.value).toEqual(['unix:///a.sock', 'tcp://0.0.0.0:2375'])
    expect(setting(l, 'live-restore')).toEqual({value: true, source: 'dockerd command line'})
    expect(setting(l, 'icc')).toEqual({value: false, source: '/etc/docker/daemon.json'})
    expect(setting(l, 'userland-proxy')).toBeUndefined()
    expect(flagValues(['dockerd', '--config-file', '/x.json'], ['--config-file'])).toEqual(['/x.json'])
  })

  it('decides from the engine what it can, and says "needs local access" for the rest', () => {
    const outs = daemonOutcomes(daemon({localNote: 'not on the host'}))
    expect(statusOf(outs, '2.2')).toBe('fail') // icc from the bridge network
    expect(statusOf(outs, '2.5')).toBe('pass')
    expect(statusOf(outs, '2.9')).toBe('fail')
    expect(statusOf(outs, '2.13')).toBe('fail')
    expect(statusOf(outs, '2.15')).toBe('fail')
    for (const cis of ['2.3', '2.4', '2.7', '2.10', '2.14', '2.16', '3.1', '3.16', '3.24'])
      expect(statusOf(outs, cis), cis).toBe('needs-local-access')
    expect(outs.find((o) => o.cis === '2.4')!.message).toContain('not on the host')
    expect(statusOf(outs, '7.1')).toBe('not-applicable')
    expect(statusOf(outs, '2.1')).toBe('manual')
  })

  it('with local facts: settings on and off, and a TCP socket without TLS', () => {
    const on = daemonOutcomes(
      daemon({
        info: {...daemon().info, LiveRestoreEnabled: true, SecurityOptions: ['name=userns']},
        bridge: {Options: {'com.docker.network.bridge.enable_icc': 'false'}},
        local: local({
          config: {
            'no-new-privileges': true,
            'userland-proxy': false,
            'log-level': 'info',
            icc: false,
            'live-restore': true,
          },
        }),
      }),
    )
    for (const cis of ['2.2', '2.3', '2.4', '2.7', '2.9', '2.14', '2.15', '2.16'])
      expect(statusOf(on, cis), cis).toBe('pass')
    const off = daemonOutcomes(
      daemon({
        info: {
          ...daemon().info,
          Debug: true,
          ExperimentalBuild: true,
          RegistryConfig: {InsecureRegistryCIDRs: ['127.0.0.0/8', '10.0.0.0/8']},
        },
        local: local({
          args: ['dockerd', '--iptables=false', '-H', 'tcp://0.0.0.0:2375'],
          config: {'cgroup-parent': '/x'},
        }),
      }),
    )
    for (const cis of ['2.3', '2.4', '2.5', '2.7', '2.10', '2.14', '2.16', '2.18'])
      expect(statusOf(off, cis), cis).toBe('fail')
    expect(off.find((o) => o.cis === '2.5')!.message).toContain('10.0.0.0/8')
    expect(off.find((o) => o.cis === '2.5')!.message).not.toContain('127.0.0.0/8')
  })

  it('checks file owners and modes (section 3), "more restrictive" meaning no extra bit', () => {
    const outs = fileOutcomes(
      local({
        dockerGid: 998,
        files: {
          'docker-sock': {path: '/var/run/docker.sock', uid: 0, gid: 998, mode: 0o660, isDirectory: false},
          'daemon.json': {path: '/etc/docker/daemon.json', uid: 1000, gid: 0, mode: 0o666, isDirectory: false},
          'etc-docker': {path: '/etc/docker', uid: 0, gid: 0, mode: 0o700, isDirectory: true},
        },
      }),
    )
    const s = (cis: string): string | undefined => outs.find((o) => o.cis === cis)?.status
    expect([s('3.15'), s('3.16'), s('3.17'), s('3.18'), s('3.5'), s('3.6'), s('3.1')]).toEqual([
      'pass',
      'pass',
      'fail',
      'fail',
      'pass',
      'pass',
      'not-applicable',
    ])
    expect(outs.find((o) => o.cis === '3.18')!.message).toContain('0666')
  })

  it('swarm (section 7) on a manager: managers, the 2377 listener, overlay encryption, auto-lock', () => {
    const info = {...daemon().info, Swarm: {LocalNodeState: 'active', ControlAvailable: true}}
    const outs = daemonOutcomes(
      daemon({
        info,
        managers: 2,
        networks: [
          {Name: 'ingress', Driver: 'overlay', Options: {}},
          {Name: 'sec', Driver: 'overlay', Options: {encrypted: ''}},
        ],
        swarm: {Spec: {EncryptionConfig: {AutoLockManagers: false}}},
        local: local({swarmPortOnAll: true}),
      }),
    )
    expect(['5.1', '7.1', '7.2', '7.3', '7.5'].map((c) => statusOf(outs, c))).toEqual([
      'fail',
      'fail',
      'fail',
      'fail',
      'fail',
    ])
    expect(outs.find((o) => o.cis === '7.3')!.message).toContain('ingress')
    expect(outs.find((o) => o.cis === '7.3')!.message).not.toContain('sec')
    expect(listensOnAll('  sl  local_address rem_address   st\n   0: 00000000:0949 00000000:0000 0A 0\n', 2377)).toBe(
      true,
    )
    expect(listensOnAll('   0: 0100007F:0949 00000000:0000 0A 0\n', 2377)).toBe(false)
  })
})

// ------------------------------------------------------------------------------------------------
// Through the service, on a fake engine: formats, filters, stopped and quarantined.

function details(id: string, name: string, raw: InspectDoc, state = 'running'): ContainerDetails {
  return {
    id,
    name,
    image: 'x',
    imageId: 'sha256:i',
    state,
    pid: state === 'running' ? 4242 : 0,
    networkMode: 'app',
    endpoints:
      state === 'paused' ? [] : [{networkId: 'n', networkName: 'app', aliases: [], staticIp: false, links: []}],
    mounts: [],
    labels: {},
    logDriver: 'json-file',
    raw: {Id: id, Name: `/${name}`, ...raw},
  }
}

function engineWith(containers: ContainerDetails[]): Engine {
  const fake = new FakeEngine([])
  const inspector: InspectReader = {
    info: async () => daemon().info,
    networks: async () => [],
    network: async () => daemon().bridge,
    swarm: async () => undefined,
    exec: async () => undefined,
    image: async () => ({Config: {User: '', Healthcheck: null}, Created: new Date().toISOString()}),
  }
  const byRef = (ref: string): ContainerDetails | undefined =>
    containers.find((c) => c.id === ref || c.name === ref || c.id.startsWith(ref))
  return Object.assign(Object.create(fake) as Engine, {
    endpoint: 'tcp://10.0.0.1:2375',
    inspector,
    containers: {
      ...fake.containers,
      list: async () =>
        containers.map((c) => ({
          id: c.id,
          names: [c.name],
          image: c.image,
          imageId: c.imageId,
          state: c.state,
          status: c.state,
          labels: {},
        })),
      inspect: async (ref: string) => {
        const c = byRef(ref)
        if (!c) throw engineFailure(`inspect container ${ref}`, `No such container: ${ref}`)
        return c
      },
      top: async () => ({titles: ['PID', 'UID', 'COMMAND'], processes: [['4242', '1000', 'sleep 1']]}),
    },
    images: {
      ...fake.images,
      inspect: async () => ({
        id: 'sha256:i',
        repoTags: [],
        labels: {},
        created: new Date().toISOString(),
        size: 1,
        user: '1000',
        repoDigests: [],
      }),
    },
  })
}

type Validator = ((doc: unknown) => boolean) & {errors?: unknown[] | null}
const require = createRequire(import.meta.url)
// CommonJS packages: the JSON Schema draft-04 flavour of Ajv (the SARIF 2.1.0 schema is draft-04) and its formats.
const Ajv = require('ajv-draft-04') as new (opts: object) => {compile(schema: object): Validator}
const addFormats = require('ajv-formats') as (ajv: object) => void

const SARIF_SCHEMA = JSON.parse(
  await readFile(new URL('../fixtures/sarif-schema-2.1.0.json', import.meta.url), 'utf8'),
) as object

describe('audit results as SARIF 2.1.0 and JUnit XML', () => {
  const containers = [
    details(
      'a'.repeat(64),
      'web',
      withHost({Privileged: true, PortBindings: {'80/tcp': [{HostIp: '0.0.0.0', HostPort: '80'}]}}),
    ),
    details('b'.repeat(64), 'old', BASE, 'exited'),
    details('c'.repeat(64), 'frozen <&>', BASE, 'paused'),
  ]

  it('SARIF validates against the OASIS SARIF 2.1.0 schema and carries CIS ids and levels', async () => {
    const r = await auditContainers({engine: engineWith(containers), all: true, procRoot: '/nonexistent'})
    const sarif = toSarif(r) as {
      runs: Array<{
        results: Array<{ruleId: string; kind: string; level: string; properties: {cis?: string; target: string}}>
        tool: {driver: {rules: Array<{id: string}>}}
      }>
    }
    const ajv = new Ajv({strict: false, allErrors: true})
    addFormats(ajv)
    const validate = ajv.compile(SARIF_SCHEMA)
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true)
    const results = sarif.runs[0]!.results
    expect(results.find((x) => x.ruleId === 'privileged')).toMatchObject({
      kind: 'fail',
      level: 'error',
      properties: {cis: '5.5', target: 'web'},
    })
    expect(results.find((x) => x.ruleId === 'cis-2.4')).toMatchObject({kind: 'open', level: 'none'}) // needs local access: remote engine
    expect(results.find((x) => x.ruleId === 'cis-2.1')).toMatchObject({kind: 'review', level: 'none'})
    expect(new Set(sarif.runs[0]!.tool.driver.rules.map((x) => x.id)).size).toBe(
      sarif.runs[0]!.tool.driver.rules.length,
    )
    // GitHub code scanning refuses results without a repository-relative location
    const uris = results.map(
      (x) =>
        (x as unknown as {locations: Array<{physicalLocation: {artifactLocation: {uri: string}}}>}).locations[0]!
          .physicalLocation.artifactLocation.uri,
    )
    expect(new Set(uris)).toEqual(
      new Set(['docker/engine', 'docker/containers/web', 'docker/containers/old', 'docker/containers/frozen_']),
    )
    // a broken document is refused by the same validator: the test can fail
    expect(validate({...sarif, version: '2.0.0'})).toBe(false)
  })

  it('JUnit XML is well formed, one suite per target, failures, skipped manual checks and passes', async () => {
    const r = await auditContainers({engine: engineWith(containers), all: true, procRoot: '/nonexistent'})
    const xml = toJunit(r)
    expect(XMLValidator.validate(xml)).toBe(true)
    const doc = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (n) => ['testsuite', 'testcase'].includes(n),
    }).parse(xml) as {
      testsuites: {
        tests: string
        failures: string
        testsuite: Array<{
          name: string
          tests: string
          failures: string
          skipped: string
          testcase: Array<{name: string; failure?: {type: string}; skipped?: unknown}>
        }>
      }
    }
    const suites = doc.testsuites.testsuite
    expect(suites.map((s) => s.name)).toEqual(['engine tcp://10.0.0.1:2375', 'frozen <&>', 'old', 'web'])
    for (const s of suites) {
      expect(Number(s.tests)).toBe(s.testcase.length)
      expect(Number(s.failures)).toBe(s.testcase.filter((c) => c.failure).length)
      expect(Number(s.skipped)).toBe(s.testcase.filter((c) => c.skipped !== undefined).length)
    }
    expect(Number(doc.testsuites.tests)).toBe(suites.reduce((n, s) => n + s.testcase.length, 0))
    const web = suites.find((s) => s.name === 'web')!
    expect(web.testcase.find((c) => c.name.startsWith('CIS 5.5 privileged'))?.failure?.type).toBe('critical')
    expect(web.testcase.find((c) => c.name.startsWith('CIS 5.8 '))?.failure).toBeDefined()
    expect(web.testcase.some((c) => c.name.startsWith('CIS 5.32:') && !c.failure)).toBe(true) // a pass
    expect(xmlEscape('a\u0007<b>&"\'')).toBe('a&lt;b&gt;&amp;&quot;&apos;')
    // libxml2's verdict against the JUnit schema Jenkins uses; the same schema refuses a broken document
    const {validateXML} = require('xmllint-wasm') as {
      validateXML(o: {
        xml: Array<{fileName: string; contents: string}>
        schema: string[]
      }): Promise<{valid: boolean; errors: Array<{rawMessage: string}>}>
    }
    const xsd = await readFile(new URL('../fixtures/junit-4.xsd', import.meta.url), 'utf8')
    const verdict = await validateXML({xml: [{fileName: 'audit.xml', contents: xml}], schema: [xsd]})
    expect(verdict.errors.map((e) => e.rawMessage)).toEqual([])
    expect(verdict.valid).toBe(true)
    const broken = await validateXML({
      xml: [
        {
          fileName: 'broken.xml',
          contents: xml.replace(/<testcase classname="([^"]*)" name="[^"]*"/, '<testcase classname="$1"'),
        },
      ],
      schema: [xsd],
    })
    expect(broken.valid).toBe(false)
  })

  it('--level 1 drops Level 2 checks, --only keeps the named ones, --exclude leaves containers out; stopped ones are flagged', async () => {
    const engine = engineWith(containers)
    const all = await auditContainers({engine, all: true, procRoot: '/nonexistent'})
    expect(all.containers.find((c) => c.name === 'old')).toMatchObject({stopped: true, state: 'exited'})
    expect(all.containers.find((c) => c.name === 'web')!.stopped).toBe(false)
    expect(all.containers.find((c) => c.name === 'frozen <&>')!.quarantined?.note).toContain('paused with no network')
    expect(all.engine!.findings.map((f) => f.cis)).toContain('2.9')
    const l1 = await auditContainers({engine, all: true, level: 1, procRoot: '/nonexistent'})
    const l1cis = [...l1.engine!.findings, ...l1.containers.flatMap((c) => c.findings)]
      .map((f) => f.cis)
      .filter(Boolean)
    expect(l1cis.every((c) => recommendation(c!)!.level === 1)).toBe(true)
    expect(l1cis).not.toContain('2.9')
    expect(l1.manual.map((m) => m.cis)).not.toContain('4.8')
    const only = await auditContainers({
      engine,
      all: true,
      only: ['5.8', 'pid1.root'],
      exclude: ['old', 'frozen*'],
      procRoot: '/nonexistent',
    })
    expect(only.excluded.sort()).toEqual(['frozen <&>', 'old'])
    expect(only.containers.map((c) => c.name)).toEqual(['web'])
    expect(ids(only.containers[0]!.findings)).toEqual(['ports.privileged'])
    expect(only.engine!.findings).toEqual([])
  })
})

describe("finding the engine's dockerd on this host (readHostFacts)", () => {
  async function fakeHost(
    args: (sock: string, root: string) => string[],
    opts: {environ?: string; config?: string} = {},
  ): Promise<{proc: string; root: string; sock: string}> {
    const {mkdir, mkdtemp, writeFile: write} = await import('node:fs/promises')
    const {tmpdir} = await import('node:os')
    const {join} = await import('node:path')
    const base = await mkdtemp(join(tmpdir(), 'ir-hostfacts-'))
    const proc = join(base, 'proc')
    const root = join(base, 'root')
    const sock = join(base, 'docker.sock')
    await write(sock, '')
    await mkdir(join(proc, '4321'), {recursive: true})
    await mkdir(join(proc, '99'), {recursive: true})
    await write(join(proc, '99', 'comm'), 'sleep\n')
    await write(join(proc, '4321', 'comm'), 'dockerd\n')
    await write(join(proc, '4321', 'cmdline'), `${args(sock, root).join('\0')}\0`)
    await write(join(proc, '4321', 'environ'), opts.environ ?? 'PATH=/bin\0')
    await mkdir(join(proc, 'net'), {recursive: true})
    await write(
      join(proc, 'net', 'tcp'),
      '  sl  local_address rem_address   st\n   0: 0100007F:0949 00000000:0000 0A 0\n',
    )
    await mkdir(join(root, 'etc', 'docker'), {recursive: true})
    if (opts.config !== undefined) await write(join(root, 'etc', 'docker', 'daemon.json'), opts.config)
    await write(join(root, 'etc', 'group'), 'root:x:0:\ndocker:x:998:\n')
    return {proc, root, sock}
  }

  it('matches the dockerd whose --host is the socket, reads its daemon.json and the group, and not other processes', async () => {
    const h = await fakeHost((sock) => ['dockerd', '--host', `unix://${sock}`, '--iptables=false'], {
      config: '{"icc": false}',
    })
    const {readHostFacts} = await import('../../src/services/audit/host-facts.js')
    const r = await readHostFacts({endpoint: `unix://${h.sock}`, procRoot: h.proc, root: h.root})
    expect(r.local).toMatchObject({
      pid: 4321,
      configFile: '/etc/docker/daemon.json',
      configExists: true,
      config: {icc: false},
      dockerGid: 998,
      swarmPortOnAll: false,
    })
    expect(r.local!.files['etc-docker']).toMatchObject({path: `${h.root}/etc/docker`, isDirectory: true})
    expect(r.local!.files['docker-sock']).toMatchObject({path: h.sock})
    expect(setting(r.local!, 'iptables')).toEqual({value: 'false', source: 'dockerd command line'})
  })

  it('says why there are no local facts: another socket, another data root, a TCP engine', async () => {
    const {readHostFacts} = await import('../../src/services/audit/host-facts.js')
    const other = await fakeHost(() => ['dockerd', '--host', 'unix:///somewhere/else.sock'])
    expect(
      (await readHostFacts({endpoint: `unix://${other.sock}`, procRoot: other.proc, root: other.root})).note,
    ).toMatch(/no dockerd serving .* is visible/)
    const h = await fakeHost((sock) => ['dockerd', '-H', `unix://${sock}`, '--data-root', '/data/docker'])
    expect(
      (
        await readHostFacts({
          endpoint: `unix://${h.sock}`,
          procRoot: h.proc,
          root: h.root,
          dockerRootDir: '/var/lib/docker',
        })
      ).local,
    ).toBeUndefined()
    expect(
      (
        await readHostFacts({
          endpoint: `unix://${h.sock}`,
          procRoot: h.proc,
          root: h.root,
          dockerRootDir: '/data/docker',
        })
      ).local?.pid,
    ).toBe(4321)
    expect((await readHostFacts({endpoint: 'tcp://10.0.0.1:2376 (TLS)'})).note).toContain('not through a local socket')
  })

  it('a rootless engine reads the daemon.json of the user running it', async () => {
    const h = await fakeHost((sock) => ['dockerd', `--host=unix://${sock}`], {
      environ: 'HOME=/home/alice\0XDG_CONFIG_HOME=/home/alice/.cfg\0SECRET=x\0',
    })
    const {readHostFacts} = await import('../../src/services/audit/host-facts.js')
    const r = await readHostFacts({endpoint: `unix://${h.sock}`, procRoot: h.proc, root: h.root, rootless: true})
    expect(r.local).toMatchObject({configFile: '/home/alice/.cfg/docker/daemon.json', configExists: false})
  })
})
