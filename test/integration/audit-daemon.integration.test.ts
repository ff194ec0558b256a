import {createHash} from 'node:crypto'
import {chmod, readFile, stat} from 'node:fs/promises'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {connectEngine} from '../../src/docker/dockerode-engine.js'
import {auditContainers} from '../../src/services/audit.js'
import {silentLogger} from '../../src/util/logger.js'
import {runIr, tempDir} from '../helpers/cli.js'
import {canRunExtraEngines, ExtraEngines} from '../helpers/engines.js'

/**
 * `ir audit --daemon` on a dockerd of the test's own, started with a known daemon.json: the daemon
 * settings it turns on pass, the ones it turns off fail, the host files are read and left as they
 * were, and without local access the host checks say so.
 */
const available = await canRunExtraEngines()
if (!available.ok && process.env.CI === 'true')
  throw new Error(`CI=true but extra engines cannot run: ${available.reason}`)

interface JsonFinding {
  id: string
  severity: string
  cis?: string
  kind?: string
  message: string
}

let env: Record<string, string>

describe.skipIf(!available.ok)('ir audit --daemon on a test engine started with a known daemon.json', () => {
  const engines = new ExtraEngines()
  let e: {host: string; config?: string; socket: string}
  /** A second engine, plain, made a swarm manager (live restore, on the first, is incompatible with swarm mode). */
  let m: {host: string; config?: string; socket: string}

  beforeAll(async () => {
    env = {IR_INCIDENTS_DIR: await tempDir()}
    // On: live restore, no-new-privileges, no userland proxy. Off: experimental, an insecure registry,
    // icc left on (dockerd refuses icc=false with iptables off); and on its command line --iptables=false
    // and --log-level warn (set by the helper).
    ;[e, m] = (await engines.start(2, {
      daemonJson: {
        1: {
          'live-restore': true,
          'no-new-privileges': true,
          'userland-proxy': false,
          experimental: true,
          'insecure-registries': ['10.99.0.0/16'],
          'default-ulimits': {nofile: {Name: 'nofile', Soft: 1024, Hard: 2048}},
        },
      },
    })) as unknown as [typeof e, typeof m]
    await chmod(e.config!, 0o664) // group-writable: CIS 3.18 must fail
  }, 120_000)

  afterAll(async () => {
    await engines.cleanup()
  }, 120_000)

  it('reads /info, daemon.json and the dockerd command line; settings on pass, settings off fail; the files are untouched', async () => {
    const hash = async (p: string): Promise<{sha: string; mtime: number; ctime: number; mode: number}> => {
      const s = await stat(p)
      return {
        sha: createHash('sha256')
          .update(await readFile(p))
          .digest('hex'),
        mtime: s.mtimeMs,
        ctime: s.ctimeMs,
        mode: s.mode,
      }
    }
    const before = await hash(e.config!)
    const sockBefore = await stat(e.socket)
    const since = Math.floor(Date.now() / 1000) - 1
    const r = await runIr(['audit', '--daemon', '--json'], {env: {...env, DOCKER_HOST: e.host}})
    expect(r.exitCode, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout) as {
      engine: {
        local: boolean
        dockerd: {configFile: string; configExists: boolean}
        findings: JsonFinding[]
        passed: string[]
      }
    }
    expect(res.engine.local).toBe(true)
    expect(res.engine.dockerd).toMatchObject({configFile: e.config, configExists: true})
    expect(res.engine.passed).toEqual(expect.arrayContaining(['2.14', '2.15', '2.16', '3.17']))
    const failed = Object.fromEntries(
      res.engine.findings.filter((f) => f.kind === 'fail').map((f) => [f.cis, f.message]),
    )
    expect(Object.keys(failed)).toEqual(expect.arrayContaining(['2.2', '2.3', '2.4', '2.5', '2.18', '3.18']))
    for (const on of ['2.14', '2.15', '2.16']) expect(failed[on], on).toBeUndefined()
    expect(res.engine.findings.find((f) => f.cis === '2.8')).toMatchObject({
      kind: 'manual',
      message: expect.stringContaining('nofile'),
    })
    expect(failed['2.3']).toMatch(/"warn" \(dockerd command line\)/)
    expect(failed['2.4']).toContain('dockerd command line')
    expect(failed['2.5']).toContain('10.99.0.0/16')
    expect(failed['3.18']).toContain('0664')
    for (const f of res.engine.findings)
      expect(f).toMatchObject({id: `cis-${f.cis}`, benchmark: 'CIS Docker Benchmark 1.6.0'})
    expect(await hash(e.config!)).toEqual(before)
    expect((await stat(e.socket)).mtimeMs).toBe(sockBefore.mtimeMs)
    await new Promise((res) => setTimeout(res, 1100))
    const ev = await execa(
      'docker',
      [
        'events',
        '--since',
        String(since),
        '--until',
        String(Math.floor(Date.now() / 1000)),
        '--format',
        '{{.Type}} {{.Action}}',
      ],
      {env: {...process.env, DOCKER_HOST: e.host}},
    )
    expect(ev.stdout.trim()).toBe('')
  })

  it('without local access (another /proc), host checks say so instead of guessing', async () => {
    const engine = await connectEngine(silentLogger, {DOCKER_HOST: e.host})
    const r = await auditContainers({engine, daemon: true, procRoot: '/nonexistent-proc'})
    const by = Object.fromEntries(r.engine!.findings.map((f) => [f.cis, f.kind]))
    for (const cis of ['2.3', '2.4', '2.14', '2.16', '3.17', '3.18']) expect(by[cis], cis).toBe('needs-local-access')
    expect(by['2.5']).toBe('fail') // still decided from /info
    expect(by['2.2']).toBe('fail') // icc, from the default bridge's options
    expect(r.engine!.passed).toContain('2.15') // live restore, from /info
    expect(r.engine!.local).toBe(false)
  })

  it('on a swarm manager: 5.1 and section 7 from /info, /swarm, the networks and the manager port listener', async () => {
    const d = engines.docker(m as never)
    const port = 21_000 + Math.floor(Math.random() * 8000)
    // Listening on every interface (7.2 fails), no auto-lock (7.5 fails), an overlay network without encryption (7.3 fails).
    await d.swarmInit({
      ListenAddr: `0.0.0.0:${port}`,
      AdvertiseAddr: `127.0.0.1:${port}`,
      DataPathPort: port + 1,
    })
    await d.createNetwork({Name: 'ir-cis-plain', Driver: 'overlay', Attachable: true})
    await d.createNetwork({Name: 'ir-cis-sealed', Driver: 'overlay', Attachable: true, Options: {encrypted: ''}})
    const audit = async (): Promise<Record<string, {kind?: string; message: string}>> => {
      const r = await runIr(['audit', '--daemon', '--only', '5.1,7', '--json'], {env: {...env, DOCKER_HOST: m.host}})
      expect(r.exitCode, r.stderr).toBe(0)
      const res = JSON.parse(r.stdout) as {engine: {findings: JsonFinding[]; passed: string[]}}
      return Object.fromEntries([
        ...res.engine.findings.map((f) => [f.cis!, {kind: f.kind, message: f.message}]),
        ...res.engine.passed.map((p) => [p, {kind: 'pass', message: ''}]),
      ])
    }
    const first = await audit()
    expect(first['5.1']!.kind).toBe('fail')
    expect(first['7.1']!.kind).toBe('pass') // one manager
    expect(first['7.2']).toMatchObject({kind: 'fail', message: expect.stringContaining(String(port))})
    expect(first['7.3']!.kind).toBe('fail')
    expect(first['7.3']!.message).toContain('ir-cis-plain')
    expect(first['7.3']!.message).not.toContain('ir-cis-sealed')
    expect(first['7.5']!.kind).toBe('fail')
    for (const manual of ['7.4', '7.6', '7.7', '7.8', '7.9']) expect(first[manual]!.kind, manual).toBe('manual')
    expect(first['7.7']!.message).toMatch(/expire after \d+ h/)
    // Turn auto-lock on: 7.5 passes.
    await d.getNetwork('ir-cis-plain').remove()
    await execa('docker', ['-H', m.host, 'swarm', 'update', '--autolock=true'], {
      env: {...process.env, DOCKER_CONTEXT: ''},
      stdin: 'ignore',
    })
    const second = await audit()
    expect(second['7.5']!.kind).toBe('pass')
  })
})
