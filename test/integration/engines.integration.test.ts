import {randomInt} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {filesContaining, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'
import {layerFiles, readSavedImage, skopeoCopies} from '../helpers/image-tar.js'
import {waitFor} from '../helpers/wait.js'

/**
 * One incident from start to end, on whichever engine DOCKER_HOST names (npm test runs it on each of
 * IR_ENGINES: docker20, docker28, docker28-containerd, podman5): lab up; isolate, proved by a fetch from a
 * peer that fails; snapshot and collect of the paused container; rebuild and audit; report; verify; lab down.
 * Then a secret planted in env, Cmd and a label is absent from every file of the case (inside the saved
 * image tar too), and that tar loads back on the same engine and holds the container's files.
 */
const ENGINE = process.env.IR_ENGINE ?? 'docker20'
const t = new TestDocker('eng')
const PROJECT = `irlab-eng-${t.runId}`
const PORT = 20_000 + randomInt(0, 20_000)
const CASE = `ENG-${t.runId}`
const SECRET = `sekrit-${t.runId}-value`
let root: string
let dir: string
let env: Record<string, string>
let web: {id: string; name: string}

beforeAll(async () => {
  root = await tempDir('ir-engines-it-')
  dir = join(root, 'lab')
  env = {IR_INCIDENTS_DIR: join(root, 'incidents')}
})

afterAll(async () => {
  await runIr(['lab', 'down', '--dir', dir, '--name', PROJECT, '--yes'], {env, timeout: 180_000}).catch(() => undefined)
  for (const i of await t.docker.listImages({filters: {label: [`ir.case=${CASE}`]}})) t.trackImage(i.Id)
  await t.cleanup()
})

async function labWeb(): Promise<{id: string; name: string}> {
  const [c] = await t.docker.listContainers({
    all: true,
    filters: {label: [`com.docker.compose.project=${PROJECT}`, 'com.docker.compose.service=web']},
  })
  if (!c) throw new Error('no web container')
  return {id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, '')}
}

describe(`the incident scenario on ${ENGINE}`, () => {
  it('1. lab up', async () => {
    const r = await runIr(['lab', 'up', '--dir', dir, '--name', PROJECT, '--port', String(PORT), '--yes', '--json'], {
      env,
      timeout: 240_000,
    })
    expect(r.exitCode, r.stderr).toBe(0)
    web = await labWeb()
    expect((await t.inspect(web.id)).State.Status).toBe('running')
  })

  it('2. isolate: no endpoint, verified, and a peer cannot fetch the page any more', async () => {
    const net = `${PROJECT}_lab`
    const ip = (await t.inspect(web.id)).NetworkSettings.Networks[net]?.IPAddress ?? ''
    expect(ip).not.toBe('')
    const peer = await t.run('peer', {cmd: ['sleep', '3600'], network: net})
    expect((await t.fetch(peer.name, ip)).ok).toBe(true)
    const r = await runIr(['isolate', web.name, '--case', CASE, '--yes', '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const c = JSON.parse(r.stdout).containers[0]
    expect(c).toMatchObject({status: 'isolated', stateAfter: 'paused'})
    expect(c.verification).toMatchObject({contained: true, inspectEndpoints: [], procInterfaces: []})
    expect(Object.keys((await t.inspect(web.id)).NetworkSettings.Networks)).toEqual([])
    const during = await t.fetch(peer.name, ip)
    expect(during.ok, during.body).toBe(false)
    await t.docker.getContainer(peer.id).remove({force: true})
    const record = JSON.parse(
      await readFile(join(root, 'incidents', CASE, 'state', 'containment.json'), 'utf8').catch(async () =>
        readFile(join(root, 'incidents', CASE, 'containment.json'), 'utf8'),
      ),
    )
    const rec = Object.values(
      record.containers as Record<string, {networkCut: boolean; verification?: {how: string}}>,
    )[0]!
    expect(rec.networkCut).toBe(true)
    expect(rec.verification?.how).toMatch(/inspect: no network endpoint; .*net\/dev: no interface but lo/)
  })

  it('3. snapshot and collect the paused container', async () => {
    const s = await runIr(['snapshot', web.name, '--case', CASE, '--yes', '--json'], {env, timeout: 240_000})
    expect(s.exitCode, s.stderr).toBe(0)
    const snap = JSON.parse(s.stdout).containers[0]
    expect(snap.status).toBe('snapshotted')
    t.trackImage(snap.image.id)
    const c = await runIr(['collect', web.name, '--case', CASE, '--json'], {env})
    expect(c.exitCode, c.stderr).toBe(0)
  })

  it('4. rebuild and audit', async () => {
    const r = await runIr(
      [
        'rebuild',
        '--case',
        CASE,
        '--project-directory',
        dir,
        '--project-name',
        PROJECT,
        '--offline',
        '--yes',
        '--json',
      ],
      {env, timeout: 300_000},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    const fresh = await labWeb()
    expect(fresh.id).not.toBe(web.id)
    expect((await t.inspect(fresh.id)).State.Status).toBe('running')
    const a = await runIr(['audit', fresh.name, '--case', CASE, '--json'], {env})
    expect([0, 9], a.stderr).toContain(a.exitCode)
    expect(JSON.parse(a.stdout).containers[0].findings.length).toBeGreaterThan(0)
  })

  it('5. report, 6. verify', async () => {
    const r = await runIr(['report', '--case', CASE, '--no-input', '--json'], {env, timeout: 120_000})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).caseId).toBe(CASE)
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout + v.stderr).toBe(0)
    expect(v.stdout).toContain('intact')
  })

  it('7. lab down', async () => {
    const r = await runIr(['lab', 'down', '--dir', dir, '--name', PROJECT, '--yes'], {env, timeout: 180_000})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(
      await t.docker.listContainers({all: true, filters: {label: [`com.docker.compose.project=${PROJECT}`]}}),
    ).toEqual([])
  })

  it('a secret in env, Cmd and a label reaches no file of the case, the saved image included, and that image loads back with the files', async () => {
    const v = await t.run('victim', {
      cmd: ['sh', '-c', `echo evidence-${t.runId} > /tmp/planted.txt; exec sleep 3600 # --password=${SECRET}`],
      env: [`DB_PASSWORD=${SECRET}`],
      labels: {'com.example.api-token': SECRET},
    })
    // The planted file is there once the engine can hand it out (a 404 until then).
    await waitFor(() => t.docker.getContainer(v.id).getArchive({path: '/tmp/planted.txt'}), {
      what: '/tmp/planted.txt in the victim',
    })
    expect(JSON.stringify(await t.inspect(v.id))).toContain(SECRET)
    const s = await runIr(['snapshot', v.name, '--case', CASE, '--yes', '--json'], {env, timeout: 240_000})
    expect(s.exitCode, s.stderr).toBe(0)
    const snap = JSON.parse(s.stdout).containers[0]
    t.trackImage(snap.image.id)
    expect((await runIr(['collect', v.name, '--case', CASE, '--json'], {env})).exitCode).toBe(0)
    expect(await filesContaining(join(root, 'incidents', CASE), SECRET)).toEqual([])

    const manifest = JSON.parse(await readFile(join(root, 'incidents', CASE, 'manifest.json'), 'utf8')) as {
      artifacts: Array<{type: string; path: string; meta?: {tag?: string}}>
    }
    const imageTar = manifest.artifacts.filter((a) => a.type === 'image-tar').at(-1)!
    const path = join(root, 'incidents', CASE, imageTar.path)
    const saved = await readSavedImage(path)
    expect(JSON.stringify(saved.config)).not.toContain(SECRET)
    expect(await layerFiles(saved)).toContain('tmp/planted.txt')
    const skopeo = await skopeoCopies(path, saved.layout)
    expect(skopeo.ok, skopeo.output).toBe(true)

    const tag = String(imageTar.meta?.tag)
    await t.docker.getImage(tag).remove({force: true})
    const load = await execa('docker', ['load', '-i', path], {timeout: 120_000})
    expect(load.stdout).toContain(tag.split('/').pop()!)
    const out = await execa(
      'docker',
      ['run', '--rm', '--label', `ir.test.run=${t.runId}`, '--label', 'ir.test=true', tag, 'cat', '/tmp/planted.txt'],
      {timeout: 60_000},
    )
    expect(out.stdout.trim()).toBe(`evidence-${t.runId}`)
    const loaded = await t.docker.getImage(tag).inspect()
    expect(JSON.stringify(loaded.Config)).not.toContain(SECRET)
  })

  it.runIf(ENGINE === 'podman5')(
    'Podman: swarm commands say in one line that Podman has no swarm mode, and exit non-zero',
    async () => {
      const r = await runIr(['isolate', '--service', 'web', '--case', CASE, '--yes'], {env})
      expect(r.exitCode).not.toBe(0)
      expect(r.stderr + r.stdout).toMatch(/Podman has no swarm mode/)
      const stack = join(root, 'stack.yml')
      await (await import('node:fs/promises')).writeFile(stack, 'services:\n  a:\n    image: ir-test/busybox:latest\n')
      const s = await runIr(['rebuild', '--stack', 'irt', '-c', stack, '--case', CASE, '--yes'], {env})
      expect(s.exitCode).toBe(11)
      expect(s.stderr.split('\n')[0]).toMatch(/^Error: Podman has no swarm mode/)
    },
  )
})
