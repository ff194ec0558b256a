import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {createGunzip} from 'node:zlib'

import {execa} from 'execa'
import tar from 'tar-stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {filesContaining, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'
import {layerFiles, readSavedImage, skopeoCopies} from '../helpers/image-tar.js'
import {waitFor} from '../helpers/wait.js'

const t = new TestDocker('evi')
let env: Record<string, string>
let incidents: string
const CASE = `CASE-EVI-${t.runId}`
const MARK = `unique-${t.runId}`
const SECRET = `tok-${t.runId}-secretvalue`
let victim: {id: string; name: string}

interface ManifestArtifact {
  id: string
  path: string
  type: string
  sha256: string
  size: number
  meta?: Record<string, unknown>
}

async function manifest(): Promise<ManifestArtifact[]> {
  return JSON.parse(await readFile(join(incidents, CASE, 'manifest.json'), 'utf8')).artifacts
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const c of createReadStream(path)) h.update(c as Buffer)
  return h.digest('hex')
}

/** Names and (for small files) contents of a tar or tar.gz, streamed. */
async function tarMembers(path: string, gz = false): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const extract = tar.extract()
  const src = createReadStream(path)
  ;(gz ? src.pipe(createGunzip()) : src).pipe(extract)
  for await (const entry of extract) {
    const chunks: Buffer[] = []
    for await (const c of entry) chunks.push(c as Buffer)
    out.set(
      entry.header.name,
      entry.header.size && entry.header.size < 1024 * 1024 ? Buffer.concat(chunks) : Buffer.alloc(0),
    )
  }
  return out
}

beforeAll(async () => {
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  const vol = `${t.name('vol')}`
  await t.docker.createVolume({Name: vol, Labels: t.labels})
  victim = await t.run('victim', {
    cmd: [
      'sh',
      '-c',
      `echo ${MARK} > /tmp/dropped-${MARK}.sh; echo vol-${MARK} > /data/in-volume.txt; echo log-${MARK}; echo err-${MARK} >&2; exec sleep 3600`,
    ],
    env: [`API_TOKEN=${SECRET}`],
    hostConfig: {Binds: [`${vol}:/data`]},
  })
  // Its files are written before its two log lines: both in the log means all of it is there.
  await waitFor(
    async () => {
      const logs = (await t.docker.getContainer(victim.id).logs({stdout: true, stderr: true})).toString('latin1')
      return logs.includes(`log-${MARK}`) && logs.includes(`err-${MARK}`)
    },
    {what: 'the victim to write its files and log lines'},
  )
})

afterAll(async () => {
  await t.cleanup()
})

describe('ir snapshot and ir collect against the real engine', () => {
  it('commits a labelled evidence image, saves it, indexes the export, archives logs; every hash matches', async () => {
    const s = await runIr(['snapshot', victim.name, '--case', CASE, '--yes', '--volumes', '--json'], {env})
    expect(s.exitCode, s.stderr).toBe(0)
    const snap = JSON.parse(s.stdout).containers[0]
    expect(snap.status).toBe('snapshotted')
    t.trackImage(snap.image.id)

    const img = await t.docker.getImage(snap.image.id).inspect()
    expect(img.Config.Labels).toMatchObject({'ir.evidence': 'true', 'ir.case': CASE, 'ir.source.container': victim.id})
    // Podman names it under docker.io/ (or localhost/).
    expect(img.RepoTags[0]).toMatch(
      new RegExp(`^(?:docker\\.io/|localhost/)?ir-evidence/case-evi-${t.runId}:evi-${t.runId}-victim-\\d{8}T\\d{6}`),
    )
    expect(img.Config.Env).toContain('API_TOKEN=[REDACTED]')

    const c = await runIr(['collect', victim.name, '--case', CASE, '--json'], {env})
    expect(c.exitCode, c.stderr).toBe(0)

    const artifacts = await manifest()
    for (const a of artifacts) {
      expect(await sha256(join(incidents, CASE, a.path)), a.path).toBe(a.sha256)
    }
    const types = artifacts.map((a) => a.type)
    expect(types).toEqual(
      expect.arrayContaining([
        'image-tar',
        'container-diff',
        'process-list',
        'mounts',
        'mount-archive',
        'filesystem-export',
        'export-index',
        'log-archive',
      ]),
    )

    const imageTar = artifacts.find((a) => a.type === 'image-tar')!
    // Read without any engine, in whichever layout it was saved: every layer checks against its digest,
    // skopeo accepts the archive, the config is redacted, and the dropped file is in a layer.
    const saved = await readSavedImage(join(incidents, CASE, imageTar.path))
    expect(saved.layers.length).toBeGreaterThan(0)
    expect(await layerFiles(saved)).toContain(`tmp/dropped-${MARK}.sh`)
    const skopeo = await skopeoCopies(join(incidents, CASE, imageTar.path), saved.layout)
    expect(skopeo.ok, skopeo.output).toBe(true)
    expect(JSON.stringify(saved.config)).not.toContain(SECRET)
    expect(snap.image.savedId).toBe(saved.configDigest)
    expect(snap.image.layout).toBe(saved.layout)

    const index = artifacts.find((a) => a.type === 'export-index')!
    const indexLines = (await readFile(join(incidents, CASE, index.path), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const dropped = indexLines.find((l: {path: string}) => l.path === `tmp/dropped-${MARK}.sh`)
    expect(dropped).toMatchObject({
      type: 'file',
      size: MARK.length + 1,
      sha256: createHash('sha256').update(`${MARK}\n`).digest('hex'),
    })

    const diff = JSON.parse(
      await readFile(join(incidents, CASE, artifacts.find((a) => a.type === 'container-diff')!.path), 'utf8'),
    )
    expect(diff).toEqual(expect.arrayContaining([{path: `/tmp/dropped-${MARK}.sh`, kind: 'added'}]))

    const volumeArchive = await tarMembers(
      join(incidents, CASE, artifacts.find((a) => a.type === 'mount-archive')!.path),
    )
    expect(volumeArchive.get('data/in-volume.txt')?.toString()).toBe(`vol-${MARK}\n`)

    const logs = await tarMembers(join(incidents, CASE, artifacts.find((a) => a.type === 'log-archive')!.path), true)
    const stdout = [...logs.entries()].find(([n]) => n.endsWith('logs/stdout.log'))![1].toString()
    const stderr = [...logs.entries()].find(([n]) => n.endsWith('logs/stderr.log'))![1].toString()
    expect(stdout).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z log-${MARK}$`, 'm'))
    expect(stdout).not.toContain(`err-${MARK}`)
    expect(stderr).toContain(`err-${MARK}`)
    const sums = [...logs.entries()]
      .find(([n]) => n.endsWith('SHA256SUMS'))![1]
      .toString()
      .trim()
      .split('\n')
    for (const line of sums) {
      const [hash, name] = line.split(/\s+/)
      expect(createHash('sha256').update(logs.get(name!)!).digest('hex'), name).toBe(hash)
    }
    expect(sums.length).toBe(logs.size - 1)
  })

  it('holds no secret value anywhere in the case, including the saved image', async () => {
    expect(await filesContaining(join(incidents, CASE), SECRET)).toEqual([])
  })

  it('survives removing the container and its evidence image: the evidence verifies and loads back', async () => {
    const before = await manifest()
    const imageTar = before.find((a) => a.type === 'image-tar')!
    const tag = String(imageTar.meta?.tag)
    await t.docker.getContainer(victim.id).remove({force: true, v: true})
    // The host-wide `docker system prune -a -f` of the runbook is in prune.integration.test.ts, which
    // runs alone; here (beside other tests) only what this test created is removed.
    await t.docker.getImage(tag).remove({force: true})
    await expect(t.docker.getImage(tag).inspect()).rejects.toThrow()
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout).toBe(0)

    const load = await execa('docker', ['load', '-i', join(incidents, CASE, imageTar.path)], {timeout: 120_000})
    expect(load.stdout).toContain(tag)
    t.trackImage(tag)
    const out = await execa(
      'docker',
      ['run', '--rm', '--label', `ir.test.run=${t.runId}`, tag, 'cat', `/tmp/dropped-${MARK}.sh`],
      {timeout: 60_000},
    )
    expect(out.stdout.trim()).toBe(MARK)
  })

  it('records a log driver it cannot read instead of failing', async () => {
    const quiet = await t.run('nolog', {cmd: ['sleep', '3600'], hostConfig: {LogConfig: {Type: 'none', Config: {}}}})
    const r = await runIr(['collect', quiet.name, '--case', CASE, '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout).containers[0]
    expect(res).toMatchObject({logs: 'unavailable', logDriver: 'none'})
    const logs = await tarMembers(join(incidents, CASE, res.archive.path), true)
    const note = [...logs.entries()].find(([n]) => n.endsWith('logs/UNAVAILABLE.json'))![1].toString()
    expect(JSON.parse(note).logDriver).toBe('none')
  })

  it('adds new artifacts on re-run without overwriting, and lists evidence', async () => {
    const before = await manifest()
    const c = await t.run('again', {cmd: ['sleep', '3600']})
    for (let i = 0; i < 2; i++) {
      const r = await runIr(['snapshot', c.name, '--case', CASE, '--yes', '--no-export', '--json'], {env})
      expect(r.exitCode, r.stderr).toBe(0)
      t.trackImage(JSON.parse(r.stdout).containers[0].image.id)
    }
    const after = await manifest()
    expect(after.slice(0, before.length)).toEqual(before)
    expect(new Set(after.map((a) => a.path)).size).toBe(after.length)
    expect(after.filter((a) => a.type === 'image-tar').length).toBe(
      before.filter((a) => a.type === 'image-tar').length + 2,
    )
    const l = await runIr(['evidence', 'list', '--case', CASE, '--json'], {env})
    expect(l.exitCode, l.stderr).toBe(0)
    const listed = JSON.parse(l.stdout)
    expect(listed.files).toHaveLength(after.length)
    expect(listed.images.length).toBeGreaterThanOrEqual(2)
    expect((await runIr(['case', 'verify', CASE], {env})).exitCode).toBe(0)
  })
})
