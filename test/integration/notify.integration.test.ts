import {readFile, rm, writeFile} from 'node:fs/promises'
import {createServer, type IncomingMessage, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {filesContaining, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

const t = new TestDocker('ntf')
const SECRET = `planted-${t.runId}-Pa55word`
const TOKEN = `T0KEN${t.runId}xyzzy`
const QUERY = `Q${t.runId}sig`
let incidents: string
let env: Record<string, string>
let web: {id: string; name: string}

interface Hook {
  server: Server
  url: string
  bodies: unknown[]
  raw: string[]
  close: () => Promise<void>
}

/** A webhook receiver on a loopback port: answers 200 (or never, when `hang`). */
async function hook(opts: {hang?: boolean} = {}): Promise<Hook> {
  const bodies: unknown[] = []
  const raw: string[] = []
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      raw.push(`${req.method} ${req.url} ${req.headers['content-type']} ${text}`)
      bodies.push(JSON.parse(text))
      if (!opts.hang) res.writeHead(200, {'content-type': 'text/plain'}).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    server,
    url: `http://127.0.0.1:${port}/hooks/${TOKEN}?token=${QUERY}`,
    bodies,
    raw,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

async function auditLines(caseId: string): Promise<Record<string, any>[]> {
  const text = await readFile(join(incidents, caseId, 'audit.log'), 'utf8')
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, any>)
}

async function timed<T>(fn: () => Promise<T>): Promise<{value: T; ms: number}> {
  const start = performance.now()
  const value = await fn()
  return {value, ms: performance.now() - start}
}

beforeAll(async () => {
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  web = await t.run('web', {cmd: ['sleep', '3600'], env: [`PASSWORD=${SECRET}`, `DB_PASSWORD=${SECRET}`]})
})

afterAll(async () => {
  await t.cleanup()
  await rm(incidents, {recursive: true, force: true})
})

describe('webhook notifications', () => {
  it('sends one start and one end message per step of isolate + snapshot, none holding a secret, each delivery audited', async () => {
    const h = await hook()
    const CASE = `CASE-NTF-${t.runId}`
    try {
      const iso = await runIr(['isolate', web.name, '--case', CASE, '--yes', '--notify', h.url], {env})
      expect(iso.exitCode, iso.stderr).toBe(0)
      // The same webhook from the environment, as an operator would set it.
      const snap = await runIr(['snapshot', web.name, '--case', CASE, '--yes'], {env: {...env, IR_NOTIFY_URL: h.url}})
      expect(snap.exitCode, snap.stderr).toBe(0)

      const msgs = h.bodies as Record<string, any>[]
      expect(msgs.map((m) => `${m.event} ${m.step}`)).toEqual([
        'step.start isolate',
        'step.end isolate',
        'step.start snapshot',
        'step.end snapshot',
      ])
      for (const m of msgs) {
        expect(m).toMatchObject({source: 'ir', caseId: CASE})
        expect(typeof m.text).toBe('string')
        expect(Date.parse(m.time)).not.toBeNaN()
      }
      expect(msgs[1]).toMatchObject({outcome: 'success', exitCode: 0})
      expect(msgs[1]!.text).toContain(`Isolated: ${web.name}`)
      expect(msgs[1]!.lines).toEqual([
        expect.objectContaining({action: 'isolate', target: web.name, outcome: 'success'}),
      ])
      expect(msgs[3]!.text).toContain(`Snapshot of ${web.name}`)
      expect(h.raw.every((r) => r.startsWith('POST /hooks/') && r.includes('application/json'))).toBe(true)
      // No planted secret in any message.
      expect(h.raw.join('\n')).not.toContain(SECRET)

      // Each delivery is in the audit chain, without the webhook's path token or query.
      const lines = await auditLines(CASE)
      const deliveries = lines.filter((l) => l.action === 'notify.delivery')
      expect(deliveries.map((d) => `${d.details.event} ${d.details.step}`)).toEqual(
        msgs.map((m) => `${m.event} ${m.step}`),
      )
      for (const d of deliveries) {
        expect(d).toMatchObject({outcome: 'success', details: {ok: true, status: 200, attempts: 1, format: 'json'}})
        expect(d.target).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\[REDACTED\]$/)
      }
      expect(await filesContaining(join(incidents, CASE), TOKEN)).toEqual([])
      expect(await filesContaining(join(incidents, CASE), QUERY)).toEqual([])
      expect(`${iso.stderr}${iso.stdout}${snap.stderr}${snap.stdout}`).not.toContain(TOKEN)
      const v = await runIr(['case', 'verify', CASE], {env})
      expect(v.exitCode, v.stdout + v.stderr).toBe(0)
    } finally {
      await h.close()
    }
  }, 180_000)

  it('speaks Slack ({"text"}) when asked, and a playbook’s notify: key is used', async () => {
    const h = await hook()
    const CASE = `CASE-NTF-PB-${t.runId}`
    const dir = await tempDir()
    try {
      const iso = await runIr(
        ['isolate', web.name, '--case', `${CASE}-S`, '--yes', '--notify', h.url, '--notify-format', 'slack'],
        {
          env,
        },
      )
      expect(iso.exitCode, iso.stderr).toBe(0)
      expect(h.bodies).toHaveLength(2)
      expect((h.bodies[1] as {text: string}).text).toContain(web.name)
      for (const b of h.bodies) expect(Object.keys(b as object)).toEqual(['text'])
      h.bodies.length = 0
      h.raw.length = 0

      const file = join(dir, 'pb.yml')
      await writeFile(
        file,
        `name: notify-test\nnotify:\n  url: ${h.url}\n  format: json\nsteps:\n  - id: tick\n    action: note\n    with:\n      text: check the firewall\n`,
      )
      const run = await runIr(['playbook', 'run', file, '--case', CASE, '--yes'], {env})
      expect(run.exitCode, run.stderr).toBe(0)
      const msgs = h.bodies as Record<string, any>[]
      expect(msgs.map((m) => `${m.event}${m.stepId ? ` ${m.stepId}` : ''}`)).toEqual([
        'playbook.start',
        'step.start tick',
        'step.end tick',
        'playbook.end',
      ])
      expect(msgs[2]).toMatchObject({outcome: 'success', step: 'note'})
      const deliveries = (await auditLines(CASE)).filter((l) => l.action === 'notify.delivery')
      expect(deliveries).toHaveLength(4)
      expect(deliveries.every((d) => d.details.ok === true && String(d.details.from).startsWith('playbook '))).toBe(
        true,
      )
      expect(await filesContaining(join(incidents, CASE), TOKEN)).toEqual([])
    } finally {
      await h.close()
      await rm(dir, {recursive: true, force: true})
    }
  }, 120_000)

  it('an unreachable webhook (closed port, or one that never answers) slows a step by at most its timeout', async () => {
    const CASE = `CASE-NTF-DOWN-${t.runId}`
    // Isolating an isolated container is quick and idempotent: a fair step to time.
    const step = (extra: string[], e: Record<string, string> = env) =>
      timed(() => runIr(['isolate', web.name, '--case', CASE, '--yes', '--json', ...extra], {env: e}))
    await step([])
    const base = await step([])
    expect(base.value.exitCode, base.value.stderr).toBe(0)

    const refused = await step([
      '--notify',
      `http://127.0.0.1:${await closedPort()}/hooks/${TOKEN}`,
      '--notify-timeout',
      '2',
    ])
    expect(refused.value.exitCode, refused.value.stderr).toBe(0)
    expect(JSON.parse(refused.value.stdout).containers[0].status).toBe('already-isolated')
    expect(refused.value.stderr).toMatch(
      /2 of 2 notification\(s\) to http:\/\/127\.0\.0\.1:\d+\/\[REDACTED\] not delivered/,
    )

    const h = await hook({hang: true})
    let hung: Awaited<ReturnType<typeof step>>
    try {
      hung = await step(['--notify', h.url, '--notify-timeout', '2'])
    } finally {
      await h.close()
    }
    expect(hung.value.exitCode, hung.value.stderr).toBe(0)
    console.log(
      `notify: isolate (already) ${Math.round(base.ms)} ms; closed port ${Math.round(refused.ms)} ms; never answering ${Math.round(hung.ms)} ms (timeout 2000 ms)`,
    )
    // Generous bounds: the timeout (2 s) plus 1.5 s of noise on a shared machine.
    expect(refused.ms - base.ms).toBeLessThan(2000 + 1500)
    expect(hung.ms - base.ms).toBeLessThan(2000 + 1500)
    expect(h.bodies.length).toBeGreaterThan(0)

    // A mistyped webhook is a warning, never a failed response.
    const bad = await step(['--notify', `ftp://127.0.0.1/hooks/${TOKEN}`])
    expect(bad.value.exitCode, bad.value.stderr).toBe(0)
    expect(bad.value.stderr).toContain('no notifications are sent')
    expect(bad.value.stderr).not.toContain(TOKEN)

    const deliveries = (await auditLines(CASE)).filter((l) => l.action === 'notify.delivery')
    expect(deliveries).toHaveLength(4)
    const [r1, r2, h1, h2] = deliveries
    for (const d of [r1!, r2!]) {
      expect(d).toMatchObject({outcome: 'failure', details: {ok: false, attempts: 3}})
      expect(d.details.error).toMatch(/ECONNREFUSED/)
    }
    for (const d of [h1!, h2!]) {
      expect(d).toMatchObject({outcome: 'failure', details: {ok: false}})
      expect(d.details.status).toBeUndefined()
    }
    expect(await filesContaining(join(incidents, CASE), TOKEN)).toEqual([])
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout + v.stderr).toBe(0)
  }, 120_000)

  it('sends one message per hardening-audit finding', async () => {
    const h = await hook()
    const CASE = `CASE-NTF-AUD-${t.runId}`
    try {
      const r = await runIr(['audit', web.name, '--case', CASE, '--notify', h.url, '--json'], {env})
      expect([0, 9], r.stderr).toContain(r.exitCode)
      const line = (await auditLines(CASE)).find((l) => l.action === 'audit.hardening')!
      const failing = (line.details.containers as {findings: {kind?: string}[]}[]).flatMap((c) =>
        c.findings.filter((f) => f.kind === undefined),
      )
      expect(failing.length).toBeGreaterThan(0)
      const findings = (h.bodies as Record<string, any>[]).filter((m) => m.event === 'finding')
      expect(findings).toHaveLength(Math.min(25, failing.length))
      for (const f of findings)
        expect(f.finding).toMatchObject({container: expect.any(String), check: expect.any(String)})
      expect((h.bodies as Record<string, any>[]).filter((m) => m.event !== 'finding').map((m) => m.event)).toEqual([
        'step.start',
        'step.end',
      ])
      expect(h.raw.join('\n')).not.toContain(SECRET)
    } finally {
      await h.close()
    }
  }, 120_000)
})
