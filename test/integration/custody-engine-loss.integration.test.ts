import {readFile, stat} from 'node:fs/promises'
import {join, relative} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {allFiles, BIN, runIr, tempDir} from '../helpers/cli.js'
import {TEST_IMAGE, TestDocker} from '../helpers/docker.js'
import {canRunExtraEngines, type ExtraEngine, ExtraEngines} from '../helpers/engines.js'

/**
 * An engine of the test's own, killed (SIGKILL) while `ir collect` reads a container's logs: the
 * bytes already read stay in a `.partial`, ir exits 3 in one line, and the case still verifies.
 */
const available = await canRunExtraEngines()
if (!available.ok && process.env.CI === 'true')
  throw new Error(`CI=true but extra engines cannot run: ${available.reason}`)

const t = new TestDocker('loss')
const extra = new ExtraEngines()
let engine: ExtraEngine
let incidents: string
const LINE = 'ir-engine-loss-test log line 0123456789abcdefghijklmnopqrstuvwxyz'

beforeAll(async () => {
  if (!available.ok) return
  incidents = await tempDir('ir-loss-')
  engine = (await extra.start(1))[0]!
  await extra.loadImage(t.docker, TEST_IMAGE)
  const d = extra.docker(engine!)
  const c = await d.createContainer({
    Image: TEST_IMAGE,
    name: t.name('chatty'),
    Labels: t.labels,
    Cmd: ['sh', '-c', `yes '${LINE}' | head -c 200000000; touch /ready; exec sleep 3600`],
  })
  await c.start()
  for (let i = 0; i < 240; i++) {
    const r = await execa('docker', ['-H', engine!.host, 'exec', t.name('chatty'), 'test', '-f', '/ready'], {
      reject: false,
    })
    if (r.exitCode === 0) return
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error('the chatty container did not finish logging')
}, 300_000)

afterAll(async () => {
  if (!available.ok) return
  await extra.cleanup()
})

describe.skipIf(!available.ok)('the engine killed during a collect', () => {
  it('keeps the bytes read in a .partial, exits 3 in one line, and the case verifies', async () => {
    const id = `LOSS-${t.runId}`
    const env = {IR_INCIDENTS_DIR: incidents, DOCKER_HOST: engine.host}
    const caseDir = join(incidents, id)
    expect((await runIr(['case', 'create', id], {env})).exitCode).toBe(0)
    const child = execa('node', [BIN, 'collect', t.name('chatty'), '--case', id], {
      env: {...env, FORCE_COLOR: '0'},
      reject: false,
      stdin: 'ignore',
    })
    let staged: string | undefined
    const deadline = Date.now() + 120_000
    while (Date.now() < deadline && child.exitCode === null) {
      for (const f of await allFiles(join(caseDir, 'evidence'))) {
        if (
          /stdout\.log\.partial$/.test(f) &&
          (await stat(f).then(
            (s) => s.size,
            () => 0,
          )) > 5_000_000
        )
          staged = f
      }
      if (staged) break
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(staged, 'the collect was reading the logs').toBeDefined()
    engine.proc!.kill('SIGKILL')
    engine.proc = undefined
    const r = await child
    expect(r.exitCode, r.stderr).toBe(3)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    // One line says what happened (the collect's result table on stdout says it again).
    expect(r.stderr.split('\n').filter((l) => /Connection to the Docker engine lost/.test(l))).toHaveLength(1)
    expect(r.stdout).toMatch(/failed .*Connection to the Docker engine lost \(ECONNRESET\)/)

    // What was read is on disk: a prefix of the container's log, whole lines of it.
    const kept = await readFile(staged!, 'utf8')
    expect(kept.length).toBeGreaterThan(5_000_000)
    const lines = kept.split('\n').slice(0, -1)
    expect(lines.length).toBeGreaterThan(50_000)
    expect(lines.slice(0, 1000).every((l) => l.endsWith(LINE))).toBe(true)

    const v = await runIr(['case', 'verify', id, '--json'], {env: {IR_INCIDENTS_DIR: incidents}})
    expect(v.exitCode, v.stdout).toBe(0)
    const result = JSON.parse(v.stdout)
    expect(result.partials.map((p: {path: string}) => p.path)).toContain(relative(caseDir, staged!))
    const next = await runIr(['case', 'event', id, '-m', 'engine lost'], {env: {IR_INCIDENTS_DIR: incidents}})
    expect(next.exitCode).toBe(0)
    expect(next.stderr).toMatch(/incomplete transfer/)
  }, 300_000)
})
