import {randomInt} from 'node:crypto'
import {readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {connectEngine} from '../../src/docker/dockerode-engine.js'
import {ensureBaseImage} from '../../src/services/lab/base-image.js'
import {createDebugLogger} from '../../src/util/logger.js'
import {runIr, tempDir} from '../helpers/cli.js'
import {hostFetch, TEST_IMAGE, TestDocker} from '../helpers/docker.js'

/**
 * The practice lab against the real engine. Each run uses its own lab name and port (--name, --port) so
 * it never meets another run's lab, and removes what it made even when an assertion fails.
 */
const t = new TestDocker('lab')
const PROJECT = `irlab-${t.runId}`
const PORT = 20_000 + randomInt(0, 20_000)
const CASE = `LAB-T-${t.runId}`
let root: string
let dir: string
let env: Record<string, string>
let testImageId: string

const byProject = (project: string) => ({label: [`ir.lab.project=${project}`]})

async function labLeftovers(project: string): Promise<{
  containers: string[]
  networks: string[]
  volumes: string[]
  images: Array<{id: string; tags: string[]; evidence: boolean}>
}> {
  const filters = byProject(project)
  const containers = await t.docker.listContainers({all: true, filters})
  const networks = await t.docker.listNetworks({filters})
  const volumes = await t.docker.listVolumes({filters})
  const images = await t.docker.listImages({filters})
  return {
    containers: containers.map((c) => c.Names[0] ?? c.Id),
    networks: networks.map((n) => n.Name),
    volumes: (volumes.Volumes ?? []).map((v) => v.Name),
    images: images.map((i) => ({
      id: i.Id,
      tags: (i.RepoTags ?? []).filter((x) => x !== '<none>:<none>'),
      evidence: i.Labels?.['ir.evidence'] === 'true',
    })),
  }
}

/** Safety net: whatever an interrupted run left of a lab (never evidence: those are tracked). */
async function removeLab(project: string): Promise<void> {
  const filters = byProject(project)
  for (const c of await t.docker.listContainers({all: true, filters})) {
    const ct = t.docker.getContainer(c.Id)
    if (c.State === 'paused') await ct.unpause().catch(() => undefined)
    await ct.remove({force: true, v: true}).catch(() => undefined)
  }
  for (const n of await t.docker.listNetworks({filters}))
    await t.docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined)
  for (const v of (await t.docker.listVolumes({filters})).Volumes ?? [])
    await t.docker
      .getVolume(v.Name)
      .remove()
      .catch(() => undefined)
  for (const i of await t.docker.listImages({filters})) {
    if (i.Labels?.['ir.evidence'] !== 'true')
      await t.docker
        .getImage(i.Id)
        .remove({force: true})
        .catch(() => undefined)
  }
}

async function webContainer(project: string): Promise<{id: string; name: string}> {
  const [c] = await t.docker.listContainers({
    all: true,
    filters: {label: [`com.docker.compose.project=${project}`, 'com.docker.compose.service=web']},
  })
  if (!c) throw new Error(`no web container in ${project}`)
  return {id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, '')}
}

beforeAll(async () => {
  root = await tempDir('ir-lab-it-')
  dir = join(root, 'ir-lab')
  env = {IR_INCIDENTS_DIR: join(root, 'incidents')}
  testImageId = (await t.docker.getImage(TEST_IMAGE).inspect()).Id
})

afterAll(async () => {
  await removeLab(PROJECT)
  await removeLab(`${PROJECT}-b`)
  await t.cleanup()
})

describe('ir lab against the real engine', () => {
  let web: {id: string; name: string}
  let apiKey: string
  let evidenceImage: string

  it('status before: no lab', async () => {
    const r = await runIr(['lab', 'status', '--name', PROJECT, '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({containers: [], networks: [], volumes: [], images: []})
    const human = await runIr(['lab', 'status', '--name', PROJECT], {env})
    expect(human.stdout).toContain(`No lab "${PROJECT}"`)
  })

  it('refuses to start without a TTY unless --yes, and creates nothing', async () => {
    const r = await runIr(['lab', 'up', '--dir', dir, '--name', PROJECT, '--port', String(PORT)], {env})
    expect(r.exitCode).toBe(7)
    expect(r.stderr).toMatch(/--yes/)
    expect((await labLeftovers(PROJECT)).containers).toEqual([])
    await expect(stat(dir)).rejects.toThrow()
  })

  it('refuses a port already in use before creating anything', async () => {
    const {createServer} = await import('node:net')
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const busy = (server.address() as {port: number}).port
    try {
      const r = await runIr(['lab', 'up', '--dir', dir, '--name', PROJECT, '--port', String(busy), '--yes'], {env})
      expect(r.exitCode).toBe(11)
      expect(r.stderr).toContain(`Port ${busy} on 127.0.0.1 is already in use`)
      expect(r.stderr).toContain('--port')
    } finally {
      server.close()
    }
    await expect(stat(dir)).rejects.toThrow()
    expect((await labLeftovers(PROJECT)).containers).toEqual([])
  })

  it('up: the three services run, the page is served, the compromise is planted, and no secret is printed', async () => {
    // Two at once: one starts the lab, the other refuses in one line (exit 11) and writes nothing.
    const both = await Promise.all(
      [0, 1].map(() =>
        runIr(['lab', 'up', '--dir', dir, '--name', PROJECT, '--port', String(PORT), '--yes', '--json'], {
          env,
          timeout: 240_000,
        }),
      ),
    )
    const r = both.find((x) => x.exitCode === 0)!
    const refused = both.find((x) => x !== r)!
    expect(r, both.map((x) => x.stderr).join('\n---\n')).toBeDefined()
    expect(refused.exitCode, refused.stderr).toBe(11)
    expect(JSON.parse(refused.stdout).error).toMatchObject({
      message: `Another ir lab up is already starting the lab "${PROJECT}"`,
      code: 'PRECONDITION',
      exitCode: 11,
      hint: expect.stringContaining('ir lab status'),
    })
    const result = JSON.parse(r.stdout)
    web = await webContainer(PROJECT)
    expect(result).toMatchObject({
      project: PROJECT,
      dir,
      port: PORT,
      target: web.name,
      baseImage: {ref: TEST_IMAGE, built: false},
    })
    expect(result.suggestedCaseId).toMatch(/^LAB-\d{8}-\d{6}-[0-9a-f]{4}$/)
    expect(result.containers.map((c: {service: string; state: string}) => `${c.service}:${c.state}`)).toEqual([
      'web:running',
      'worker:running',
      'db:running',
    ])
    expect(result.next[0].command).toBe('ir respond')
    expect(result.next.map((s: {command: string}) => s.command)).toContain(
      `ir isolate --case ${result.suggestedCaseId} ${web.name} --yes`,
    )
    expect(result.next.map((s: {command: string}) => s.command)).toContain(
      `ir rebuild --case ${result.suggestedCaseId} --project-directory ${dir} --project-name ${PROJECT} --offline`,
    )

    for (const service of ['web', 'worker', 'db']) {
      const [c] = await t.docker.listContainers({
        filters: {label: [`com.docker.compose.project=${PROJECT}`, `com.docker.compose.service=${service}`]},
      })
      expect(c, service).toBeDefined()
      const i = await t.inspect(c!.Id)
      expect(i.State.Running, service).toBe(true)
      expect(i.Config.Labels).toMatchObject({'ir.lab': 'true', 'ir.lab.project': PROJECT})
    }

    // The page, from a test container on the lab's network, by IP; and on the published port.
    const w = await t.inspect(web.id)
    const ip = w.NetworkSettings.Networks[`${PROJECT}_lab`]?.IPAddress ?? ''
    expect(ip).not.toBe('')
    const client = await t.run('client', {cmd: ['sleep', '3600'], network: `${PROJECT}_lab`})
    const page = await t.fetch(client.name, ip)
    expect(page.ok, page.body).toBe(true)
    expect(page.body).toContain('ACME Shop')
    await t.docker.getContainer(client.id).remove({force: true})
    const published = await hostFetch(`http://127.0.0.1:${PORT}/`)
    expect(published.status).toBe(200)
    expect(published.text).toContain('ACME Shop')

    // The dropped file and the unexpected processes.
    const ls = await execa('docker', ['exec', web.id, 'ls', '-l', '/tmp/.x/miner.sh'], {reject: false, timeout: 15_000})
    expect(ls.exitCode, ls.stderr).toBe(0)
    const changes = (await t.docker.getContainer(web.id).changes()) as Array<{Path: string; Kind: number}>
    expect(changes).toContainEqual({Path: '/tmp/.x/miner.sh', Kind: 1})
    const top = (await t.docker.getContainer(web.id).top({ps_args: '-ef'})) as {Processes: string[][]}
    const commands = top.Processes.map((p) => p[p.length - 1] ?? '')
    expect(commands.some((c) => c.includes('/tmp/.x/miner.sh'))).toBe(true)
    expect(commands.some((c) => /nc -ll -p 4444/.test(c))).toBe(true)
    expect(commands.some((c) => /httpd -f -p 80/.test(c))).toBe(true)

    // The .env holds a fresh secret (0600), which reached the container, and was never printed.
    const dotenv = await readFile(join(dir, '.env'), 'utf8')
    apiKey = /^API_KEY=(.+)$/m.exec(dotenv)?.[1] ?? ''
    expect(apiKey).toMatch(/^lab_sk_[A-Za-z0-9_-]{32}$/)
    expect((await stat(join(dir, '.env'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'secrets/db_root_password.txt'))).mode & 0o777).toBe(0o600)
    expect(w.Config.Env).toContain(`API_KEY=${apiKey}`)
    expect(w.Config.Env).toContain('VNC_PASSWORD=vncpassword')
    const dbPassword = /^DB_PASSWORD=(.+)$/m.exec(dotenv)?.[1] ?? ''
    for (const secret of [
      apiKey,
      dbPassword,
      (await readFile(join(dir, 'secrets/db_root_password.txt'), 'utf8')).trim(),
    ]) {
      expect(secret.length).toBeGreaterThan(20)
      expect(r.stdout + r.stderr).not.toContain(secret)
    }
    // The socket mounted is the lab's own empty file, not the engine's.
    const sock = w.Mounts.find((m) => m.Destination === '/var/run/docker.sock')
    expect(sock?.Source).toBe(join(dir, 'run/docker.sock'))
  })

  it('ir audit reports the weak configuration of the web container (exit 9 with --fail-on high)', async () => {
    const r = await runIr(['audit', web.name, '--fail-on', 'high', '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(9)
    const ids = JSON.parse(r.stdout).containers[0].findings.map((f: {id: string}) => f.id)
    // Podman gives every container a pids limit (containers.conf pids_limit, 2048) unless told otherwise.
    const pidsLimited = ((await t.inspect(web.id)).HostConfig.PidsLimit ?? 0) > 0
    expect(ids).toEqual(
      expect.arrayContaining([
        'mount.docker-socket',
        'user.root',
        'pid1.root',
        'caps.not-dropped',
        'rootfs.writable',
        'limits.memory',
        ...(pidsLimited ? [] : ['limits.pids']),
      ]),
    )
    if (pidsLimited) expect(ids).not.toContain('limits.pids')
  })

  it('a second up of the same lab is refused while it exists', async () => {
    const r = await runIr(['lab', 'up', '--dir', dir, '--name', PROJECT, '--port', String(PORT), '--yes'], {env})
    expect(r.exitCode).toBe(11)
    expect(r.stderr).toContain('already exists')
    expect(await readFile(join(dir, '.env'), 'utf8')).toContain(`API_KEY=${apiKey}`)
  })

  it('status shows the isolated container after ir isolate; ir snapshot makes an evidence image of it', async () => {
    const iso = await runIr(['isolate', '--case', CASE, web.name, '--yes'], {env})
    expect(iso.exitCode, iso.stderr).toBe(0)
    const s = await runIr(['lab', 'status', '--name', PROJECT, '--json'], {env})
    expect(s.exitCode, s.stderr).toBe(0)
    const status = JSON.parse(s.stdout)
    expect(status.containers.find((c: {service: string}) => c.service === 'web')).toMatchObject({
      name: web.name,
      state: 'paused',
      paused: true,
      isolated: true,
      networks: [],
    })
    expect(status.containers.find((c: {service: string}) => c.service === 'db')).toMatchObject({
      state: 'running',
      isolated: false,
      networks: [`${PROJECT}_lab`],
    })
    expect(status.networks).toEqual([`${PROJECT}_lab`])
    expect(status.volumes).toEqual([`${PROJECT}_db-data`])
    const human = await runIr(['lab', 'status', '--name', PROJECT], {env})
    expect(human.stdout).toMatch(new RegExp(`${web.name}\\s+paused\\s+yes \\(paused, no network\\)`))

    const snap = await runIr(['snapshot', '--case', CASE, web.name, '--no-export', '--yes', '--json'], {
      env,
      timeout: 240_000,
    })
    expect(snap.exitCode, snap.stderr).toBe(0)
    const images = await t.docker.listImages({filters: {label: [`ir.case=${CASE}`, 'ir.evidence=true']}})
    expect(images).toHaveLength(1)
    evidenceImage = images[0]!.RepoTags![0]!
    t.trackImage(evidenceImage)
    // Committed from a lab container, it carries the lab's labels too: down must still keep it.
    expect(images[0]!.Labels).toMatchObject({'ir.lab': 'true', 'ir.lab.project': PROJECT, 'ir.evidence': 'true'})
  })

  it('down removes every container, network, volume and image of the lab, and leaves everything else as it was', async () => {
    // Things that are not the lab: a plain container, one of another compose project, another lab's volume.
    const net = await t.network('other')
    const plain = await t.run('plain', {cmd: ['sleep', '3600'], network: net.name})
    const otherProject = await t.run('shop-web', {
      cmd: ['sleep', '3600'],
      network: net.name,
      labels: {'com.docker.compose.project': `shop-${t.runId}`, 'com.docker.compose.service': 'web'},
    })
    const otherLabVolume = `${PROJECT}-b_data`
    await t.docker.createVolume({
      Name: otherLabVolume,
      Labels: {...t.labels, 'ir.lab': 'true', 'ir.lab.project': `${PROJECT}-b`},
    })
    const evidenceId = (await t.docker.getImage(evidenceImage).inspect()).Id
    const webImageTag = (await t.inspect(web.id)).Config.Image
    const before = await labLeftovers(PROJECT)
    expect(before.containers).toHaveLength(3)
    expect(before.images.filter((i) => !i.evidence).map((i) => i.tags[0])).toEqual([
      `${webImageTag.includes(':') ? webImageTag : `${webImageTag}:latest`}`,
    ])

    const noTty = await runIr(['lab', 'down', '--dir', dir], {env})
    expect(noTty.exitCode).toBe(7)
    expect((await labLeftovers(PROJECT)).containers).toHaveLength(3)

    const r = await runIr(['lab', 'down', '--dir', dir, '--yes', '--json'], {env, timeout: 240_000})
    expect(r.exitCode, r.stdout + r.stderr).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result).toMatchObject({project: PROJECT, ok: true, compose: {ran: true, ok: true}})
    expect(result.kept).toContainEqual(expect.objectContaining({kind: 'image', name: evidenceImage}))

    // The lab: gone, by label and by compose project.
    const after = await labLeftovers(PROJECT)
    expect(after.containers).toEqual([])
    expect(after.networks).toEqual([])
    expect(after.volumes).toEqual([])
    expect(after.images.map((i) => i.tags[0])).toEqual([evidenceImage])
    expect(
      await t.docker.listContainers({all: true, filters: {label: [`com.docker.compose.project=${PROJECT}`]}}),
    ).toEqual([])
    await expect(t.docker.getImage(webImageTag).inspect()).rejects.toMatchObject({statusCode: 404})

    // Everything else: untouched.
    expect((await t.inspect(plain.id)).State.Running).toBe(true)
    expect((await t.inspect(otherProject.id)).State.Running).toBe(true)
    expect((await t.docker.getVolume(otherLabVolume).inspect()).Name).toBe(otherLabVolume)
    expect((await t.docker.getImage(evidenceImage).inspect()).Id).toBe(evidenceId)
    expect((await t.docker.getImage(TEST_IMAGE).inspect()).Id).toBe(testImageId)
    await t.docker.getVolume(otherLabVolume).remove()

    // The lab folder stays (no --purge-dir); the case is intact and still verifies.
    expect((await stat(join(dir, 'compose.yml'))).isFile()).toBe(true)
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout + v.stderr).toBe(0)

    // Down again: nothing left, still a success.
    const again = await runIr(['lab', 'down', '--dir', dir, '--yes'], {env})
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stdout).toContain('Nothing of the lab')
  })

  it('status after: no lab containers; only the evidence image remains', async () => {
    const r = await runIr(['lab', 'status', '--name', PROJECT, '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const status = JSON.parse(r.stdout)
    expect(status).toMatchObject({containers: [], networks: [], volumes: []})
    expect(status.images).toEqual([expect.objectContaining({tags: [evidenceImage], evidence: true})])
  })

  it('--purge-dir removes the lab folder, and only a lab folder', async () => {
    const r = await runIr(['lab', 'down', '--dir', dir, '--purge-dir', '--yes'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    await expect(stat(dir)).rejects.toThrow()
    expect((await stat(join(root, 'incidents', CASE, 'case.json'))).isFile()).toBe(true)
  })
})

describe('the lab base image, built when missing', () => {
  const ref = `irt-${t.runId}/busybox:latest`

  it('is imported through the Engine API from the host busybox, and runs the lab', async () => {
    t.trackImage(ref)
    const engine = await connectEngine(createDebugLogger(false))
    const built = await ensureBaseImage({engine, ref})
    expect(built).toMatchObject({ref, built: true})
    const info = await t.docker.getImage(ref).inspect()
    expect(info.Id).toBe(built.id)
    expect(info.Config.Labels).toMatchObject({'ir.test': 'true'})
    expect(info.Config.Cmd).toEqual(['/bin/sh'])
    const probe = await execa(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        'none',
        '--label',
        `ir.test.run=${t.runId}`,
        ref,
        'sh',
        '-c',
        'id developer && stat -c %a /tmp && ls /bin/httpd /bin/nc && test -d /www && echo ok',
      ],
      {reject: false, timeout: 60_000},
    )
    expect(probe.exitCode, probe.stderr).toBe(0)
    expect(probe.stdout).toMatch(/uid=1000\(developer\)/)
    expect(probe.stdout).toMatch(/^1777$/m)
    expect(probe.stdout).toMatch(/ok$/)
    // Present now: not built again.
    expect(await ensureBaseImage({engine, ref})).toMatchObject({built: false, id: built.id})

    // A lab on that image starts, and down keeps the base image.
    await t.docker.getImage(ref).remove()
    const dirB = join(root, 'lab-b')
    const projectB = `${PROJECT}-b`
    const up = await runIr(
      ['lab', 'up', '--dir', dirB, '--name', projectB, '--port', String(PORT + 1), '--yes', '--json'],
      {env: {...env, IR_LAB_BASE_IMAGE: ref}, timeout: 240_000},
    )
    expect(up.exitCode, up.stderr).toBe(0)
    const result = JSON.parse(up.stdout)
    expect(result.baseImage).toMatchObject({ref, built: true})
    expect(result.containers.every((c: {state: string}) => c.state === 'running')).toBe(true)
    const down = await runIr(['lab', 'down', '--dir', dirB, '--yes'], {env: {...env, IR_LAB_BASE_IMAGE: ref}})
    expect(down.exitCode, down.stderr).toBe(0)
    expect((await labLeftovers(projectB)).containers).toEqual([])
    expect((await t.docker.getImage(ref).inspect()).Id).toBeTruthy()
  })
})
