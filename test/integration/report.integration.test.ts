import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {filesContaining, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

/**
 * `ir report` on a case made by the real commands against the real engine: `ir case create`,
 * `ir isolate` (a real container), `ir case event`. Markdown/HTML metacharacters come from three
 * places: the container NAME (Docker allows only [a-zA-Z0-9_.-], so `__web__`, which Markdown would
 * render bold), the case title and the responder event message (`<script>alert(1)</script>` and
 * `*bold*|pipe`), and the answers file.
 */
const t = new TestDocker('rep')
const CASE = `CASE-REP-${t.runId}`
const EVIL = '<script>alert(1)</script> *bold*|pipe'
const SECRET = `hunter2-${t.runId}`
let incidents: string
let tmp: string
let env: Record<string, string>
let container: {id: string; name: string}

interface AuditLineJson {
  seq: number
  time: string
  action: string
  outcome: string
}

async function auditLines(): Promise<AuditLineJson[]> {
  const text = await readFile(join(incidents, CASE, 'audit.log'), 'utf8')
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditLineJson)
}

async function manifest(): Promise<Array<{id: string; path: string; type: string; sha256: string}>> {
  return JSON.parse(await readFile(join(incidents, CASE, 'manifest.json'), 'utf8')).artifacts
}

function section(text: string, start: string, end: string): string {
  const from = text.indexOf(start)
  expect(from, `section ${start}`).toBeGreaterThanOrEqual(0)
  return text.slice(from, text.indexOf(end, from + start.length))
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

beforeAll(async () => {
  tmp = await tempDir('ir-report-')
  incidents = join(tmp, 'incidents')
  env = {IR_INCIDENTS_DIR: incidents}
  container = await t.run('__web__', {cmd: ['sleep', '3600']})
})

afterAll(async () => {
  await t.cleanup()
})

describe('ir report on a case built by the real commands', () => {
  let linesBefore: AuditLineJson[]
  let artifactsBefore: Awaited<ReturnType<typeof manifest>>
  let md: string
  let html: string
  let model: any

  it('writes md, html and json into the case as evidence after a real isolate and a responder event', async () => {
    const create = await runIr(['case', 'create', CASE, '--title', `Miner in web ${EVIL}`, '--severity', 'high'], {env})
    expect(create.exitCode, create.stderr).toBe(0)
    const iso = await runIr(['isolate', container.name, '--case', CASE, '--yes'], {env})
    expect(iso.exitCode, iso.stderr).toBe(0)
    expect((await t.inspect(container.id)).State.Status).toBe('paused')
    const ev = await runIr(
      [
        'case',
        'event',
        CASE,
        '--at',
        new Date(Date.now() - 3_600_000).toISOString(),
        '--message',
        `Alert fired: ${EVIL}`,
      ],
      {env},
    )
    expect(ev.exitCode, ev.stderr).toBe(0)

    linesBefore = await auditLines()
    artifactsBefore = await manifest()
    expect(artifactsBefore.length).toBeGreaterThan(0)

    const answers = join(tmp, 'answers.yml')
    await writeFile(
      answers,
      [
        'summary: |',
        `  Summary with ${EVIL}`,
        `  and a leaked password=${SECRET} that must not survive.`,
        'root_cause: A vulnerable plugin.',
        'what_went_well:',
        '  - Isolation was one command',
        'data_exposure: suspected',
        'action_items:',
        `  - {action: "Block ${EVIL}", type: prevent, owner: web, due: 2026-12-15}`,
        '',
      ].join('\n'),
    )
    const r = await runIr(['report', '--case', CASE, '--answers', answers, '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.files.map((f: {format: string}) => f.format)).toEqual(['md', 'html', 'json'])
    // Saving the answers is a state change (its hash goes into the chain) before the report is made.
    const auditNow = await auditLines()
    const extra = auditNow.slice(linesBefore.length, result.auditEntries)
    expect(extra.map((l) => l.action)).toEqual(extra.map(() => 'case.state'))
    linesBefore = auditNow.slice(0, result.auditEntries)

    const after = await manifest()
    const reports = after.filter((a) => a.type.startsWith('report-'))
    expect(reports.map((a) => a.type)).toEqual(['report-md', 'report-html', 'report-json'])
    for (const a of reports) {
      expect(a.path).toMatch(/^evidence\/report\/report-\d{8}T\d{6}Z\.(md|html|json)$/)
      const bytes = await readFile(join(incidents, CASE, a.path))
      expect(sha256(bytes)).toBe(a.sha256)
      // The convenience copy at the case root is the same bytes.
      const ext = a.path.split('.').pop()!
      expect(sha256(await readFile(join(incidents, CASE, `report.${ext}`)))).toBe(a.sha256)
    }
    md = await readFile(join(incidents, CASE, 'report.md'), 'utf8')
    html = await readFile(join(incidents, CASE, 'report.html'), 'utf8')
    model = JSON.parse(await readFile(join(incidents, CASE, 'report.json'), 'utf8'))
    const audit = await auditLines()
    expect(audit.at(-1)).toMatchObject({action: 'report', outcome: 'success'})
  })

  it('has one timeline row per audit entry that existed at generation time, plus the responder event', () => {
    const n = linesBefore.length
    expect(model.auditEntries).toBe(n)
    expect(model.timeline.filter((r: {kind: string}) => r.kind === 'audit').map((r: {seq: number}) => r.seq)).toEqual(
      linesBefore.map((l) => l.seq),
    )
    expect(model.timeline.filter((r: {kind: string}) => r.kind === 'responder')).toHaveLength(1)
    const mdRows = section(md, '## 5. Timeline', '## 6.')
      .split('\n')
      .filter((l) => /^\| \d{4}-\d{2}-\d{2} /.test(l))
    expect(mdRows).toHaveLength(n + 1)
    const htmlRows = section(html, '<section id="timeline">', '</section>').match(/<tr[ >]/g) ?? []
    expect(htmlRows).toHaveLength(n + 1 + 1) // + header row
  })

  it('lists every manifest entry with its full SHA-256 in the evidence inventory, freshly verified', () => {
    const mdEvidence = section(md, '## 7. Evidence inventory', '## 8.')
    const htmlEvidence = section(html, '<section id="evidence">', '</section>')
    expect(model.evidence.map((e: {id: string}) => e.id)).toEqual(artifactsBefore.map((a) => a.id))
    for (const a of artifactsBefore) {
      expect(a.sha256).toMatch(/^[0-9a-f]{64}$/)
      expect(mdEvidence).toContain(`\`${a.sha256}\``)
      expect(htmlEvidence).toContain(a.sha256)
    }
    expect(model.verification).toMatchObject({
      ok: true,
      artifactsChecked: artifactsBefore.length,
      artifactsIntact: artifactsBefore.length,
      auditChainOk: true,
    })
    expect(htmlEvidence).toContain('Verified intact')
  })

  it('computes time to contain as the first isolate audit time minus the case creation', async () => {
    const meta = JSON.parse(await readFile(join(incidents, CASE, 'case.json'), 'utf8'))
    const firstIsolate = linesBefore.find((l) => l.action === 'isolate' && l.outcome === 'success')!
    const expected = Date.parse(firstIsolate.time) - Date.parse(meta.created)
    expect(model.keyTimes.find((k: {id: string}) => k.id === 'contained')).toMatchObject({
      at: firstIsolate.time,
      seq: firstIsolate.seq,
    })
    expect(model.metrics.timeToContain.ms).toBe(expected)
    expect(md).toContain(`| Time to contain | ${model.metrics.timeToContain.display} |`)
    expect(model.metrics.totalDuration.ms).toBe(Date.parse(linesBefore.at(-1)!.time) - Date.parse(meta.created))
    expect(model.metrics.timeToRecover).toBeUndefined()
    expect(md).toContain('| Time to recover | not yet |')
  })

  it('escapes HTML and Markdown metacharacters from the case in both files', () => {
    // Markdown: no raw HTML at all; emphasis and table syntax escaped; the container name's __ escaped.
    expect(md).not.toContain('<')
    expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt; \\*bold\\*\\|pipe')
    expect(md).toContain(`# Post-incident report: Miner in web &lt;script&gt;alert(1)&lt;/script&gt; \\*bold\\*\\|pipe`)
    expect(md).toContain(container.name.replace(/_/g, '\\_'))
    expect(md).not.toContain(container.name)
    // HTML: no script element anywhere; the text is there, escaped.
    expect(html).not.toMatch(/<script/i)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; *bold*|pipe')
    expect(html).toContain(`<h1>Miner in web &lt;script&gt;alert(1)&lt;/script&gt; *bold*|pipe</h1>`)
    expect(html).toContain('Alert fired: &lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain(container.name)
  })

  it('writes no secret value into the case, the report included', async () => {
    expect(await filesContaining(join(incidents, CASE), SECRET)).toEqual([])
    expect(md).toContain('password=\\[REDACTED\\]')
  })

  it('keeps the answers on a re-run without answers, and records a new version in the manifest', async () => {
    const again = await runIr(['report', '--case', CASE], {env})
    expect(again.exitCode, again.stderr).toBe(0)
    const m2 = JSON.parse(await readFile(join(incidents, CASE, 'report.json'), 'utf8'))
    expect(m2.narrative.find((n: {id: string}) => n.id === 'summary').text).toContain(`Summary with ${EVIL}`)
    expect(m2.narrative.find((n: {id: string}) => n.id === 'root_cause').text).toBe('A vulnerable plugin.')
    expect(m2.actionItems).toEqual([{action: `Block ${EVIL}`, type: 'prevent', owner: 'web', due: '2026-12-15'}])
    expect(m2.impact.dataExposure).toBe('suspected')
    expect(m2.narrative.find((n: {id: string}) => n.id === 'trigger').completed).toBe(false)
    const md2 = await readFile(join(incidents, CASE, 'report.md'), 'utf8')
    expect(md2).toContain('Summary with &lt;script&gt;')
    expect(md2).toContain('_To be completed_')

    const reports = (await manifest()).filter((a) => a.type === 'report-html')
    expect(reports).toHaveLength(2)
    expect(new Set(reports.map((a) => a.path)).size).toBe(2)
    for (const a of reports) expect(existsSync(join(incidents, CASE, a.path))).toBe(true)
    // The first report's own audit entries are now part of the timeline.
    expect(m2.auditEntries).toBe(linesBefore.length + 4)
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout + v.stderr).toBe(0)
  })

  it('writes only the formats asked for, and copies them with --output', async () => {
    const out = join(tmp, 'share')
    const r = await runIr(['report', '--case', CASE, '--format', 'html', '--output', out, '--status', 'reviewed'], {
      env,
    })
    expect(r.exitCode, r.stderr).toBe(0)
    const all = await manifest()
    expect(all.filter((a) => a.type === 'report-html')).toHaveLength(3)
    expect(all.filter((a) => a.type === 'report-md')).toHaveLength(2)
    const copy = await readFile(join(out, `${CASE}-report.html`), 'utf8')
    expect(copy).toContain('Reviewed')
    expect(copy).toBe(await readFile(join(incidents, CASE, 'report.html'), 'utf8'))
  })

  it('exports the timeline as Timesketch CSV and JSONL', async () => {
    const lines = await auditLines()
    const csvPath = join(tmp, 'timeline.csv')
    const c = await runIr(['case', 'timeline', CASE, '--format', 'csv', '--output', csvPath], {env})
    expect(c.exitCode, c.stderr).toBe(0)
    const csv = await readFile(csvPath, 'utf8')
    expect(
      csv.startsWith(
        'message,datetime,timestamp,timestamp_desc,seq,actor,action,target,outcome,case_id,path,artifact\r\n',
      ),
    ).toBe(true)
    // The responder message holds a pipe but no comma/quote: unquoted. Messages with commas are quoted.
    expect(csv).toContain(`Alert fired: ${EVIL},`)
    const j = await runIr(['case', 'timeline', CASE, '--format', 'jsonl'], {env})
    expect(j.exitCode, j.stderr).toBe(0)
    const events = j.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    // Audit lines and the responder event; isolate captures no live state and no export index here.
    expect(events).toHaveLength(lines.length + 1)
    expect(events.filter((e) => e.timestamp_desc === 'ir audit entry')).toHaveLength(lines.length)
    expect(events.find((e) => e.timestamp_desc === 'responder event')).toMatchObject({
      message: `Alert fired: ${EVIL}`,
      action: 'responder event',
      case_id: CASE,
    })
    for (const e of events) {
      expect(e.datetime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/)
      expect(e.timestamp).toBe(Date.parse(e.datetime) * 1000)
    }
  })

  it('refuses without --case (usage) and for an unknown case (not found), creating nothing', async () => {
    const none = await runIr(['report'], {env})
    expect(none.exitCode).toBe(2)
    expect(none.stderr).toMatch(/--case is required/)
    const unknown = await runIr(['report', '--case', 'NO-SUCH-CASE'], {env})
    expect(unknown.exitCode).toBe(4)
    expect(existsSync(join(incidents, 'NO-SUCH-CASE'))).toBe(false)
    const badAnswers = join(tmp, 'bad.yml')
    await writeFile(badAnswers, 'rootcause: typo\n')
    const bad = await runIr(['report', '--case', CASE, '--answers', badAnswers], {env})
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/unknown key\(s\) rootcause/)
  })
})
