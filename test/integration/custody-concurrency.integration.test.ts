import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

/**
 * Many ir processes on one case at once: the lock (proper-lockfile) must serialise every
 * read-modify-write of the audit log, case.json and the state files, and isolate/release of one
 * container must leave the record matching the engine.
 */
const t = new TestDocker('conc')
let incidents: string
let env: Record<string, string>

beforeAll(async () => {
  incidents = await tempDir('ir-conc-')
  env = {IR_INCIDENTS_DIR: incidents}
})

afterAll(async () => {
  await t.cleanup()
})

async function auditLines(id: string): Promise<Array<{seq: number; action: string; msg: string}>> {
  const text = await readFile(join(incidents, id, 'audit.log'), 'utf8')
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l))
}

describe('200 ir case event processes in parallel on one case', () => {
  for (let trial = 1; trial <= 5; trial++) {
    it(`trial ${trial}: every event is recorded once, seq is contiguous, the case verifies`, async () => {
      const id = `CONC-${t.runId}-${trial}`
      expect((await runIr(['case', 'create', id], {env})).exitCode).toBe(0)
      const N = 200
      const runs = await Promise.all(
        Array.from({length: N}, (_, i) =>
          execa('node', [BIN, 'case', 'event', id, '-m', `parallel event ${i}`], {
            env: {...env, FORCE_COLOR: '0'},
            reject: false,
            stdin: 'ignore',
            timeout: 400_000,
          }),
        ),
      )
      const failed = runs.filter((r) => r.exitCode !== 0)
      expect(failed.map((r) => r.stderr).slice(0, 3), `${failed.length} of ${N} failed`).toEqual([])
      const lines = await auditLines(id)
      expect(lines).toHaveLength(N + 1)
      expect(lines.map((l) => l.seq)).toEqual(Array.from({length: N + 1}, (_, i) => i + 1))
      const events = lines.filter((l) => l.action === 'timeline.event').map((l) => l.msg)
      expect(new Set(events).size).toBe(N)
      const head = JSON.parse(await readFile(join(incidents, id, 'case.json'), 'utf8')).auditHead
      expect(head.seq).toBe(N + 1)
      const v = await runIr(['case', 'verify', id, '--json'], {env})
      expect(v.exitCode, v.stdout).toBe(0)
      expect(JSON.parse(v.stdout).problems).toEqual([])
    }, 600_000)
  }
})

describe('ir isolate and ir release of one container racing', () => {
  it('20 rounds: after each, the engine state matches the containment record', async () => {
    const net = await t.network('race')
    const c = await t.run('race', {cmd: ['sleep', '3600'], network: net.name})
    const id = `RACE-${t.runId}`
    expect((await runIr(['case', 'create', id], {env})).exitCode).toBe(0)
    const outcomes = {isolated: 0, released: 0}
    for (let round = 1; round <= 20; round++) {
      // Start from a known state: isolated on even rounds, running on odd ones.
      const [iso, rel] = await Promise.all([
        runIr(['isolate', c.name, '--case', id, '--yes', '--json'], {env}),
        runIr(['release', c.name, '--case', id, '--yes', '--json'], {env}),
      ])
      expect(iso.exitCode, `round ${round} isolate: ${iso.stderr}`).toBe(0)
      expect([0], `round ${round} release: ${rel.stderr}`).toContain(rel.exitCode)
      const state = JSON.parse(await readFile(join(incidents, id, 'state', 'containment.json'), 'utf8'))
      const record = state.containers[c.id] ?? Object.values(state.containers)[0]
      const inspect = await t.inspect(c.id)
      const networks = Object.keys(inspect.NetworkSettings.Networks ?? {})
      if (record.status === 'isolated') {
        outcomes.isolated++
        expect(inspect.State.Paused, `round ${round}: record isolated`).toBe(true)
        expect(networks, `round ${round}: record isolated`).not.toContain(net.name)
      } else {
        outcomes.released++
        expect(record.status).toBe('released')
        expect(inspect.State.Paused, `round ${round}: record released`).toBe(false)
        expect(inspect.State.Running).toBe(true)
        expect(networks, `round ${round}: record released`).toContain(net.name)
      }
      // Release whatever this round left, so the next round starts from a running container.
      if (record.status === 'isolated')
        expect((await runIr(['release', c.name, '--case', id, '--yes'], {env})).exitCode).toBe(0)
    }
    expect(outcomes.isolated + outcomes.released).toBe(20)
    const v = await runIr(['case', 'verify', id], {env})
    expect(v.exitCode, v.stdout).toBe(0)
  }, 900_000)
})
