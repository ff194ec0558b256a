import {readFile, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {createServer} from 'node:net'
import {join} from 'node:path'

import type Docker from 'dockerode'
import {execa} from 'execa'
import {XMLParser, XMLValidator} from 'fast-xml-parser'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runIr, tempDir} from '../helpers/cli.js'
import {TEST_IMAGE, TestDocker} from '../helpers/docker.js'
import {nextSecond, waitFor} from '../helpers/wait.js'

/**
 * The CIS Docker Benchmark audit against the real engine: one container per check that this sandbox
 * can provoke (each the hardened baseline plus one weakness, so the expected CIS ids are exact), the
 * engine's event stream and inspect documents before and after (the audit changes nothing), SARIF
 * validated against the OASIS schema, JUnit parsed. The daemon checks on a test engine started with
 * a known daemon.json are in audit-daemon.integration.test.ts (the engines project: one dockerd at a time).
 */
const t = new TestDocker('cis')
let incidents: string
let env: Record<string, string>
let net: {id: string; name: string}

type Spec = {
  what: string
  /** Expected CIS ids of the findings at or above low. */
  cis: string[]
  /** Extra ir ids expected (no CIS id). */
  ir?: string[]
  start?: boolean
  hostConfig?: Docker.HostConfig
  config?: Partial<Docker.ContainerCreateOptions>
  /** No user network (host network, or the default bridge on purpose). */
  noNet?: boolean
  /** After it starts: the test (not ir) does this to it. */
  after?: (name: string) => Promise<void>
}

const HARDENED: Docker.HostConfig = {
  CapDrop: ['ALL'],
  ReadonlyRootfs: true,
  SecurityOpt: ['no-new-privileges:true'],
  Memory: 64 * 1024 * 1024,
  NanoCpus: 250_000_000,
  PidsLimit: 64,
  RestartPolicy: {Name: 'on-failure', MaximumRetryCount: 3},
  LogConfig: {Type: 'json-file', Config: {'max-size': '1m', 'max-file': '2'}},
}
// A probe only after an hour: the engine's own health probes (exec_create events) stay out of the window.
const HEALTH = {Healthcheck: {Test: ['CMD', 'true'], Interval: 3_600_000_000_000}}

let lowPort = 0
let sockFile = ''
let containerdSock = ''

function specs(): Spec[] {
  return [
    {what: 'hardened', cis: []},
    {
      what: 'default',
      cis: ['4.1', '4.6', '5.4', '5.11', '5.12', '5.13', '5.26', '5.27', '5.29', '5.30'],
      ir: ['pid1.root', 'restart.none', 'logging.rotation', 'image.root-default'],
      noNet: true,
      config: {User: '', Healthcheck: undefined},
      hostConfig: {},
    },
    {what: 'caps', cis: ['5.4'], hostConfig: {CapAdd: ['SYS_ADMIN', 'NET_ADMIN']}},
    {
      what: 'socket',
      cis: ['5.32'],
      ir: ['mount.runtime-socket'],
      hostConfig: {Binds: [`${sockFile}:/var/run/docker.sock:ro`, `${containerdSock}:/run/containerd/containerd.sock`]},
    },
    // The engine itself adds label=disable (no SELinux labelling) to a container sharing the host's PID/IPC namespaces: 5.3 too.
    {
      what: 'host-ns',
      cis: ['5.3', '5.16', '5.17', '5.21', '5.31'],
      hostConfig: {PidMode: 'host', IpcMode: 'host', UTSMode: 'host', UsernsMode: 'host'},
    },
    {what: 'host-net', cis: ['5.10'], noNet: true, hostConfig: {NetworkMode: 'host'}},
    {
      what: 'mounts-ports',
      cis: ['5.6', '5.8', '5.14'],
      config: {ExposedPorts: {'80/tcp': {}, '8080/tcp': {}}},
      hostConfig: {
        Binds: ['/etc:/host-etc:ro'],
        PortBindings: {
          '80/tcp': [{HostIp: '127.0.0.1', HostPort: String(lowPort)}],
          '8080/tcp': [{HostIp: '0.0.0.0', HostPort: ''}],
        },
      },
    },
    {
      what: 'unconfined',
      cis: ['5.2', '5.22'],
      hostConfig: {SecurityOpt: ['no-new-privileges:true', 'seccomp=unconfined', 'apparmor=unconfined']},
    },
    {
      what: 'device',
      cis: ['5.18'],
      hostConfig: {Devices: [{PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'rwm'}]},
    },
    // The host's / is not a shared mount here, so it cannot start; its configuration is audited all the same.
    {what: 'propagation', cis: ['5.20'], start: false, hostConfig: {Binds: ['/tmp:/data:rshared']}},
    {what: 'restart-always', cis: ['5.15'], ir: ['restart.unbounded'], hostConfig: {RestartPolicy: {Name: 'always'}}},
    // This sandbox refuses to start privileged containers: created only.
    {what: 'privileged', cis: ['5.5'], start: false, hostConfig: {Privileged: true}},
    {what: 'stopped', cis: [], start: false},
    {what: 'no-health', cis: ['4.6', '5.27'], config: {Healthcheck: {Test: ['NONE']}}},
    {what: 'bridge', cis: ['5.30'], noNet: true, hostConfig: {NetworkMode: 'bridge'}},
    {
      what: 'sshd',
      cis: ['5.7'],
      config: {Cmd: ['sh', '-c', 'printf "#!/bin/sh\\nsleep 3600\\n" > /tmp/sshd; chmod +x /tmp/sshd; exec /tmp/sshd']},
      hostConfig: {Tmpfs: {'/tmp': 'rw,exec'}},
    },
    {
      what: 'exec-root',
      cis: ['5.24'],
      after: async (name) => {
        // a detached exec as root, still running: the engine lists it in ExecIDs
        await execa('docker', ['exec', '-d', '-u', 'root', name, 'sleep', '3600'])
      },
    },
  ]
}

const made: Array<Spec & {name: string; id: string}> = []

async function freeLowPort(): Promise<number> {
  for (let p = 990; p > 900; p--) {
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer()
      srv.once('error', () => resolve(false))
      srv.listen(p, '127.0.0.1', () => srv.close(() => resolve(true)))
    })
    if (ok) return p
  }
  throw new Error('no free port below 1000 on 127.0.0.1')
}

async function create(s: Spec): Promise<{id: string; name: string}> {
  const name = t.name(s.what)
  const hostConfig: Docker.HostConfig =
    s.what === 'default' ? {} : {...HARDENED, ...(s.noNet ? {} : {NetworkMode: net.name}), ...s.hostConfig}
  const c = await t.docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ['sleep', '3600'],
    Labels: t.labels,
    ...(s.what === 'default' ? {} : {User: 'developer', ...HEALTH}),
    ...s.config,
    HostConfig: hostConfig,
  })
  if (s.start !== false) await c.start()
  if (s.after) await s.after(name)
  return {id: c.id, name}
}

interface JsonFinding {
  id: string
  severity: string
  cis?: string
  level?: number
  benchmark?: string
  kind?: string
}
interface JsonContainer {
  id: string
  name: string
  stopped: boolean
  state: string
  findings: JsonFinding[]
  passed: string[]
}

const RANKED = new Set(['critical', 'high', 'medium', 'low'])

beforeAll(async () => {
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  net = await t.network('net')
  lowPort = await freeLowPort()
  const dir = await tempDir('ir-cis-sock-')
  sockFile = join(dir, 'docker.sock')
  containerdSock = join(dir, 'containerd.sock')
  await writeFile(sockFile, '') // empty files with socket names: never the real sockets
  await writeFile(containerdSock, '')
  for (const s of specs()) made.push({...s, ...(await create(s))})
  // The sshd stand-in runs under that name once its shell has exec'd it.
  const sshd = made.find((m) => m.what === 'sshd')!
  await waitFor(
    async () =>
      (await t.docker.getContainer(sshd.id).top()).Processes?.some((p: string[]) => p.join(' ').includes('/tmp/sshd')),
    {what: 'the sshd stand-in to run'},
  )
}, 120_000)

afterAll(async () => {
  await t.cleanup()
})

describe('ir audit: CIS Docker Benchmark 1.6.0 on the real engine', () => {
  it(`reports exactly the provoked CIS ids on each of ${specs().length} containers, with benchmark, level and stopped flags`, async () => {
    expect(made.length).toBeGreaterThanOrEqual(12)
    const r = await runIr(['audit', ...made.map((m) => m.name), '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as {
      benchmark: {name: string; version: string}
      containers: JsonContainer[]
      manual: Array<{cis: string}>
    }
    expect(result.benchmark).toEqual({name: 'CIS Docker Benchmark', version: '1.6.0'})
    const got: Record<string, string[]> = {}
    const want: Record<string, string[]> = {}
    for (const m of made) {
      const c = result.containers.find((x) => x.name === m.name)
      expect(c, m.name).toBeDefined()
      got[m.what] = [...new Set(c!.findings.filter((f) => RANKED.has(f.severity) && f.cis).map((f) => f.cis!))].sort()
      want[m.what] = [...m.cis].sort()
      for (const id of m.ir ?? [])
        expect(
          c!.findings.map((f) => f.id),
          `${m.what}: ${id}`,
        ).toContain(id)
      for (const f of c!.findings)
        if (f.cis) expect(f, m.what).toMatchObject({benchmark: 'CIS Docker Benchmark 1.6.0', level: expect.any(Number)})
      expect(c!.stopped, m.what).toBe(m.start === false)
      // what failed is never also listed as passed
      expect(
        c!.passed.filter((p) => got[m.what]!.includes(p)),
        m.what,
      ).toEqual([])
    }
    expect(got).toEqual(want)
    expect(result.manual.map((m) => m.cis)).toEqual(expect.arrayContaining(['4.2', '5.9', '5.28']))
  })

  it('changes nothing: no engine event, and every inspect document identical, during an audit of 20 containers', async () => {
    while (made.length < 20)
      made.push({what: `extra-${made.length}`, cis: [], ...(await create({what: `extra-${made.length}`, cis: []}))})
    const names = made.map((m) => m.name)
    const before = await Promise.all(made.map((m) => t.inspect(m.id)))
    // Events have one-second resolution: start the window after the second the last container was made in.
    const since = await nextSecond()
    const r = await runIr(['audit', ...names, '--daemon', '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).containers).toHaveLength(20)
    // ...and end it after the second the audit ended in.
    const until = await nextSecond()
    // Every event of the engine in that window that concerns one of them (containers, execs, networks).
    const ev = await execa('docker', [
      'events',
      '--since',
      String(since),
      '--until',
      String(until),
      '--format',
      '{{json .}}',
    ])
    const ids = new Set(made.map((m) => m.id))
    const ours = ev.stdout
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {Type: string; Action: string; Actor: {ID: string; Attributes?: Record<string, string>}},
      )
      .filter(
        (e) =>
          ids.has(e.Actor.ID) ||
          ids.has(e.Actor.Attributes?.container ?? '') ||
          names.includes(e.Actor.Attributes?.name ?? ''),
      )
    expect(ours.map((e) => `${e.Type} ${e.Action}`)).toEqual([])
    const after = await Promise.all(made.map((m) => t.inspect(m.id)))
    // The engine lists Mounts in no fixed order (a Go map): compare them sorted.
    const stable = (i: Awaited<ReturnType<typeof t.inspect>>): unknown => ({
      ...i,
      Mounts: [...(i.Mounts ?? [])].sort((a, b) => a.Destination.localeCompare(b.Destination)),
    })
    for (let i = 0; i < made.length; i++) expect(stable(after[i]!), made[i]!.what).toEqual(stable(before[i]!))
  })

  it('--format sarif validates against the SARIF 2.1.0 schema; --format junit against the JUnit schema Jenkins uses; --fail-on exits 9', async () => {
    const names = made.slice(0, 8).map((m) => m.name)
    const sarif = await runIr(['audit', ...names, '--format', 'sarif', '--fail-on', 'critical'], {env})
    expect(sarif.exitCode, sarif.stderr).toBe(9) // the socket mount is critical
    const doc = JSON.parse(sarif.stdout) as {
      version: string
      runs: Array<{results: Array<{ruleId: string; properties: {cis?: string; target: string}}>}>
    }
    const require = createRequire(import.meta.url)
    const Ajv = require('ajv-draft-04') as new (o: object) => {
      compile(s: object): ((d: unknown) => boolean) & {errors?: unknown}
    }
    const ajv = new Ajv({strict: false, allErrors: true})
    ;(require('ajv-formats') as (a: object) => void)(ajv)
    const validate = ajv.compile(
      JSON.parse(await readFile(new URL('../fixtures/sarif-schema-2.1.0.json', import.meta.url), 'utf8')) as object,
    )
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true)
    expect(doc.runs[0]!.results.find((x) => x.ruleId === 'mount.docker-socket')?.properties).toMatchObject({
      cis: '5.32',
      target: t.name('socket'),
    })

    const junit = await runIr(['audit', ...names, '--format', 'junit'], {env})
    expect(junit.exitCode, junit.stderr).toBe(0)
    expect(XMLValidator.validate(junit.stdout)).toBe(true)
    const {validateXML} = require('xmllint-wasm') as {
      validateXML(o: {
        xml: Array<{fileName: string; contents: string}>
        schema: string[]
      }): Promise<{valid: boolean; errors: Array<{rawMessage: string}>}>
    }
    const verdict = await validateXML({
      xml: [{fileName: 'audit.xml', contents: junit.stdout}],
      schema: [await readFile(new URL('../fixtures/junit-4.xsd', import.meta.url), 'utf8')],
    })
    expect(verdict.errors.map((e) => e.rawMessage)).toEqual([])
    const x = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (n) => n === 'testsuite' || n === 'testcase',
    }).parse(junit.stdout) as {
      testsuites: {
        testsuite: Array<{name: string; failures: string; testcase: Array<{name: string; failure?: unknown}>}>
      }
    }
    expect(x.testsuites.testsuite.map((s) => s.name).sort()).toEqual([...names].sort())
    expect(Number(x.testsuites.testsuite.find((s) => s.name === t.name('hardened'))!.failures)).toBe(0)
    expect(
      x.testsuites.testsuite
        .find((s) => s.name === t.name('caps'))!
        .testcase.some((c) => c.name.startsWith('CIS 5.4 ') && c.failure),
    ).toBe(true)

    const ok = await runIr(['audit', t.name('hardened'), '--fail-on', 'low'], {env})
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0)
  })

  it('human view: findings grouped by severity, each with id, CIS id, container and fix; --level 1, --only and --exclude', async () => {
    const r = await runIr(['audit', t.name('caps'), t.name('bridge'), t.name('stopped')], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const lines = r.stdout.split('\n')
    const heads = lines.filter((l) => /^(CRITICAL|HIGH|MEDIUM|LOW|INFO) \(\d+\)$/.test(l)).map((l) => l.split(' ')[0])
    expect(heads).toEqual(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'].filter((h) => heads.includes(h)))
    expect(heads).toEqual(expect.arrayContaining(['CRITICAL', 'HIGH', 'LOW']))
    expect(r.stdout).toMatch(
      new RegExp(`caps\\.dangerous\\s+CIS 5\\.4 L1\\s+${t.name('caps')}: adds the dangerous capability SYS_ADMIN`),
    )
    expect(r.stdout).toMatch(/fix \(docker run\): drop --cap-add SYS_ADMIN/)
    expect(r.stdout).toMatch(new RegExp(`network\\.default-bridge\\s+CIS 5\\.30 L2\\s+${t.name('bridge')}`))
    expect(r.stdout).toContain(`${t.name('stopped')} [stopped]`)

    const l1 = await runIr(['audit', t.name('bridge'), '--level', '1', '--json'], {env})
    expect(JSON.parse(l1.stdout).containers[0].findings.map((f: JsonFinding) => f.cis)).not.toContain('5.30')
    const only = await runIr(
      ['audit', ...made.slice(0, 12).map((m) => m.name), '--only', '5.8,5.18', '--exclude', '*-device', '--json'],
      {env},
    )
    const res = JSON.parse(only.stdout) as {containers: JsonContainer[]; excluded: string[]}
    expect(res.excluded).toEqual([t.name('device')])
    const all = res.containers.flatMap((c) => c.findings.map((f) => `${c.name}:${f.cis}`))
    expect(all).toEqual([`${t.name('mounts-ports')}:5.8`])
    const bad = await runIr(['audit', '--all', '--level', '3'], {env})
    expect(bad.exitCode).toBe(2)
  })

  it('with --case: a quarantined container is marked, and the report lists each finding with its CIS id', async () => {
    const CASE = `CASE-CIS-${t.runId}`
    const victim = await create({what: 'victim', cis: []})
    const iso = await runIr(['isolate', '--case', CASE, victim.name, '--yes'], {env})
    expect(iso.exitCode, iso.stderr).toBe(0)
    const r = await runIr(['audit', victim.name, t.name('caps'), '--case', CASE, '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout) as {containers: Array<JsonContainer & {quarantined?: {caseId?: string}}>}
    expect(res.containers.find((c) => c.name === victim.name)!.quarantined).toMatchObject({caseId: CASE})
    expect(res.containers.find((c) => c.name === t.name('caps'))!.quarantined).toBeUndefined()
    // without --case, the isolating case is found in the incidents folder
    const plain = await runIr(['audit', victim.name, '--json'], {env})
    expect(JSON.parse(plain.stdout).containers[0].quarantined).toMatchObject({caseId: CASE})
    const out = await tempDir('ir-cis-report-')
    const rep = await runIr(['report', '--case', CASE, '--format', 'md', '--output', out, '--no-input'], {env})
    expect(rep.exitCode, rep.stdout + rep.stderr).toBe(0)
    const md = await readFile(join(out, `${CASE}-report.md`), 'utf8')
    expect(md).toContain('| Container | Check | CIS | Severity | Finding |')
    // Markdown cells escape dots: 5\.4
    expect(md).toMatch(
      new RegExp(`\\| ${t.name('caps')} \\| caps\\.dangerous \\| 5\\\\?\\.4 \\(L1\\) \\| critical \\|`),
    )
    await runIr(['release', '--case', CASE, victim.name, '--yes'], {env})
  })
})
