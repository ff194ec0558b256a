import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {afterEach, describe, expect, it} from 'vitest'

import type {AuditLine} from '../../src/case/audit-log.js'
import {Notifier} from '../../src/services/notify/notifier.js'
import {deliver, displayUrl, inferFormat, scrubUrl} from '../../src/services/notify/webhook.js'

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

/** A receiver answering each request with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[]): Promise<{url: string; bodies: string[]}> {
  const bodies: string[] = []
  server = createServer((req, res) => {
    let b = ''
    req.on('data', (c: Buffer) => (b += c.toString()))
    req.on('end', () => {
      bodies.push(b)
      res.writeHead(statuses[Math.min(bodies.length - 1, statuses.length - 1)]!).end()
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/tok3n?sig=abc`, bodies}
}

const never = new AbortController().signal

describe('webhook delivery', () => {
  it('retries 5xx with backoff and stops at the first success', async () => {
    const r = await receiver([503, 500, 200])
    const res = await deliver(r.url, {a: 1}, {timeoutMs: 2000, retries: 2, signal: never, backoffMs: 10})
    expect(res).toMatchObject({ok: true, status: 200, attempts: 3})
    expect(r.bodies).toEqual(['{"a":1}', '{"a":1}', '{"a":1}'])
  })

  it('does not retry a 4xx other than 408/429, and gives up after the bounded retries', async () => {
    const r = await receiver([404])
    expect(await deliver(r.url, {}, {timeoutMs: 2000, retries: 2, signal: never, backoffMs: 10})).toMatchObject({
      ok: false,
      status: 404,
      attempts: 1,
      error: 'HTTP 404',
    })
    const r2 = await receiver([429])
    expect(await deliver(r2.url, {}, {timeoutMs: 2000, retries: 1, signal: never, backoffMs: 10})).toMatchObject({
      ok: false,
      status: 429,
      attempts: 2,
    })
  })

  it('never shows the path token, the query or a password of the URL', () => {
    expect(displayUrl('https://hooks.slack.com/services/T000/B000/XXXXsecret')).toBe(
      'https://hooks.slack.com/[REDACTED]',
    )
    expect(displayUrl('https://u:pw@example.org:8443/x?token=abc')).toBe('https://example.org:8443/[REDACTED]')
    expect(displayUrl('http://127.0.0.1:9/')).toBe('http://127.0.0.1:9/')
    const url = 'https://example.org/api/webhooks/123/s3cr3tTok?x=y'
    const scrubbed = scrubUrl(`request to ${url} failed (/api/webhooks/123/s3cr3tTok)`, url)
    expect(scrubbed).not.toContain('s3cr3tTok')
    expect(scrubbed).toContain('https://example.org/[REDACTED]')
    expect(inferFormat('https://hooks.slack.com/services/a/b/c')).toBe('slack')
    expect(inferFormat('https://chat.example.org/hooks/abc')).toBe('json')
  })
})

function line(partial: Partial<AuditLine>): AuditLine {
  return {
    level: 'info',
    time: new Date().toISOString(),
    seq: 2,
    prev: '0'.repeat(64),
    caseId: 'C1',
    actor: 'alice@host',
    tool: 'ir/0.1.0',
    action: 'isolate',
    outcome: 'success',
    msg: 'x',
    ...partial,
  }
}

describe('Notifier', () => {
  it('maps a step command to a start and an end message quoting its lines, redacted, in Slack shape', async () => {
    const r = await receiver([200])
    const n = new Notifier({url: r.url, format: 'slack', command: 'isolate', tool: 'ir/0.1.0', examiner: 'alice@host'})
    n.commandStarted('C1', '/tmp/C1', 'Breach; DB_PASSWORD=hunter2hunter2 leaked <here>')
    n.appended(line({action: 'evidence.add', msg: 'Evidence x recorded'}), '/tmp/C1')
    n.appended(line({msg: 'Isolated: web-1 token ghp_abcdefghijklmnopqrstuvwxyz0123456789'}), '/tmp/C1')
    n.appended(line({action: 'notify.delivery', msg: 'ignored'}), '/tmp/C1')
    n.commandEnded(0)
    const records = await n.drain()
    expect(records.map((x) => `${x.event} ${x.result.ok}`)).toEqual(['step.start true', 'step.end true'])
    const texts = r.bodies.map((b) => JSON.parse(b) as {text: string})
    expect(texts.every((t) => Object.keys(t).join() === 'text')).toBe(true)
    expect(texts[0]!.text).toContain('&lt;here&gt;')
    expect(texts[1]!.text).toContain('Isolated: web-1')
    expect(texts[1]!.text).not.toContain('Evidence x recorded')
    const all = r.bodies.join('\n')
    expect(all).not.toContain('hunter2hunter2')
    expect(all).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789')
  })

  it('a failed step command ends with failure, its exit code and its error', async () => {
    const r = await receiver([200])
    const n = new Notifier({url: r.url, command: 'snapshot', tool: 'ir', examiner: 'a@b'})
    n.commandStarted('C1', '/tmp/C1')
    n.appended(line({action: 'command.failed', outcome: 'failure', msg: 'ir snapshot failed: boom'}), '/tmp/C1')
    n.commandEnded(4, 'No container matches "web"')
    await n.drain()
    const end = JSON.parse(r.bodies[1]!) as {
      event: string
      outcome: string
      exitCode: number
      text: string
      lines: unknown[]
    }
    expect(end).toMatchObject({event: 'step.end', outcome: 'failure', exitCode: 4, lines: []})
    expect(end.text).toContain('snapshot failed (exit 4)')
    expect(end.text).toContain('No container matches "web"')
  })

  it('a playbook target is used only when no URL was given; no URL sends nothing', async () => {
    const r = await receiver([200])
    const n = new Notifier({command: 'playbook:run', tool: 'ir', examiner: 'a@b'})
    n.appended(line({action: 'playbook.start', msg: 'Playbook p started'}), '/tmp/C1')
    expect(await n.drain()).toEqual([])
    const m = new Notifier({command: 'playbook:run', tool: 'ir', examiner: 'a@b'})
    m.useTarget({url: r.url}, 'playbook p.yml')
    m.useTarget({url: 'http://127.0.0.1:1/other'}, 'playbook q.yml')
    m.appended(line({action: 'playbook.step', outcome: 'info', target: 's1', details: {action: 'note'}}), '/tmp/C1')
    m.appended(line({action: 'playbook.step', outcome: 'success', target: 's1', details: {action: 'note'}}), '/tmp/C1')
    const recs = await m.drain()
    expect(recs.map((x) => `${x.event} ${x.stepId} ${x.result.ok}`)).toEqual(['step.start s1 true', 'step.end s1 true'])
    expect(m.source).toBe('playbook p.yml')
  })

  it('drain() is bounded: a receiver that never answers costs at most the budget', async () => {
    server = createServer(() => undefined)
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/h`
    const n = new Notifier({url, command: 'snapshot', tool: 'ir', examiner: 'a@b', timeoutMs: 5000, retries: 2})
    n.commandStarted('C1', '/tmp/C1')
    n.commandEnded(0)
    const t0 = Date.now()
    const recs = await n.drain(300)
    expect(Date.now() - t0).toBeLessThan(1500)
    expect(recs.every((x) => !x.result.ok && x.result.abandoned === true)).toBe(true)
  })
})
