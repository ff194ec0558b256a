import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import type Docker from 'dockerode'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {allFiles, runIr, tempDir} from '../helpers/cli.js'
import {TEST_IMAGE, TestDocker} from '../helpers/docker.js'
import {canRunExtraEngines, type ExtraEngine, ExtraEngines} from '../helpers/engines.js'

/**
 * Three engines on one machine: three extra dockerd processes of this test's own making (the
 * shared engine is only read, to copy the test image from). The selected containers run an image
 * made for this run; each engine also runs a bystander of the plain test image, which a selector
 * must not touch.
 */
const available = await canRunExtraEngines()
if (!available.ok) console.warn(`hosts integration tests skipped: ${available.reason}`)

const t = new TestDocker('hosts')
const extra = new ExtraEngines()
const IMAGE = `ir-test/hosts-${t.runId}:latest`
const CASE = `CASE-HOSTS-${t.runId}`
let H1 = ''
let H2 = ''
let H3 = ''
let incidents: string
let env: Record<string, string>
const dockers: Docker[] = []
let e3: ExtraEngine
let x2tls: NonNullable<ExtraEngine['tls']>
const labels = {'ir.test': 'true', 'ir.test.run': t.runId}

async function runOn(
  d: Docker,
  name: string,
  opts: {image?: string; network?: string; restart?: boolean} = {},
): Promise<string> {
  const c = await d.createContainer({
    name,
    Image: opts.image ?? IMAGE,
    Cmd: ['sleep', '3600'],
    Labels: labels,
    HostConfig: {
      ...(opts.network ? {NetworkMode: opts.network} : {}),
      ...(opts.restart ? {RestartPolicy: {Name: 'always'}} : {}),
    },
  })
  await c.start()
  return c.id
}

async function state(d: Docker, id: string): Promise<{status: string; networks: string[]}> {
  const i = await d.getContainer(id).inspect()
  return {status: i.State.Status, networks: Object.keys(i.NetworkSettings.Networks ?? {})}
}

async function auditLines(): Promise<
  Array<{action: string; target?: string; outcome: string; details?: Record<string, unknown>}>
> {
  return (await readFile(join(incidents, CASE, 'audit.log'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
}

async function manifestPaths(): Promise<string[]> {
  return (
    JSON.parse(await readFile(join(incidents, CASE, 'manifest.json'), 'utf8')) as {artifacts: Array<{path: string}>}
  ).artifacts.map((a) => a.path)
}

const net = t.name('net')
const first: Array<{engine: number; id: string; name: string}> = []
const bystanders: Array<{engine: number; id: string}> = []

beforeAll(async () => {
  if (!available.ok) return
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  const [x1, x2, x3] = await extra.start(3, {tls: [2]})
  x2tls = x2!.tls!
  H1 = x1!.host
  H2 = x2!.host
  H3 = x3!.host
  e3 = x3!
  dockers.push(extra.docker(x1!), extra.docker(x2!), extra.docker(x3!))
  await extra.loadImage(t.docker, TEST_IMAGE)
  // An image with an id of its own (a commit of the test image with this run's labels), made on the first engine and copied to the others.
  const base = await dockers[0]!.createContainer({
    Image: TEST_IMAGE,
    Cmd: ['true'],
    Labels: labels,
    name: t.name('base'),
  })
  // eslint-disable-next-line @typescript-eslint/await-thenable -- without a callback dockerode returns a Promise
  await base.commit({
    repo: IMAGE.split(':')[0],
    tag: 'latest',
    changes: ['LABEL ir.test=true', `LABEL ir.test.run=${t.runId}`],
  } as never)
  await extra.loadImage(dockers[0]!, IMAGE, [1, 2])
  for (const [i, d] of dockers.entries()) {
    await d.createNetwork({Name: net, Labels: labels})
    for (const k of ['a', 'b']) {
      const name = t.name(`e${i + 1}-${k}`)
      first.push({engine: i, id: await runOn(d, name, {network: net}), name})
    }
    bystanders.push({engine: i, id: await runOn(d, t.name(`e${i + 1}-bystander`), {image: TEST_IMAGE, network: net})})
  }
}, 240_000)

afterAll(async () => {
  if (!available.ok) return
  await extra.cleanup()
  await t.cleanup()
}, 240_000)

describe.skipIf(!available.ok)('isolate across three engines', () => {
  const isolateAll = (): Promise<{exitCode: number; stdout: string; stderr: string}> =>
    runIr(
      [
        'isolate',
        '--filter',
        `ancestor=${IMAGE}`,
        '--host',
        H1,
        '--host',
        H2,
        '--host',
        H3,
        '--case',
        CASE,
        '--yes',
        '--json',
      ],
      {env},
    )

  it('isolates every container of the image on all three, each evidence tree under its host', async () => {
    const r = await isolateAll()
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(
      result.hosts.map((h: {host: string; reachable: boolean; status: string}) => [h.host, h.reachable, h.status]),
    ).toEqual([
      [H1, true, 'done'],
      [H2, true, 'done'],
      [H3, true, 'done'],
    ])
    const engineIds = await Promise.all(dockers.map(async (d) => ((await d.info()) as {ID: string}).ID))
    expect(new Set(engineIds).size).toBe(3)
    expect(result.containers).toHaveLength(6)
    for (const c of first) {
      const row = result.containers.find((x: {id: string}) => x.id === c.id)
      expect(row, c.name).toMatchObject({
        status: 'isolated',
        host: [H1, H2, H3][c.engine],
        engineId: engineIds[c.engine],
        name: c.name,
      })
      expect(await state(dockers[c.engine]!, c.id)).toEqual({status: 'paused', networks: []})
    }
    for (const b of bystanders)
      expect(await state(dockers[b.engine]!, b.id)).toEqual({status: 'running', networks: [net]})

    const paths = await manifestPaths()
    const dirs = [H1, H2, H3].map((h) => h.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_'))
    for (const c of first)
      expect(
        paths.some((p) => p.startsWith(`evidence/${dirs[c.engine]}/${c.name}/inspect-`)),
        c.name,
      ).toBe(true)
    const isolated = (await auditLines()).filter((e) => e.action === 'isolate' && e.outcome === 'success')
    expect(isolated).toHaveLength(6)
    for (const e of isolated) expect(engineIds).toContain(e.details?.engineId)
    const fanout = JSON.parse(await readFile(join(incidents, CASE, 'state', 'fanout-isolate.json'), 'utf8'))
    expect(Object.values(fanout.hosts).map((h) => (h as {status: string}).status)).toEqual(['done', 'done', 'done'])
  })

  const fresh: Array<{engine: number; id: string; name: string}> = []
  let artifactsAfterSecondRun: string[] = []

  it('with the third engine stopped: reports it unreachable (audited, exit 3), the other two are still done', async () => {
    for (const [i, d] of dockers.entries()) {
      const name = t.name(`e${i + 1}-fresh`)
      fresh.push({engine: i, id: await runOn(d, name, {network: net, restart: i === 2}), name})
    }
    await extra.stopEngine(e3)
    const r = await isolateAll()
    expect(r.exitCode, r.stderr).toBe(3)
    expect(r.stderr).toContain(`host ${H3} is unreachable`)
    const result = JSON.parse(r.stdout)
    expect(
      result.hosts.map((h: {host: string; reachable: boolean; status: string}) => [h.host, h.reachable, h.status]),
    ).toEqual([
      [H1, true, 'done'],
      [H2, true, 'done'],
      [H3, false, 'failed'],
    ])
    expect(result.hosts[2].error).toMatchObject({code: 'ENGINE_UNREACHABLE'})
    for (const c of fresh.slice(0, 2)) {
      expect(result.containers.find((x: {id: string}) => x.id === c.id)).toMatchObject({status: 'isolated'})
      expect(await state(dockers[c.engine]!, c.id)).toEqual({status: 'paused', networks: []})
    }
    for (const c of first.filter((x) => x.engine < 2))
      expect(result.containers.find((x: {id: string}) => x.id === c.id)).toMatchObject({status: 'already-isolated'})

    const hostFailure = (await auditLines()).find((e) => e.action === 'isolate' && e.outcome === 'failure')
    const e3Id = JSON.parse(await readFile(join(incidents, CASE, 'state', 'fanout-isolate.json'), 'utf8')).hosts[H3]
      .engineId
    expect(hostFailure).toMatchObject({
      target: H3,
      details: {host: H3, engineId: e3Id, error: expect.objectContaining({code: 'ENGINE_UNREACHABLE'})},
    })
    const fanout = JSON.parse(await readFile(join(incidents, CASE, 'state', 'fanout-isolate.json'), 'utf8'))
    expect(fanout.hosts[H3]).toMatchObject({status: 'failed', reachable: false})
    expect(fanout.hosts[H1]).toMatchObject({status: 'done'})
    artifactsAfterSecondRun = await manifestPaths()
  })

  it('once the third engine is back, the same command finishes it without touching the other two again', async () => {
    await extra.startEngine(e3)
    const d3 = dockers[2]!
    const freshOn3 = fresh.find((c) => c.engine === 2)!
    // The restart policy brings the fresh container back with its engine.
    for (let i = 0; i < 120 && (await state(d3, freshOn3.id)).status !== 'running'; i++)
      await new Promise((r) => setTimeout(r, 500))
    expect((await state(d3, freshOn3.id)).status).toBe('running')

    const r = await isolateAll()
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.hosts.every((h: {status: string}) => h.status === 'done')).toBe(true)
    expect(result.containers.find((x: {id: string}) => x.id === freshOn3.id)).toMatchObject({
      status: 'isolated',
      host: H3,
    })
    expect(await state(d3, freshOn3.id)).toEqual({status: 'paused', networks: []})
    const others = result.containers.filter((x: {host: string}) => x.host !== H3)
    expect(others.length).toBe(6)
    expect(others.every((x: {status: string}) => x.status === 'already-isolated')).toBe(true)

    // No duplicate evidence for the hosts already done: only the third host's new container added an artifact.
    const added = (await manifestPaths()).filter((p) => !artifactsAfterSecondRun.includes(p))
    expect(added).toEqual([
      expect.stringMatching(
        new RegExp(
          `^evidence/${H3.replace(/^\/+/, '')
            .replace(/[^A-Za-z0-9._-]+/g, '_')
            .replace(/\./g, '\\.')}/${freshOn3.name}/inspect-`,
        ),
      ),
    ])
    const fanout = JSON.parse(await readFile(join(incidents, CASE, 'state', 'fanout-isolate.json'), 'utf8'))
    expect(fanout.hosts[H3]).toMatchObject({status: 'done', attempts: 3})
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout).toBe(0)
  })

  it('refuses a bare name found on two hosts, naming both, and acts on the qualified one', async () => {
    const twin = t.name('twin')
    const ids = [
      await runOn(dockers[0]!, twin, {image: TEST_IMAGE, network: net}),
      await runOn(dockers[1]!, twin, {image: TEST_IMAGE, network: net}),
    ]
    const amb = await runIr(['isolate', twin, '--host', H1, '--host', H2, '--case', CASE, '--yes'], {env})
    expect(amb.exitCode).toBe(4)
    expect(amb.stdout + amb.stderr).toMatch(/ambiguous: it matches on 2 hosts/)
    expect(amb.stdout + amb.stderr).toContain(H1)
    expect(amb.stdout + amb.stderr).toContain(H2)
    expect((await state(dockers[0]!, ids[0]!)).status).toBe('running')

    const one = await runIr(
      ['isolate', `${H2}/${twin}`, '--host', H1, '--host', H2, '--case', CASE, '--yes', '--json'],
      {env},
    )
    expect(one.exitCode, one.stderr).toBe(0)
    expect((await state(dockers[1]!, ids[1]!)).status).toBe('paused')
    expect((await state(dockers[0]!, ids[0]!)).status).toBe('running')

    const rel = await runIr(['release', `${H2}/${twin}`, '--host', H1, '--host', H2, '--case', CASE, '--yes'], {env})
    expect(rel.exitCode, rel.stderr).toBe(0)
    expect((await state(dockers[1]!, ids[1]!)).status).toBe('running')
  })

  it('releases a selector across hosts, each container on its own engine with its network back', async () => {
    const r = await runIr(
      [
        'release',
        '--filter',
        `ancestor=${IMAGE}`,
        '--host',
        H1,
        '--host',
        H2,
        '--host',
        H3,
        '--case',
        CASE,
        '--yes',
        '--json',
      ],
      {env},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    for (const c of [...first.filter((x) => x.engine < 2), ...fresh]) {
      expect(await state(dockers[c.engine]!, c.id), c.name).toEqual({status: 'running', networks: [net]})
    }
  })

  it('reads a docker CLI context from the context store (DOCKER_CONFIG) and shows the containment per host', async () => {
    const config = await tempDir('ir-dockercfg-')
    const ctx = `irt-${t.runId}-e2`
    const created = await execa('docker', ['context', 'create', ctx, '--docker', `host=${H2}`], {
      env: {DOCKER_CONFIG: config},
      reject: false,
    })
    expect(created.exitCode, created.stderr).toBe(0)
    const r = await runIr(['isolate', '--context', ctx, '--filter', `ancestor=${IMAGE}`, '--dry-run', '--json'], {
      env: {...env, DOCKER_CONFIG: config},
    })
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout)
    const onE2 = [...first, ...fresh]
      .filter((c) => c.engine === 1)
      .map((c) => c.id)
      .sort()
    expect(result.containers.map((c: {id: string}) => c.id).sort()).toEqual(onE2)
    expect(result.containers.every((c: {host: string}) => c.host === ctx)).toBe(true)

    const show = await runIr(['case', 'show', CASE], {env})
    expect(show.exitCode, show.stderr).toBe(0)
    expect(show.stdout).toMatch(/HOST\s+CONTAINER/)
    for (const h of [H1, H2, H3]) expect(show.stdout).toContain(h)
  })

  it('reaches an engine over tcp:// with TLS: per-host certificate paths from an inventory, or DOCKER_CERT_PATH for --host', async () => {
    const dir = await tempDir('ir-inv-')
    const inventory = join(dir, 'hosts.yml')
    await writeFile(
      inventory,
      [
        '- name: node-2',
        `  endpoint: ${x2tls.host}`,
        `  tls: {ca: ${join(x2tls.dir, 'ca.pem')}, cert: ${join(x2tls.dir, 'cert.pem')}, key: ${join(x2tls.dir, 'key.pem')}}`,
        '  labels: {role: web}',
        '- name: node-1',
        `  endpoint: ${H1}`,
        '',
      ].join('\n'),
    )
    const onE2 = [...first, ...fresh].filter((c) => c.engine === 1)
    const r = await runIr(['isolate', '--hosts', inventory, '--filter', `ancestor=${IMAGE}`, '--dry-run', '--json'], {
      env,
    })
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.hosts.map((h: {host: string; status: string}) => [h.host, h.status])).toEqual([
      ['node-2', 'done'],
      ['node-1', 'done'],
    ])
    expect(
      result.containers
        .filter((c: {host: string}) => c.host === 'node-2')
        .map((c: {id: string}) => c.id)
        .sort(),
    ).toEqual(onE2.map((c) => c.id).sort())
    // Qualified by the inventory name.
    const one = await runIr(['isolate', '--hosts', inventory, `node-2/${onE2[0]!.name}`, '--dry-run', '--json'], {env})
    expect(one.exitCode, one.stderr).toBe(0)
    expect(JSON.parse(one.stdout).containers).toEqual([
      expect.objectContaining({host: 'node-2', id: onE2[0]!.id, status: 'planned'}),
    ])

    const viaEnv = await runIr(
      ['isolate', '--host', x2tls.host, '--filter', `ancestor=${IMAGE}`, '--dry-run', '--json'],
      {env: {...env, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: x2tls.dir}},
    )
    expect(viaEnv.exitCode, viaEnv.stderr).toBe(0)
    expect(JSON.parse(viaEnv.stdout).containers).toHaveLength(onE2.length)

    // Without the client certificate the engine refuses the connection: reported as unreachable, the other host still done.
    const noCert = await runIr(
      ['isolate', '--host', x2tls.host, '--host', H1, '--filter', `ancestor=${IMAGE}`, '--dry-run', '--json'],
      {env},
    )
    expect(noCert.exitCode, noCert.stderr).toBe(3)
    const noCertHosts = JSON.parse(noCert.stdout).hosts
    expect(noCertHosts.map((h: {host: string; reachable: boolean}) => [h.host, h.reachable])).toEqual([
      [H1, true],
      [x2tls.host, false],
    ])
    expect(noCertHosts[1].error.hint).toMatch(/expects TLS/)

    // A TLS context made by the docker CLI (its TLS material copied into the context store): --context,
    // DOCKER_CONTEXT, and the current context with no flag and no variable, as the docker CLI resolves them.
    const config = await tempDir('ir-dockercfg-tls-')
    const ctx = `irt-${t.runId}-tls`
    const made = await execa(
      'docker',
      [
        'context',
        'create',
        ctx,
        '--docker',
        `host=${x2tls.host},ca=${join(x2tls.dir, 'ca.pem')},cert=${join(x2tls.dir, 'cert.pem')},key=${join(x2tls.dir, 'key.pem')}`,
      ],
      {env: {DOCKER_CONFIG: config}, reject: false},
    )
    expect(made.exitCode, made.stderr).toBe(0)
    // No DOCKER_HOST (npm test sets it per engine pass): it would win over DOCKER_CONTEXT and the current context, as in the docker CLI.
    const cfg = {...env, DOCKER_CONFIG: config, DOCKER_HOST: ''}
    for (const [args, extraEnv] of [
      [['--context', ctx], {}],
      [[], {DOCKER_CONTEXT: ctx}],
    ] as const) {
      const viaCtx = await runIr(['isolate', ...args, '--filter', `ancestor=${IMAGE}`, '--dry-run', '--json'], {
        env: {...cfg, ...extraEnv},
      })
      expect(viaCtx.exitCode, viaCtx.stderr).toBe(0)
      expect(
        JSON.parse(viaCtx.stdout)
          .containers.map((c: {id: string}) => c.id)
          .sort(),
      ).toEqual(onE2.map((c) => c.id).sort())
    }
    expect(
      (await execa('docker', ['context', 'use', ctx], {env: {DOCKER_CONFIG: config}, reject: false})).exitCode,
    ).toBe(0)
    const current = await runIr(['isolate', '--filter', `ancestor=${IMAGE}`, '--dry-run', '--json'], {env: cfg})
    expect(current.exitCode, current.stderr).toBe(0)
    const cur = JSON.parse(current.stdout)
    expect(cur.hosts[0].endpoint).toBe(`tcp://127.0.0.1:${x2tls.port} (TLS)`)
    expect(cur.containers.map((c: {id: string}) => c.id).sort()).toEqual(onE2.map((c) => c.id).sort())
  })

  it('collects evidence from a selector on every host into one tree per host', async () => {
    const r = await runIr(
      ['collect', '--filter', `ancestor=${IMAGE}`, '--host', H1, '--host', H2, '--host', H3, '--case', CASE, '--json'],
      {env},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.hosts).toHaveLength(3)
    const files = (await allFiles(join(incidents, CASE, 'evidence'))).filter((f) => f.endsWith('.tar.gz'))
    for (const c of fresh) {
      const dir = [H1, H2, H3][c.engine]!.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_')
      expect(
        files.some((f) => f.includes(`/evidence/${dir}/${c.name}/collect-`)),
        c.name,
      ).toBe(true)
    }
    const manifest = JSON.parse(await readFile(join(incidents, CASE, 'manifest.json'), 'utf8')) as {
      artifacts: Array<{type: string; source?: {host?: string; engineId?: string}}>
    }
    const archives = manifest.artifacts.filter((a) => a.type === 'log-archive')
    expect(new Set(archives.map((a) => a.source?.host))).toEqual(new Set([H1, H2, H3]))
    expect(archives.every((a) => typeof a.source?.engineId === 'string' && a.source.engineId.length > 0)).toBe(true)
  })

  it('a playbook isolating across the three engines fails on a stopped one, and `ir playbook resume` finishes it', async () => {
    const PB = `CASE-HOSTS-PB-${t.runId}`
    const ids: string[] = []
    for (const [i, d] of dockers.entries())
      ids.push(await runOn(d, t.name(`pb-e${i + 1}`), {network: net, restart: i === 2}))
    const book = join(incidents, 'fleet-contain.yml')
    await writeFile(
      book,
      `name: fleet-contain\ninputs:\n  hosts: {type: string, required: true}\n  name: {type: string, required: true}\nsteps:\n  - id: isolate\n    action: isolate\n    with:\n      hosts: "\${{ inputs.hosts }}"\n      filter: "name=\${{ inputs.name }}"\n`,
    )
    await extra.stopEngine(e3)
    const first = await runIr(
      [
        'playbook',
        'run',
        book,
        '--input',
        `hosts=${H1},${H2},${H3}`,
        '--input',
        `name=${t.name('pb-e')}`,
        '--case',
        PB,
        '--yes',
        '--json',
      ],
      {env},
    )
    expect(first.exitCode, first.stderr).toBe(3)
    const j1 = JSON.parse(first.stdout)
    expect(j1.steps[0]).toMatchObject({
      id: 'isolate',
      state: 'failed',
      error: expect.objectContaining({code: 'ENGINE_UNREACHABLE'}),
    })
    expect(j1.steps[0].error.message).toContain(H3)
    for (const i of [0, 1]) expect(await state(dockers[i]!, ids[i]!)).toEqual({status: 'paused', networks: []})

    await extra.startEngine(e3)
    for (let i = 0; i < 120 && (await state(dockers[2]!, ids[2]!)).status !== 'running'; i++)
      await new Promise((r) => setTimeout(r, 500))
    const resumed = await runIr(['playbook', 'resume', PB, '--yes', '--json'], {env})
    expect(resumed.exitCode, resumed.stderr).toBe(0)
    const j2 = JSON.parse(resumed.stdout)
    expect(j2.steps[0]).toMatchObject({state: 'succeeded', attempts: 2})
    expect(await state(dockers[2]!, ids[2]!)).toEqual({status: 'paused', networks: []})
    const audit = (await readFile(join(incidents, PB, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {action: string; outcome: string; msg: string; details?: {containerId?: string}})
    // Each container was isolated exactly once: on resume the two done hosts are only found already isolated,
    // with no new evidence.
    for (const id of ids) {
      const entries = audit.filter(
        (e) => e.action === 'isolate' && e.outcome === 'success' && e.details?.containerId === id,
      )
      expect(
        entries.filter((e) => !/^Already isolated/.test(e.msg)),
        id,
      ).toHaveLength(1)
    }
    const manifest = JSON.parse(await readFile(join(incidents, PB, 'manifest.json'), 'utf8')) as {
      artifacts: Array<{type: string; source?: {containerId?: string}}>
    }
    for (const id of ids)
      expect(
        manifest.artifacts.filter((a) => a.type === 'container-inspect' && a.source?.containerId === id),
        id,
      ).toHaveLength(1)
  })
})
