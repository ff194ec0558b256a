import {createHash} from 'node:crypto'
import {readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import type Docker from 'dockerode'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {connectEngine} from '../../src/docker/dockerode-engine.js'
import {auditContainers} from '../../src/services/audit.js'
import {silentLogger} from '../../src/util/logger.js'
import {runIr, tempDir} from '../helpers/cli.js'
import {TEST_IMAGE, TestDocker} from '../helpers/docker.js'

const t = new TestDocker('aud')
const CASE = `CASE-AUD-${t.runId}`
const PROJECT = `irtaud${t.runId}`
let incidents: string
let env: Record<string, string>
/** Root, privileged, a (fake, empty) docker.sock mounted, no limits, a port on 0.0.0.0. */
let weak: {id: string; name: string; started: boolean}
/** The same without --privileged, so it surely runs (some sandboxes refuse privileged containers). */
let weakRunning: {id: string; name: string}
let hardened: {id: string; name: string}

interface JsonFinding {
  id: string
  severity: string
  message: string
  hint: {compose: string; run: string}
}
interface JsonContainer {
  id: string
  name: string
  image: string
  pid1: {method: string; uid?: number; source?: string}
  findings: JsonFinding[]
  counts: Record<string, number>
  score: number
  pass: boolean
}

async function createWeak(
  what: string,
  privileged: boolean,
  sock: string,
): Promise<{id: string; name: string; started: boolean}> {
  const name = t.name(what)
  const c = await t.docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ['sleep', '3600'],
    Labels: t.labels,
    ExposedPorts: {'8080/tcp': {}},
    HostConfig: {
      Privileged: privileged,
      Binds: [`${sock}:/var/run/docker.sock`],
      PortBindings: {'8080/tcp': [{HostIp: '0.0.0.0', HostPort: ''}]},
    },
  })
  const started = await c.start().then(
    () => true,
    () => false,
  )
  return {id: c.id, name, started}
}

function byName(containers: JsonContainer[], name: string): JsonContainer {
  const c = containers.find((x) => x.name === name)
  if (!c) throw new Error(`${name} not in the audit result: ${containers.map((x) => x.name).join(', ')}`)
  return c
}

const HARDENED: Docker.HostConfig = {
  CapDrop: ['ALL'],
  ReadonlyRootfs: true,
  SecurityOpt: ['no-new-privileges:true'],
  Memory: 64 * 1024 * 1024,
  NanoCpus: 500_000_000,
  PidsLimit: 64,
  RestartPolicy: {Name: 'on-failure', MaximumRetryCount: 3},
  LogConfig: {Type: 'json-file', Config: {'max-size': '1m', 'max-file': '2'}},
}

beforeAll(async () => {
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  const sockDir = await tempDir('ir-sock-')
  const sock = join(sockDir, 'docker.sock')
  await writeFile(sock, '') // an empty file named docker.sock: never the real socket
  weak = await createWeak('weak', true, sock)
  const wr = await createWeak('weak-running', false, sock)
  if (!wr.started) throw new Error('the unprivileged weak container did not start')
  weakRunning = wr
  // CIS 5.27/4.6 want a health check, 5.30 a user-defined network: the hardened baseline has both (the probe runs only after an hour).
  const net = await t.network('net')
  hardened = await t.run('hardened', {
    cmd: ['sleep', '3600'],
    user: 'developer',
    hostConfig: HARDENED,
    network: net.name,
    healthcheck: {Test: ['CMD', 'true'], Interval: 3_600_000_000_000},
  })
})

afterAll(async () => {
  await t.cleanup()
})

describe('ir audit against the real engine', () => {
  it('reports every weakness of a weak container and exits 9 with --fail-on high', async () => {
    const r = await runIr(['audit', weak.name, weakRunning.name, '--fail-on', 'high', '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(9)
    const result = JSON.parse(r.stdout) as {containers: JsonContainer[]; totals: Record<string, number>}

    for (const c of [byName(result.containers, weak.name), byName(result.containers, weakRunning.name)]) {
      const ids = c.findings.map((f) => f.id)
      expect(ids).toEqual(
        expect.arrayContaining([
          'user.root',
          'mount.docker-socket',
          'caps.not-dropped',
          'no-new-privileges',
          'rootfs.writable',
          'limits.memory',
          'limits.cpu',
          'limits.pids',
          'restart.none',
          'ports.exposed',
          'logging.rotation',
          'image.root-default',
        ]),
      )
      expect(c.findings.find((f) => f.id === 'mount.docker-socket')).toMatchObject({
        severity: 'critical',
        message: expect.stringContaining('/var/run/docker.sock'),
      })
      expect(c.findings.find((f) => f.id === 'ports.exposed')?.message).toMatch(/8080\/tcp -> 0\.0\.0\.0:/)
      expect(c.findings.find((f) => f.id === 'user.root')).toMatchObject({
        severity: 'high',
        hint: {run: '--user 1000:1000'},
      })
      expect(c.findings[0]!.severity).toBe('critical')
      expect(c.pass).toBe(false)
    }

    const priv = byName(result.containers, weak.name)
    expect(priv.findings.find((f) => f.id === 'privileged')).toMatchObject({severity: 'critical'})
    // Where the sandbox refuses privileged containers it stays created: there is no PID 1 to read.
    expect(priv.findings.map((f) => f.id)).toContain(weak.started ? 'pid1.root' : 'pid1.unknown')

    const running = byName(result.containers, weakRunning.name)
    expect(running.pid1).toMatchObject({method: 'proc', uid: 0})
    expect(running.findings.find((f) => f.id === 'pid1.root')).toMatchObject({
      severity: 'high',
      message: expect.stringContaining('/proc/'),
    })
    expect(result.totals.critical).toBeGreaterThanOrEqual(3)
  })

  it('renders a table block per container, findings most severe first, with fixes', async () => {
    const r = await runIr(['audit', weakRunning.name], {env})
    expect(r.exitCode, r.stderr).toBe(0) // no --fail-on: findings alone do not fail
    const lines = r.stdout.split('\n')
    expect(lines[0]).toContain('CIS Docker Benchmark 1.6.0')
    const at = lines.findIndex((l) => l.startsWith(`  ${weakRunning.name} (`))
    expect(at, r.stdout).toBeGreaterThan(0)
    expect(lines[at + 1]).toMatch(/PID 1: uid 0 \(root\), read from \/proc\/\d+\/status/)
    const severities = lines.map((l) => /^(CRITICAL|HIGH|MEDIUM|LOW|INFO) \(\d+\)$/.exec(l)?.[1]).filter(Boolean)
    expect(severities.length).toBeGreaterThanOrEqual(3)
    expect(r.stdout).toMatch(
      new RegExp(`mount\\.docker-socket\\s+CIS 5\\.32 L1\\s+${weakRunning.name}: mounts the engine socket`),
    )
    const order = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO']
    expect(severities.map((s) => order.indexOf(s!))).toEqual(
      [...severities.map((s) => order.indexOf(s!))].sort((a, b) => a - b),
    )
    expect(r.stdout).toContain('fix (docker run): --cap-drop ALL')
    expect(r.stdout).toContain('fix (compose):    read_only: true')
    expect(r.stdout).not.toContain('PASS')
  })

  it('passes a hardened container with --fail-on high, reading PID 1 as uid 1000', async () => {
    const r = await runIr(['audit', hardened.name, '--fail-on', 'high', '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const c = byName(JSON.parse(r.stdout).containers, hardened.name)
    expect(c.pid1).toMatchObject({method: 'proc', uid: 1000, source: expect.stringMatching(/^\/proc\/\d+\/status$/)})
    expect(c.findings.filter((f) => f.severity !== 'info')).toEqual([])
    expect(c.pass).toBe(true)
    expect(c.score).toBe(100)

    const table = await runIr(['audit', hardened.name, '--fail-on', 'low'], {env})
    expect(table.exitCode, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/PID 1: uid 1000, read from \/proc\/\d+\/status/)
    expect(table.stdout).toContain('PASS: no findings at or above low')
  })

  it("reads PID 1 through docker top when /proc is not the engine host's", async () => {
    const engine = await connectEngine(silentLogger)
    const r = await auditContainers({engine, targets: [hardened.id, weakRunning.id], procRoot: '/nonexistent-proc'})
    const [h, w] = r.containers
    // Podman's own descriptors: its compat top would run ps inside the container for `-o` (src/services/audit/pid1.ts).
    const how = process.env.IR_ENGINE === 'podman5' ? 'podman top (descriptors pid,uid,user' : 'ps -o pid,uid,user'
    expect(h!.pid1).toMatchObject({method: 'top', uid: 1000, source: expect.stringContaining(how)})
    expect(w!.pid1).toMatchObject({method: 'top', uid: 0})
    expect(w!.findings.map((f) => f.id)).toContain('pid1.root')
  })

  it('writes nothing without --case', async () => {
    const empty = await tempDir('ir-noc-')
    const r = await runIr(['audit', weakRunning.name, hardened.name], {env: {IR_INCIDENTS_DIR: empty}})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(await readdir(empty)).toEqual([])
  })

  it('with --case stores the result as evidence in the manifest and an audit entry, and the case verifies', async () => {
    const r = await runIr(['audit', weakRunning.name, hardened.name, '--case', CASE, '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as {caseId: string; evidence: string; containers: JsonContainer[]}
    expect(result.caseId).toBe(CASE)
    const caseDir = join(incidents, CASE)
    const bytes = await readFile(join(caseDir, result.evidence))
    const manifest = JSON.parse(await readFile(join(caseDir, 'manifest.json'), 'utf8'))
    const artifact = manifest.artifacts.find((a: {path: string}) => a.path === result.evidence)
    expect(artifact).toMatchObject({
      type: 'hardening-audit',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    })
    const stored = JSON.parse(bytes.toString('utf8'))
    expect(stored.containers.map((c: JsonContainer) => c.name)).toEqual([weakRunning.name, hardened.name])

    const audit = (await readFile(join(caseDir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const entry = audit.find((l) => l.action === 'audit.hardening')
    expect(entry.details.containers).toHaveLength(2)
    expect(entry.details.containers[0]).toMatchObject({id: weakRunning.id, name: weakRunning.name})
    expect(entry.details.containers[0].findings).toContainEqual({
      check: 'mount.docker-socket',
      cis: '5.32',
      level: 1,
      severity: 'critical',
      message: expect.stringContaining('docker.sock'),
    })
    expect(entry.details.containers[1].findings.every((f: {severity: string}) => f.severity === 'info')).toBe(true)

    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout + v.stderr).toBe(0)
    expect(v.stdout).toContain('intact')
  })

  it('names an unknown container, still audits the others, and exits 4', async () => {
    const r = await runIr(['audit', hardened.name, 'no-such-container-xyz', '--json'], {env})
    expect(r.exitCode).toBe(4)
    const result = JSON.parse(r.stdout)
    expect(result.failed).toEqual([expect.objectContaining({ref: 'no-such-container-xyz'})])
    expect(result.containers.map((c: JsonContainer) => c.name)).toEqual([hardened.name])
    const plain = await runIr(['audit', hardened.name, 'no-such-container-xyz'], {env})
    expect(plain.exitCode).toBe(4)
    expect(plain.stdout).toContain('no-such-container-xyz')
    expect(plain.stdout).toContain(hardened.name)
  })

  it('audits every container of a compose project by its label', async () => {
    const labels = {'com.docker.compose.project': PROJECT}
    const a = await t.run('proj-a', {cmd: ['sleep', '3600'], labels})
    const b = await t.run('proj-b', {cmd: ['sleep', '3600'], labels, user: 'developer', hostConfig: HARDENED})
    const r = await runIr(['audit', '--project', PROJECT, '--json', '--fail-on', 'critical'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const names = (JSON.parse(r.stdout).containers as JsonContainer[]).map((c) => c.name)
    expect(names.sort()).toEqual([a.name, b.name].sort())
    const missing = await runIr(['audit', '--project', `${PROJECT}-none`], {env})
    expect(missing.exitCode).toBe(4)
    expect(missing.stdout + missing.stderr).toContain(`${PROJECT}-none`)
  })
})
