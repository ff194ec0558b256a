import {describe, expect, it} from 'vitest'

import type {AuditLine} from '../../src/case/audit-log.js'
import type {CaseMeta} from '../../src/case/case-store.js'
import type {Artifact} from '../../src/case/manifest.js'
import type {VerifyResult} from '../../src/case/verify.js'
import {renderTable} from '../../src/render/table.js'
import {renderTimesketchCsv, renderTimesketchJsonl} from '../../src/services/report/timeline-formats.js'
import type {AuditEntry} from '../../src/services/report/audit-entries.js'
import {renderReport} from '../../src/services/report/generate.js'
import {buildReportModel} from '../../src/services/report/model.js'
import {buildTimeline, toTimesketch} from '../../src/services/report/timeline.js'
import {jsonText, neutralizeControls, terminalSafe} from '../../src/util/controls.js'

import {auditEntry} from '../helpers/report-fixture.js'

// ESC [2J (clear screen), an OSC window title ended by BEL, a CSI cursor move, 8-bit CSI, DEL, a bidi override, CR.
const HOSTILE = 'A\u001b[2J\u001b]0;pwned\u0007B\u001b[1;1H\u009b31mC\u007f\u202eD\rE'
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

const META: CaseMeta = {
  schema: 1,
  id: 'CASE-CTL',
  title: `Title ${HOSTILE}`,
  severity: 'high',
  created: '2026-11-27T10:00:00.000Z',
  examiner: {user: 'alex', host: 'ir-box'},
  tool: {name: 'ir', version: '0.1.0'},
  auditHead: {seq: 0, hash: ''},
}

function entries(): AuditEntry[] {
  let seq = 0
  const l = (min: number, action: string, extra: Partial<AuditLine> = {}): AuditEntry =>
    auditEntry(META, ++seq, min, action, extra)
  return [
    l(0, 'case.open'),
    l(2, 'isolate', {target: `web${HOSTILE}`, msg: `Isolated web${HOSTILE}`}),
    l(3, 'timeline.event', {
      outcome: 'info',
      details: {at: '2026-11-27T09:50:00.000Z', message: `Alert ${HOSTILE}`},
      msg: `Responder event: Alert ${HOSTILE}`,
    }),
    l(4, 'rotate.decision', {
      details: {
        name: `API_TOKEN${HOSTILE}`,
        kind: 'env',
        sources: [`web${HOSTILE}`],
        decision: 'skipped',
        reason: `vendor-owned ${HOSTILE}`,
      },
    }),
  ]
}

const ARTIFACTS: Artifact[] = [
  {
    id: 'A-0001',
    path: `evidence/web/inspect${HOSTILE}.json`,
    type: 'container-inspect',
    sha256: 'ab'.repeat(32),
    size: 10,
    source: {containerName: `web${HOSTILE}`, image: `shop/web:1${HOSTILE}`},
    collectedAt: '2026-11-27T10:07:00.000Z',
    collectedBy: 'alex@ir-box',
    tool: {name: 'ir', version: '0.1.0'},
  },
]
const VERIFY: VerifyResult = {
  caseId: META.id,
  ok: true,
  artifacts: [],
  unlisted: [],
  partials: [],
  pending: [],
  problems: [],
  audit: {entries: 4, ok: true, problems: [], head: {seq: 4, hash: ''}},
  verifiedAt: '2026-11-27T11:00:00.000Z',
}

const model = () =>
  buildReportModel({
    meta: META,
    entries: entries(),
    artifacts: ARTIFACTS,
    verification: VERIFY,
    answers: {summary: `We saw ${HOSTILE}`, authors: [`Alice${HOSTILE}`]},
    status: 'draft',
    generatedAt: '2026-11-27T11:00:00.000Z',
    generatedBy: 'alex@ir-box',
    tool: 'ir/0.1.0',
  })

describe('control characters from containers and responders are neutralised in every output format', () => {
  it('shows them as visible \\xNN / \\uNNNN escapes', () => {
    expect(neutralizeControls(HOSTILE)).toBe('A\\x1b[2J\\x1b]0;pwned\\x07B\\x1b[1;1H\\x9b31mC\\x7f\\u202eD\\x0dE')
    expect(neutralizeControls('a\tb\nc')).toBe('a\tb\nc')
    expect(neutralizeControls('a\tb\nc', {singleLine: true})).toBe('a\\x09b\\x0ac')
  })

  it('Markdown report: no raw control, the escapes visible, in the event, the skip reason, names, paths and answers', () => {
    const md = renderReport(model(), 'md')
    expect(md).not.toMatch(RAW_CONTROL)
    // Markdown escapes the backslash itself, so the reader sees \x1b.
    expect(md).toContain('\\\\x1b\\[2J')
    for (const where of ['Alert A', 'vendor-owned A', 'webA', 'We saw A', 'AliceA']) expect(md, where).toContain(where)
    expect(md.split('\n').filter((l) => l.includes('\\\\x07')).length).toBeGreaterThanOrEqual(5)
  })

  it('HTML report: no raw control, the escapes visible', () => {
    const html = renderReport(model(), 'html')
    expect(html).not.toMatch(RAW_CONTROL)
    expect(html).toContain('Alert A\\x1b[2J\\x1b]0;pwned\\x07B')
    expect(html).toContain('vendor-owned A\\x1b')
  })

  it('JSON report: valid JSON with the exact strings, and no raw control character in the text', () => {
    const json = renderReport(model(), 'json')
    expect(json).not.toMatch(RAW_CONTROL)
    expect(json).toContain('\\u001b[2J')
    expect(json).toContain('\\u009b')
    const back = JSON.parse(json) as {timeline: Array<{msg: string}>}
    expect(back.timeline.some((r) => r.msg === `Alert ${HOSTILE}`)).toBe(true)
  })

  it('CSV and JSONL timeline: no raw control beyond the CRLF record breaks; JSONL lines parse back exactly', () => {
    const rows = toTimesketch(buildTimeline(entries()), META.id)
    const csv = renderTimesketchCsv(rows)
    // CR and LF inside a quoted field are CSV data (RFC 4180); every other control is escaped.
    expect(csv.replace(/\r/g, '')).not.toMatch(RAW_CONTROL)
    expect(csv).toContain('"Alert A\\x1b[2J\\x1b]0;pwned\\x07B\\x1b[1;1H\\x9b31mC\\x7f\\u202eD\rE"')
    const jsonl = renderTimesketchJsonl(rows)
    expect(jsonl).not.toMatch(RAW_CONTROL)
    const parsed = jsonl
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {message: string})
    expect(parsed.some((p) => p.message === `Alert ${HOSTILE}`)).toBe(true)
  })

  it('terminal: tables and lines neutralised; only colour (SGR) survives, and only when asked', () => {
    const table = renderTable(['NAME', 'STATE'], [[`web${HOSTILE}`, 'running']])
    expect(terminalSafe(table)).not.toMatch(RAW_CONTROL)
    const coloured = `\u001b[31mcritical\u001b[39m ${HOSTILE}`
    expect(terminalSafe(coloured, true)).toBe(`\u001b[31mcritical\u001b[39m ${neutralizeControls(HOSTILE)}`)
    expect(terminalSafe(coloured, false)).not.toMatch(RAW_CONTROL)
    expect(jsonText({m: HOSTILE})).not.toMatch(RAW_CONTROL)
    expect(JSON.parse(jsonText({m: HOSTILE}))).toEqual({m: HOSTILE})
  })
})
