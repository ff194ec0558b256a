import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {filesContaining, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'
import {waitFor} from '../helpers/wait.js'

const t = new TestDocker('iso')
let incidents: string
let env: Record<string, string>
let net: {id: string; name: string}
let server: {id: string; name: string}
let client: {id: string; name: string}
const SECRET = `s3cr3t-${t.runId}-value`
const CASE = `CASE-ISO-${t.runId}`

async function serverIp(): Promise<string> {
  const i = await t.inspect(server.id)
  return i.NetworkSettings.Networks[net.name]?.IPAddress ?? ''
}

beforeAll(async () => {
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  net = await t.network('net')
  server = await t.httpServer('web', `hello-${t.runId}`, net.name, ['web'], {
    env: [`DB_PASSWORD=${SECRET}`, 'APP_MODE=prod'],
  })
  client = await t.run('client', {cmd: ['sleep', '3600'], network: net.name})
})

afterAll(async () => {
  await t.cleanup()
})

describe('ir isolate / release against the real engine', () => {
  it('cuts the network and freezes the container, and release restores it with the same alias', async () => {
    const ip = await serverIp()
    const before = await t.fetch(client.name, ip)
    expect(before.ok, before.body).toBe(true)
    expect(before.body).toContain(`hello-${t.runId}`)

    const r = await runIr(['isolate', server.name, '--case', CASE, '--yes', '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.containers[0]).toMatchObject({name: server.name, status: 'isolated', stateAfter: 'paused'})
    expect(result.containers[0].networks).toEqual([
      expect.objectContaining({network: net.name, aliases: ['web'], outcome: 'disconnected'}),
    ])

    const isolated = await t.inspect(server.id)
    expect(isolated.State.Status).toBe('paused')
    expect(Object.keys(isolated.NetworkSettings.Networks)).toEqual([])
    const during = await t.fetch(client.name, ip)
    expect(during.ok).toBe(false)

    const rel = await runIr(['release', server.name, '--case', CASE, '--yes', '--json'], {env})
    expect(rel.exitCode, rel.stderr).toBe(0)
    const released = await t.inspect(server.id)
    expect(released.State.Status).toBe('running')
    expect(released.NetworkSettings.Networks[net.name]?.Aliases).toContain('web')
    // Reachable again. On Podman the server comes back on a new interface and netavark sends no gratuitous ARP:
    // release asks for the recorded MAC address too, or the client's neighbour entry would keep the old one (this
    // test failed on Podman 5.8 until it did). The poll allows for a slow engine, not for a stale cache.
    let after = {ok: false, body: ''}
    await waitFor(async () => (after = await t.fetch(client.name, await serverIp())).ok, {
      timeout: 20_000,
      interval: 1000,
    }).catch(() => undefined) // the expect below says what was seen
    expect(after.ok, after.body).toBe(true)

    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout + v.stderr).toBe(0)
    expect(v.stdout).toContain('intact')
  })

  it('never writes a secret-looking env value into the case folder', async () => {
    expect(await filesContaining(join(incidents, CASE), SECRET)).toEqual([])
    const manifest = JSON.parse(await readFile(join(incidents, CASE, 'manifest.json'), 'utf8'))
    const inspectDoc = await readFile(join(incidents, CASE, manifest.artifacts[0].path), 'utf8')
    expect(inspectDoc).toContain('DB_PASSWORD=[REDACTED]')
    expect(inspectDoc).toContain('APP_MODE=prod')
  })

  it('is idempotent, and keeps the endpoints recorded by the first run', async () => {
    const c = await t.httpServer('idem', 'idem', net.name, ['idem-alias'])
    const first = await runIr(['isolate', c.name, '--case', CASE, '--yes'], {env})
    expect(first.exitCode, first.stderr).toBe(0)
    const second = await runIr(['isolate', c.name, '--case', CASE, '--yes', '--json'], {env})
    expect(second.exitCode, second.stderr).toBe(0)
    expect(JSON.parse(second.stdout).containers[0].status).toBe('already-isolated')
    const rel = await runIr(['release', c.name, '--yes'], {env})
    expect(rel.exitCode, rel.stderr).toBe(0)
    const i = await t.inspect(c.id)
    expect(i.State.Status).toBe('running')
    expect(i.NetworkSettings.Networks[net.name]?.Aliases).toContain('idem-alias')
  })

  it('changes nothing on --dry-run, and refuses without a TTY unless --yes', async () => {
    const c = await t.httpServer('dry', 'dry', net.name, ['dry'])
    const dry = await runIr(['isolate', c.name, '--dry-run'], {env})
    expect(dry.exitCode, dry.stderr).toBe(0)
    expect(dry.stdout).toContain(`disconnect from network ${net.name}`)
    const noTty = await runIr(['isolate', c.name, '--case', CASE], {env})
    expect(noTty.exitCode).toBe(7)
    expect(noTty.stderr).toMatch(/--yes/)
    expect(noTty.stderr).not.toMatch(/\n\s+at /)
    const i = await t.inspect(c.id)
    expect(i.State.Status).toBe('running')
    expect(Object.keys(i.NetworkSettings.Networks)).toEqual([net.name])
  })

  it('processes the other targets when one is unknown, and exits 4 naming it', async () => {
    const c = await t.run('mixed', {cmd: ['sleep', '3600'], network: net.name})
    const r = await runIr(['isolate', c.name, 'no-such-container-xyz', '--case', CASE, '--yes'], {env})
    expect(r.exitCode).toBe(4)
    expect(r.stdout + r.stderr).toContain('no-such-container-xyz')
    expect((await t.inspect(c.id)).State.Status).toBe('paused')
  })

  it('says plainly when the network cannot be cut (host network), pauses, and notes a mounted Docker socket', async () => {
    const sockDir = await tempDir('ir-sock-')
    await writeFile(join(sockDir, 'docker.sock'), '')
    const c = await t.run('hostnet', {
      cmd: ['sleep', '3600'],
      network: 'host',
      hostConfig: {Binds: [`${join(sockDir, 'docker.sock')}:/var/run/docker.sock:ro`]},
    })
    const r = await runIr(['isolate', c.name, '--case', CASE, '--yes', '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout).containers[0]
    expect(res.networkNotCut).toMatch(/host network/)
    expect(res.dockerSocket).toBe(true)
    expect((await t.inspect(c.id)).State.Status).toBe('paused')
    const audit = await readFile(join(incidents, CASE, 'audit.log'), 'utf8')
    expect(audit).toMatch(/network NOT cut/)
    expect(audit).toMatch(/mounts the Docker socket/)
  })

  it('restores a static IP address on release', async () => {
    const staticNet = await t.network('static', {
      subnet: `192.168.${200 + (parseInt(t.runId.slice(0, 2), 16) % 50)}.0/24`,
    })
    const info = await t.docker.getNetwork(staticNet.id).inspect()
    const subnet = String(info.IPAM?.Config?.[0]?.Subnet)
    const ip = subnet.replace(/\.0\/24$/, '.77')
    const c = await t.httpServer('static-ip', 'static', staticNet.name, ['fixed'], {ip})
    // Podman's compat inspect never reports IPAMConfig: the release must give back what the engine showed before.
    const ipamBefore = (await t.inspect(c.id)).NetworkSettings.Networks[staticNet.name]?.IPAMConfig?.IPv4Address
    if (process.env.IR_ENGINE !== 'podman5') expect(ipamBefore).toBe(ip)
    expect((await runIr(['isolate', c.name, '--case', CASE, '--yes'], {env})).exitCode).toBe(0)
    expect(Object.keys((await t.inspect(c.id)).NetworkSettings.Networks)).toEqual([])
    const rel = await runIr(['release', c.name, '--case', CASE, '--yes', '--json'], {env})
    expect(rel.exitCode, rel.stderr).toBe(0)
    const ep = (await t.inspect(c.id)).NetworkSettings.Networks[staticNet.name]
    expect(ep?.IPAddress).toBe(ip)
    expect(ep?.IPAMConfig?.IPv4Address).toBe(ipamBefore)
    expect(ep?.Aliases).toContain('fixed')
  })

  it('names the engine it could not reach, with exit 3 and no stack trace', async () => {
    const r = await runIr(['isolate', 'anything', '--yes'], {
      env: {...env, DOCKER_HOST: 'unix:///nonexistent/ir-test.sock'},
    })
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toContain('Docker engine unreachable at unix:///nonexistent/ir-test.sock')
    expect(r.stderr).not.toMatch(/\n\s+at /)
    const j = await runIr(['case', 'verify', '../etc', '--json'], {env})
    expect(j.exitCode).toBe(2)
    expect(JSON.parse(j.stdout).error).toMatchObject({code: 'USAGE', exitCode: 2})
  })

  it('detects tampering: a flipped evidence byte, an edited or a deleted audit line', async () => {
    const caseDir = join(incidents, CASE)
    expect((await runIr(['case', 'verify', CASE], {env})).exitCode).toBe(0)
    const manifest = JSON.parse(await readFile(join(caseDir, 'manifest.json'), 'utf8'))
    const artifact = manifest.artifacts[0]
    const file = join(caseDir, artifact.path)
    const original = await readFile(file)
    const flipped = Buffer.from(original)
    flipped[10] = flipped[10]! ^ 0x01
    await writeFile(file, flipped)
    const v1 = await runIr(['case', 'verify', CASE], {env})
    expect(v1.exitCode).toBe(6)
    expect(v1.stdout).toContain(artifact.path)
    await writeFile(file, original)
    expect((await runIr(['case', 'verify', CASE], {env})).exitCode).toBe(0)

    const auditPath = join(caseDir, 'audit.log')
    const audit = await readFile(auditPath, 'utf8')
    const lines = audit.trimEnd().split('\n')
    const edited = [...lines]
    const at = lines.findIndex((l, i) => i >= 2 && l.includes('"outcome":"success"'))
    edited[at] = edited[at]!.replace('"outcome":"success"', '"outcome":"failure"')
    expect(edited[at]).not.toBe(lines[at])
    await writeFile(auditPath, `${edited.join('\n')}\n`)
    const v2 = await runIr(['case', 'verify', CASE, '--json'], {env})
    expect(v2.exitCode).toBe(6)
    expect(JSON.parse(v2.stdout).audit.problems.map((p: {line: number}) => p.line)).toContain(at + 2)

    const deleted = lines.filter((_, i) => i !== 3)
    await writeFile(auditPath, `${deleted.join('\n')}\n`)
    const v3 = await runIr(['case', 'verify', CASE], {env})
    expect(v3.exitCode).toBe(6)
    expect(v3.stdout).toMatch(/audit\.log line 4/)

    await writeFile(auditPath, audit)
    expect((await runIr(['case', 'verify', CASE], {env})).exitCode).toBe(0)
  })
})
