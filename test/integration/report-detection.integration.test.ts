import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

/**
 * The detection time the responder sets: `ir case create --detected-at` an hour before the case is
 * opened, then a real `ir isolate`; the report's time to contain is measured from that hour-old
 * detection, not from the case opening. A later `ir case event --kind detected` corrects it.
 */
const t = new TestDocker('det')
const CASE = `CASE-DET-${t.runId}`
let env: Record<string, string>
let incidents: string
let container: {id: string; name: string}

beforeAll(async () => {
  incidents = join(await tempDir('ir-det-'), 'incidents')
  env = {IR_INCIDENTS_DIR: incidents}
  container = await t.run('web', {cmd: ['sleep', '3600']})
})

afterAll(async () => {
  await t.cleanup()
})

async function report(): Promise<{model: any; md: string; html: string}> {
  const r = await runIr(['report', '--case', CASE, '--json'], {env})
  expect(r.exitCode, r.stderr).toBe(0)
  const read = (f: string): Promise<string> => readFile(join(incidents, CASE, f), 'utf8')
  return {model: JSON.parse(await read('report.json')), md: await read('report.md'), html: await read('report.html')}
}

describe('a detection time the responder sets', () => {
  const hourAgo = new Date(Date.now() - 3_600_000)
  let firstIsolate: {time: string; seq: number}

  it('ir case create --detected-at records it; the time to contain is measured from it', async () => {
    const c = await runIr(
      ['case', 'create', CASE, '--title', 'Miner', '--detected-at', hourAgo.toISOString(), '--json'],
      {env},
    )
    expect(c.exitCode, c.stderr).toBe(0)
    expect(JSON.parse(c.stdout).detectedAt).toBe(hourAgo.toISOString())
    const iso = await runIr(['isolate', container.name, '--case', CASE, '--yes'], {env})
    expect(iso.exitCode, iso.stderr).toBe(0)
    const lines = (await readFile(join(incidents, CASE, 'audit.log'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    firstIsolate = lines.find(
      (l: {action: string; outcome: string}) => l.action === 'isolate' && l.outcome === 'success',
    )
    const detectedLine = lines.find(
      (l: {action: string; details?: {kind?: string}}) =>
        l.action === 'timeline.event' && l.details?.kind === 'detected',
    )
    expect(detectedLine.details.at).toBe(hourAgo.toISOString())

    const {model, md, html} = await report()
    const expected = Date.parse(firstIsolate.time) - hourAgo.getTime()
    expect(model.metrics.timeToContain.ms).toBe(expected)
    expect(expected).toBeGreaterThan(3_600_000)
    expect(expected).toBeLessThan(3_600_000 + 120_000)
    expect(model.metrics.timeToContain.display).toMatch(/^1h 0[0-2]m \d\ds$/)
    expect(md).toContain(`| Time to contain | ${model.metrics.timeToContain.display} |`)
    expect(model.keyTimes[0]).toMatchObject({
      id: 'detected',
      at: hourAgo.toISOString(),
      seq: detectedLine.seq,
      basis: 'detection time recorded by the responder',
    })
    expect(model.keyTimes[0].open).toBeUndefined()
    // No internals in the basis, and the detection shows as such in the timeline.
    expect(html).not.toMatch(/detectedAt|case\.json/)
    expect(html).toContain('<strong>detected</strong>')
  })

  it('a later ir case event --kind detected corrects it', async () => {
    const earlier = new Date(hourAgo.getTime() - 8 * 60_000)
    const e = await runIr(['case', 'event', CASE, '--kind', 'detected', '--at', earlier.toISOString()], {env})
    expect(e.exitCode, e.stderr).toBe(0)
    expect(e.stdout).toContain(`Detection time of case ${CASE} set to ${earlier.toISOString()}`)
    const {model} = await report()
    expect(model.keyTimes[0].at).toBe(earlier.toISOString())
    expect(model.metrics.timeToContain.ms).toBe(Date.parse(firstIsolate.time) - earlier.getTime())
  })

  it('refuses a detection time in the future or not a time (usage, exit 2), creating no case', async () => {
    const future = await runIr(
      ['case', 'create', `${CASE}-F`, '--detected-at', new Date(Date.now() + 3_600_000).toISOString()],
      {env},
    )
    expect(future.exitCode).toBe(2)
    expect(future.stderr).toMatch(/^Error: The detection time .* is in the future$/m)
    const bad = await runIr(['case', 'event', CASE, '--kind', 'detected', '--at', 'yesterday'], {env})
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('Not an ISO 8601 time: "yesterday"')
    const noMsg = await runIr(['case', 'event', CASE], {env})
    expect(noMsg.exitCode).toBe(2)
    expect(noMsg.stderr).toContain('Missing required flag --message')
    const list = await runIr(['case', 'list', '--json'], {env})
    expect(JSON.stringify(JSON.parse(list.stdout))).not.toContain(`${CASE}-F`)
  })

  it('without one, the report says the case opening stands in for it', async () => {
    const other = `${CASE}-N`
    expect((await runIr(['case', 'create', other], {env})).exitCode).toBe(0)
    const r = await runIr(['report', '--case', other, '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const model = JSON.parse(await readFile(join(incidents, other, 'report.json'), 'utf8'))
    expect(model.keyTimes[0]).toMatchObject({basis: 'when the case was opened'})
    expect(model.keyTimes[0].open).toMatch(/lower bound/)
    const md = await readFile(join(incidents, other, 'report.md'), 'utf8')
    expect(md).toMatch(
      /\| Detected \| .* \| when the case was opened — \*\*open:\*\* the real detection time is not recorded/,
    )
  })
})
