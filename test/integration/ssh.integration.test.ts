import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ROOT, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'
import {
  installKey,
  processesMentioning,
  runAsHome,
  runIrAsHome,
  sshAvailable,
  startSshd,
  type TestSshd,
  throwawayHome,
} from '../helpers/sshd.js'

/**
 * ssh:// engines the way a new user reaches them: a real sshd on a loopback port in front of the
 * test engine, a throwaway home (OpenSSH reads ~/.ssh from passwd), and the docker CLI beside ir as
 * the reference. Each way of logging in runs the whole flow: isolate, snapshot, collect, release, verify.
 */

const t = new TestDocker('ssh')
const avail = await sshAvailable()
const required = process.env.CI === 'true'
let sshd: TestSshd
let incidents: string
let agent: ChildProcess | undefined

type Home = Awaited<ReturnType<typeof throwawayHome>>

/** No Node warning of any kind (DeprecationWarning, ExperimentalWarning, MaxListeners...), no ir warning. */
function expectNoWarnings(stderr: string): void {
  expect(stderr).not.toMatch(/\(node:\d+\)|DeprecationWarning|ExperimentalWarning|Warning:/)
}

async function expectNoSshLeft(h: Home): Promise<void> {
  // The shared connection ends with ir (SIGTERM at exit); give it a moment to go.
  for (let i = 0; i < 20 && (await processesMentioning(h.tmp)).length > 0; i++)
    await new Promise((r) => setTimeout(r, 100))
  expect(await processesMentioning(h.tmp)).toEqual([])
}

/** isolate, snapshot, collect, release against one ssh engine; then the case verifies. */
async function wholeFlow(
  h: Home,
  what: string,
  via: {args: string[]; env?: Record<string, string>; before?: () => Promise<void>}[],
): Promise<void> {
  const victim = await t.run(what, {cmd: ['sh', '-c', `echo ${what}-${t.runId} > /tmp/mark; exec sleep 3600`]})
  const CASE = `CASE-SSH-${what}-${t.runId}`.toUpperCase()
  const step = (i: number): {args: string[]; env: Record<string, string>} => {
    const v = via[Math.min(i, via.length - 1)]!
    return {args: v.args, env: {IR_INCIDENTS_DIR: incidents, ...v.env}}
  }
  const stderrs: string[] = []
  const ir = async (i: number, args: string[]): Promise<Record<string, unknown>> => {
    await via[i]?.before?.()
    const s = step(i)
    const before = sshd.logins()
    const r = await runIrAsHome(h, [...args, ...s.args, '--case', CASE, '--json'], s.env)
    expect(r.exitCode, `${args.join(' ')} ${s.args.join(' ')}: ${r.stderr}`).toBe(0)
    // Through sshd, not the local socket, and over one login for the whole run (every engine call shares it).
    await new Promise((r) => setTimeout(r, 100))
    expect(sshd.logins() - before, `${args[0]} logged in once`).toBe(1)
    stderrs.push(r.stderr)
    return JSON.parse(r.stdout) as Record<string, unknown>
  }

  await ir(0, ['isolate', victim.name, '--yes'])
  const afterIsolate = await t.inspect(victim.id)
  expect(afterIsolate.State.Paused).toBe(true)
  expect(Object.keys(afterIsolate.NetworkSettings.Networks)).toEqual([])

  const snap = (await ir(1, ['snapshot', victim.name, '--yes'])) as {
    containers: {status: string; image: {id: string}}[]
  }
  expect(snap.containers[0]!.status).toBe('snapshotted')
  t.trackImage(snap.containers[0]!.image.id)
  const img = await t.docker.getImage(snap.containers[0]!.image.id).inspect()
  expect(img.Config.Labels).toMatchObject({'ir.evidence': 'true', 'ir.case': CASE, 'ir.source.container': victim.id})

  await ir(2, ['collect', victim.name])
  await ir(3, ['release', victim.name, '--yes'])
  const afterRelease = await t.inspect(victim.id)
  expect(afterRelease.State.Paused).toBe(false)
  expect(Object.keys(afterRelease.NetworkSettings.Networks)).toEqual(['bridge'])

  // The chain of custody holds: every evidence hash and the audit chain (verified locally, no engine).
  const v = await runIr(['case', 'verify', CASE], {env: {IR_INCIDENTS_DIR: incidents}})
  expect(v.exitCode, v.stdout + v.stderr).toBe(0)
  for (const s of stderrs) expectNoWarnings(s)
  await expectNoSshLeft(h)
}

beforeAll(async () => {
  if (!avail.ok) return
  sshd = await startSshd()
  incidents = await tempDir('ir-ssh-cases-')
})

afterAll(async () => {
  agent?.kill('SIGTERM')
  await t.cleanup()
  await sshd?.stop()
})

describe.skipIf(!avail.ok && !required)('ssh:// engines through the system ssh (local sshd on a loopback port)', () => {
  it('sshd and the engine behind it are usable here', () => {
    expect(avail, avail.reason).toEqual({ok: true})
  })

  it('an ~/.ssh/config alias (HostName, Port, User, IdentityFile), no agent: the docker CLI and ir both reach the engine', async () => {
    const h = await throwawayHome()
    await installKey(sshd.clientKey, join(h.ssh, 'ir_test_key'))
    await writeFile(join(h.ssh, 'known_hosts'), `${sshd.knownHostsLine}\n`)
    await writeFile(
      join(h.ssh, 'config'),
      `Host irlocal\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ~/.ssh/ir_test_key\n  IdentitiesOnly yes\n`,
      {mode: 0o600},
    )
    const cli = await runAsHome(h, 'docker', ['-H', 'ssh://irlocal', 'info', '--format', '{{.ID}}'])
    expect(cli.exitCode, cli.stderr).toBe(0)
    const local = (await t.docker.info()) as {ID: string}
    expect(cli.stdout.trim()).toBe(local.ID)
    await wholeFlow(h, 'alias', [{args: ['--host', 'ssh://irlocal']}])
  })

  it('ProxyJump in ~/.ssh/config applies as for the docker CLI: two logins (the jump host, then the engine host)', async () => {
    const h = await throwawayHome()
    await installKey(sshd.clientKey, join(h.ssh, 'id_ed25519'))
    await writeFile(join(h.ssh, 'known_hosts'), `${sshd.knownHostsLine}\n`)
    await writeFile(
      join(h.ssh, 'config'),
      `Host irjump irbehind\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\nHost irbehind\n  ProxyJump irjump\n`,
      {mode: 0o600},
    )
    const before = sshd.logins()
    const r = await runIrAsHome(h, [
      'isolate',
      '--host',
      'ssh://irbehind',
      '--filter',
      'label=none=none',
      '--dry-run',
      '--json',
    ])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).hosts[0]).toMatchObject({endpoint: 'ssh://irbehind', reachable: true})
    await new Promise((res) => setTimeout(res, 100))
    expect(sshd.logins() - before).toBe(2)
    expectNoWarnings(r.stderr)
    await expectNoSshLeft(h)
  })

  it('a key file in ~/.ssh (id_ed25519) and no agent: --host ssh://root@127.0.0.1:PORT', async () => {
    const h = await throwawayHome()
    await installKey(sshd.clientKey, join(h.ssh, 'id_ed25519'))
    await writeFile(join(h.ssh, 'known_hosts'), `${sshd.knownHostsLine}\n`)
    await wholeFlow(h, 'keyfile', [{args: ['--host', `ssh://root@127.0.0.1:${sshd.port}`]}])
  })

  it('an ssh-agent only (no key file anywhere in ~/.ssh)', async () => {
    const h = await throwawayHome()
    await writeFile(join(h.ssh, 'known_hosts'), `${sshd.knownHostsLine}\n`)
    const sock = join(await tempDir('ir-agent-'), 'agent.sock')
    agent = spawn('ssh-agent', ['-D', '-a', sock], {stdio: 'ignore'})
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50))
    const add = await execa('ssh-add', [sshd.clientKey], {env: {SSH_AUTH_SOCK: sock}, reject: false})
    expect(add.exitCode, add.stderr).toBe(0)
    // Without the agent there is no way in: the agent is what logs in.
    const without = await runIrAsHome(h, [
      'isolate',
      '--host',
      `ssh://root@127.0.0.1:${sshd.port}`,
      '--filter',
      'label=none=none',
      '--dry-run',
    ])
    expect(without.exitCode).toBe(3)
    expect(without.stderr).toMatch(/ssh authentication failed/)
    await wholeFlow(h, 'agent', [{args: ['--host', `ssh://root@127.0.0.1:${sshd.port}`], env: {SSH_AUTH_SOCK: sock}}])
    agent.kill('SIGTERM')
    agent = undefined
  })

  it('a docker context whose endpoint is ssh://alias: --context, DOCKER_CONTEXT and the current context', async () => {
    const h = await throwawayHome()
    await installKey(sshd.clientKey, join(h.ssh, 'ir_test_key'))
    await writeFile(join(h.ssh, 'known_hosts'), `${sshd.knownHostsLine}\n`)
    await writeFile(
      join(h.ssh, 'config'),
      `Host irlocal\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ~/.ssh/ir_test_key\n`,
      {mode: 0o600},
    )
    const made = await runAsHome(h, 'docker', ['context', 'create', 'irctx', '--docker', 'host=ssh://irlocal'])
    expect(made.exitCode, made.stderr).toBe(0)
    // Steps 0-1 by --context and DOCKER_CONTEXT; then `docker context use` makes it current for steps 2-3 (no flag at all).
    const use = async (): Promise<void> => {
      const u = await runAsHome(h, 'docker', ['context', 'use', 'irctx'])
      expect(u.exitCode, u.stderr).toBe(0)
    }
    await wholeFlow(h, 'context', [
      {args: ['--context', 'irctx']},
      {args: [], env: {DOCKER_CONTEXT: 'irctx'}},
      {args: [], before: use},
    ])
    const show = await runIrAsHome(h, ['isolate', '--filter', 'label=none=none', '--dry-run', '--json'])
    expect(show.exitCode, show.stderr).toBe(0)
    expect(JSON.parse(show.stdout).hosts[0].endpoint).toBe('ssh://irlocal')
  })

  it('more engine calls at once than one connection carries (sshd MaxSessions 10): 12 held streams and 20 calls, over a second login', async () => {
    const h = await throwawayHome()
    await installKey(sshd.clientKey, join(h.ssh, 'id_ed25519'))
    await writeFile(join(h.ssh, 'known_hosts'), `${sshd.knownHostsLine}\n`)
    // The engine layer itself (built), as the services use it: 12 event streams stay open, each holding a
    // session, and 20 calls go at once beside them. A pool capped at one connection would wait forever.
    const script = [
      `import {DockerodeEngine} from ${JSON.stringify(join(ROOT, 'dist/docker/dockerode-engine.js'))}`,
      `import {parseDockerHost} from ${JSON.stringify(join(ROOT, 'dist/docker/engine-config.js'))}`,
      `import {silentLogger} from ${JSON.stringify(join(ROOT, 'dist/util/logger.js'))}`,
      'const e = new DockerodeEngine(parseDockerHost(process.argv[1]), silentLogger)',
      'await e.ping()',
      'const now = Math.floor(Date.now() / 1000)',
      'const streams = await Promise.all(Array.from({length: 12}, () => e.events({since: now, until: now + 600})))',
      'const infos = await Promise.all(Array.from({length: 20}, () => e.info()))',
      'console.log(JSON.stringify({streams: streams.length, infos: infos.filter((i) => i.id).length, logins: e.ssh.logins}))',
      'for (const s of streams) s.destroy()',
    ].join('\n')
    const before = sshd.logins()
    const r = await runAsHome(
      h,
      process.execPath,
      ['--input-type=module', '-e', script, `ssh://root@127.0.0.1:${sshd.port}`],
      {},
      60_000,
    )
    expect(r.exitCode, r.stderr).toBe(0)
    expectNoWarnings(r.stderr)
    const out = JSON.parse(r.stdout) as {streams: number; infos: number; logins: number}
    expect(out).toMatchObject({streams: 12, infos: 20})
    // 8 sessions per connection: 12 streams and the calls beside them need 2 or 3 logins, never one per call.
    expect(out.logins).toBeGreaterThanOrEqual(2)
    expect(out.logins).toBeLessThanOrEqual(5)
    await new Promise((res) => setTimeout(res, 100))
    expect(sshd.logins() - before).toBe(out.logins)
    await expectNoSshLeft(h)
  })

  it('a changed host key is refused: exit 3, one line naming the host and why, nothing touched', async () => {
    const h = await throwawayHome()
    await installKey(sshd.clientKey, join(h.ssh, 'id_ed25519'))
    const victim = await t.run('hostkey', {cmd: ['sleep', '3600']})
    const other = await tempDir('ir-otherkey-')
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(other, 'k')])
    const [type, key] = (await execa('cat', [join(other, 'k.pub')])).stdout.split(' ')
    await writeFile(join(h.ssh, 'known_hosts'), `[127.0.0.1]:${sshd.port} ${type} ${key}\n`)
    const r = await runIrAsHome(h, ['isolate', victim.name, '--host', `ssh://root@127.0.0.1:${sshd.port}`, '--yes'], {
      IR_INCIDENTS_DIR: incidents,
    })
    expect(r.exitCode).toBe(3)
    const lines = r.stderr.trim().split('\n')
    expect(lines[0]).toBe(
      `Error: ssh://root@127.0.0.1:${sshd.port}: host key of [127.0.0.1]:${sshd.port} has CHANGED (it is not the one in known_hosts): refused`,
    )
    expect(lines.slice(1).every((l) => l.startsWith('Hint: '))).toBe(true)
    expectNoWarnings(r.stderr)
    expect((await t.inspect(victim.id)).State.Paused).toBe(false)
    // known_hosts was not rewritten with the server's key.
    expect((await execa('cat', [join(h.ssh, 'known_hosts')])).stdout).toContain(key!)

    // Unknown (no known_hosts at all): refused too, never accepted silently; the docker CLI is refused as well.
    await rm(join(h.ssh, 'known_hosts'))
    const u = await runIrAsHome(
      h,
      ['isolate', victim.name, '--host', `ssh://root@127.0.0.1:${sshd.port}`, '--yes', '--json'],
      {IR_INCIDENTS_DIR: incidents},
    )
    expect(u.exitCode).toBe(3)
    expect(JSON.parse(u.stdout).error).toMatchObject({
      code: 'ENGINE_UNREACHABLE',
      exitCode: 3,
      message: `ssh://root@127.0.0.1:${sshd.port}: host key of [127.0.0.1]:${sshd.port} is unknown (not in known_hosts): refused`,
    })
    expect(existsSync(join(h.ssh, 'known_hosts'))).toBe(false)
    await expectNoSshLeft(h)
  })

  it('killed while logging in (SIGTERM), ir takes its ssh with it: no process, no control socket left', async () => {
    const h = await throwawayHome()
    // A server that accepts and never says a word: the login hangs until ssh's or ir's timeout.
    const silent = createServer(() => undefined)
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
    const port = (silent.address() as {port: number}).port
    const run = runIrAsHome(h, [
      'isolate',
      '--host',
      `ssh://root@127.0.0.1:${port}`,
      '--filter',
      'label=none=none',
      '--dry-run',
    ])
    let seen: string[] = []
    for (let i = 0; i < 100 && seen.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50))
      seen = (await processesMentioning(h.tmp)).filter((p) => p.includes('ControlMaster=yes'))
    }
    expect(seen, 'the ssh login started').toHaveLength(1)
    // ir is the parent of its ssh (field 4 of /proc/<pid>/stat).
    const stat = await readFile(`/proc/${seen[0]!.split(':')[0]}/stat`, 'utf8')
    const ir = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    expect(await readFile(`/proc/${ir}/cmdline`, 'utf8')).toContain('run.js')
    process.kill(ir, 'SIGTERM')
    const r = await run
    expect(r.exitCode).not.toBe(0)
    await expectNoSshLeft(h)
    expect((await readdir(h.tmp)).filter((f) => f.startsWith('ir-ssh-'))).toEqual([])
    silent.close()
  })

  it('logged in, but no docker on the remote side, or no engine behind it: one line saying so', async () => {
    const noDocker = await startSshd({setEnv: {PATH: '/nonexistent'}})
    const noEngine = await startSshd({setEnv: {DOCKER_HOST: 'unix:///nonexistent/docker.sock'}})
    try {
      const h = await throwawayHome()
      await installKey(noDocker.clientKey, join(h.ssh, 'key1'))
      await installKey(noEngine.clientKey, join(h.ssh, 'key2'))
      await writeFile(join(h.ssh, 'known_hosts'), `${noDocker.knownHostsLine}\n${noEngine.knownHostsLine}\n`)
      await writeFile(
        join(h.ssh, 'config'),
        `Host nodocker\n  HostName 127.0.0.1\n  Port ${noDocker.port}\n  User root\n  IdentityFile ~/.ssh/key1\nHost noengine\n  HostName 127.0.0.1\n  Port ${noEngine.port}\n  User root\n  IdentityFile ~/.ssh/key2\n`,
      )
      const a = await runIrAsHome(h, [
        'isolate',
        '--host',
        'ssh://nodocker',
        '--filter',
        'label=none=none',
        '--dry-run',
      ])
      expect(a.exitCode).toBe(3)
      expect(a.stderr.split('\n')[0]).toBe(
        'Error: ssh://nodocker: no docker CLI on the remote host (`docker system dial-stdio` not found)',
      )
      const b = await runIrAsHome(h, [
        'isolate',
        '--host',
        'ssh://noengine',
        '--filter',
        'label=none=none',
        '--dry-run',
      ])
      expect(b.exitCode).toBe(3)
      expect(b.stderr.split('\n')[0]).toMatch(
        /^Error: ssh:\/\/noengine: the remote docker CLI cannot reach its engine: .*nonexistent\/docker\.sock/,
      )
      expectNoWarnings(a.stderr + b.stderr)
      await expectNoSshLeft(h)
    } finally {
      await noDocker.stop()
      await noEngine.stop()
    }
  })

  it('a failed login says which host and why: wrong key, nothing listening', async () => {
    const h = await throwawayHome()
    await writeFile(join(h.ssh, 'known_hosts'), `${sshd.knownHostsLine}\n`)
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(h.ssh, 'id_ed25519')])
    const auth = await runIrAsHome(h, [
      'isolate',
      '--host',
      `ssh://root@127.0.0.1:${sshd.port}`,
      '--filter',
      'label=none=none',
      '--dry-run',
    ])
    expect(auth.exitCode).toBe(3)
    expect(auth.stderr.split('\n')[0]).toBe(
      `Error: ssh://root@127.0.0.1:${sshd.port}: ssh authentication failed (server accepts: publickey)`,
    )
    const refused = await runIrAsHome(h, [
      'isolate',
      '--host',
      'ssh://root@127.0.0.1:1',
      '--filter',
      'label=none=none',
      '--dry-run',
    ])
    expect(refused.exitCode).toBe(3)
    expect(refused.stderr.split('\n')[0]).toBe(
      'Error: ssh://root@127.0.0.1:1: ssh connection refused (no ssh server on that port)',
    )
    expectNoWarnings(auth.stderr + refused.stderr)
  })
})
