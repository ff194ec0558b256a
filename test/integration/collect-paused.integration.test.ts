import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {createGunzip} from 'node:zlib'

import tar from 'tar-stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

const t = new TestDocker('cps')
let incidents: string
let env: Record<string, string>
const CASE = `CASE-CPS-${t.runId}`

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const c of createReadStream(path)) h.update(c as Buffer)
  return h.digest('hex')
}

/** Every member of a .tar.gz, by name without the archive's root folder. */
async function members(path: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const extract = tar.extract()
  createReadStream(path).pipe(createGunzip()).pipe(extract)
  for await (const entry of extract) {
    const chunks: Buffer[] = []
    for await (const c of entry) chunks.push(c as Buffer)
    out.set(entry.header.name.replace(/^[^/]+\//, ''), Buffer.concat(chunks))
  }
  return out
}

/** Collect one container; return its stats.json, after checking it against the case manifest and SHA256SUMS. */
async function collectStats(name: string): Promise<Record<string, unknown>> {
  const r = await runIr(['collect', name, '--case', CASE, '--json'], {env})
  expect(r.exitCode, r.stderr).toBe(0)
  const res = JSON.parse(r.stdout).containers[0]
  expect(res.entries.map((e: {name: string}) => e.name)).toContain('stats.json')

  const manifest = JSON.parse(await readFile(join(incidents, CASE, 'manifest.json'), 'utf8'))
  const artifact = manifest.artifacts.find((a: {path: string}) => a.path === res.archive.path)
  expect(artifact, 'the archive is in the case manifest').toMatchObject({type: 'log-archive'})
  expect(await sha256(join(incidents, CASE, artifact.path))).toBe(artifact.sha256)

  const files = await members(join(incidents, CASE, artifact.path))
  const stats = files.get('stats.json')
  expect(stats, 'stats.json is a member of the archive').toBeDefined()
  const sums = files.get('SHA256SUMS')!.toString()
  const line = sums.split('\n').find((l) => l.endsWith('/stats.json'))
  expect(line, 'stats.json is listed in SHA256SUMS').toBeDefined()
  expect(line!.split(/\s+/)[0]).toBe(createHash('sha256').update(stats!).digest('hex'))
  const recorded = res.entries.find((e: {name: string}) => e.name === 'stats.json')
  expect(recorded.sha256).toBe(createHash('sha256').update(stats!).digest('hex'))
  return JSON.parse(stats!.toString())
}

beforeAll(async () => {
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
})

afterAll(async () => {
  await t.cleanup()
  await rm(incidents, {recursive: true, force: true})
})

describe('ir collect: stats.json is never silently missing', () => {
  it('a paused container (as every isolated one is): the engine sample, or the reason it gave none', async () => {
    const c = await t.run('paused', {cmd: ['sleep', '3600']})
    await t.docker.getContainer(c.id).pause()
    expect((await t.inspect(c.id)).State.Status).toBe('paused')
    const stats = await collectStats(c.name)
    if ('unavailable' in stats) expect(String(stats.unavailable)).not.toBe('')
    else {
      // Docker reads a frozen cgroup's counters: a real sample, taken without unpausing.
      expect(stats).toHaveProperty('read')
      expect(stats).toHaveProperty('pids_stats')
      expect(stats).toHaveProperty('memory_stats')
    }
    expect((await t.inspect(c.id)).State.Status).toBe('paused')
  })

  it('a stopped container: stats.json says why there is no sample', async () => {
    const c = await t.run('stopped', {cmd: ['true']})
    await t.docker.getContainer(c.id).wait()
    const stats = await collectStats(c.name)
    expect(stats).toEqual({
      unavailable: 'the container is exited: the engine keeps no live statistics for it',
      state: 'exited',
    })
  })
})
