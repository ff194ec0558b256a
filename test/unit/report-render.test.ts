import {describe, expect, it} from 'vitest'

import type {AuditLine} from '../../src/case/audit-log.js'
import type {CaseMeta} from '../../src/case/case-store.js'
import type {Artifact} from '../../src/case/manifest.js'
import {redactDeep} from '../../src/util/redact.js'
import type {VerifyResult} from '../../src/case/verify.js'
import {escapeHtml, escapeMarkdown, textBlocks} from '../../src/services/report/escape.js'
import {renderReportHtml} from '../../src/services/report/report-html.js'
import {renderReportMarkdown} from '../../src/services/report/report-markdown.js'
import {parseAnswers} from '../../src/services/report/answers.js'
import type {AuditEntry} from '../../src/services/report/audit-entries.js'
import {buildReportModel, phaseOf} from '../../src/services/report/model.js'
import {NARRATIVE_SECTIONS, type ReportAnswers, type ReportModel} from '../../src/services/report/types.js'

import {auditEntry} from '../helpers/report-fixture.js'

const EVIL = '<script>alert(1)</script> *bold*|pipe'
const IMG = '<img src=x onerror=alert(2)>'
const SHA = 'ab'.repeat(32)

const META: CaseMeta = {
  schema: 1,
  id: 'CASE-1',
  title: `Miner ${EVIL}`,
  severity: 'high',
  created: '2026-11-27T10:00:00.000Z',
  examiner: {user: 'alex', host: 'ir-box'},
  tool: {name: 'ir', version: '0.1.0'},
  auditHead: {seq: 0, hash: ''},
}

function entries(): AuditEntry[] {
  let seq = 0
  const l = (min: number, action: string, extra: Partial<AuditLine> = {}): AuditEntry =>
    auditEntry({...META, id: 'CASE-1'}, ++seq, min, action, extra)
  return [
    l(0, 'case.open'),
    l(5, 'isolate', {target: `web_${EVIL}`, msg: `Isolated: ${IMG}`}),
    l(6, 'timeline.event', {
      outcome: 'info',
      details: {at: '2026-11-27T09:50:00.000Z', message: `Alert fired ${EVIL}`},
    }),
    l(7, 'evidence.add', {target: 'web-1', details: {type: 'container-inspect'}}),
    l(8, 'evidence.add', {details: {type: 'report-md'}}),
    l(9, 'rotate.decision', {
      details: {
        name: 'DB_PASSWORD',
        kind: 'env',
        sources: ['web-1'],
        decision: 'skipped',
        reason: `vendor-owned ${EVIL}`,
      },
    }),
    l(10, 'custom.unknown', {target: 'x', msg: 'an action nobody planned for'}),
  ]
}

const ARTIFACTS: Artifact[] = [
  {
    id: 'A-0001',
    path: 'evidence/web-1/inspect.json',
    type: 'container-inspect',
    sha256: SHA,
    size: 2048,
    source: {containerName: `web_${EVIL}`, image: 'shop/web:1'},
    collectedAt: '2026-11-27T10:07:00.000Z',
    collectedBy: 'alex@ir-box',
    tool: {name: 'ir', version: '0.1.0'},
  },
]

const VERIFY: VerifyResult = {
  caseId: 'CASE-1',
  ok: true,
  artifacts: [{id: 'A-0001', path: 'evidence/web-1/inspect.json', status: 'ok', expected: SHA, actual: SHA}],
  unlisted: [],
  partials: [],
  pending: [],
  problems: [],
  audit: {entries: 7, ok: true, problems: [], head: {seq: 7, hash: ''}},
  verifiedAt: '2026-11-27T11:00:00.000Z',
}

function model(answers: ReportAnswers = {}): ReportModel {
  return buildReportModel({
    meta: META,
    entries: entries(),
    artifacts: ARTIFACTS,
    verification: VERIFY,
    answers,
    status: 'draft',
    generatedAt: '2026-11-27T11:00:00.000Z',
    generatedBy: 'alex@ir-box',
    tool: 'ir/0.1.0',
  })
}

/** Pipes that end or separate GFM table cells (not escaped with a backslash). */
function cellSeparators(row: string): number {
  return (row.match(/(?<!\\)\|/g) ?? []).length
}

describe('escaping', () => {
  it('escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<script>alert("x" & 'y')</script>`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;',
    )
    expect(escapeHtml(undefined)).toBe('')
  })

  it('escapes Markdown inline syntax, HTML and table pipes', () => {
    expect(escapeMarkdown('*bold*|pipe')).toBe('\\*bold\\*\\|pipe')
    expect(escapeMarkdown('<script>alert(1)</script>')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(escapeMarkdown('__init__ `code` [link](http://x) ~~s~~ $x$ a\\b &amp;')).toBe(
      '\\_\\_init\\_\\_ \\`code\\` \\[link\\](http://x) \\~\\~s\\~\\~ \\$x\\$ a\\\\b &amp;amp;',
    )
  })

  it('neutralises block syntax at the start of a line and flattens newlines', () => {
    expect(escapeMarkdown('# title')).toBe('\\# title')
    expect(escapeMarkdown('- item')).toBe('\\- item')
    expect(escapeMarkdown('+ item')).toBe('\\+ item')
    expect(escapeMarkdown('12. item')).toBe('12\\. item')
    expect(escapeMarkdown('> quote')).toBe('&gt; quote')
    expect(escapeMarkdown('    code')).toBe('code')
    expect(escapeMarkdown('a\nb\r\n| c')).toBe('a b \\| c')
  })

  it('splits free text into paragraphs and bullet lists', () => {
    expect(textBlocks('one\ntwo\n\n- a\n* b\n\nthree')).toEqual([
      {kind: 'p', lines: ['one', 'two']},
      {kind: 'ul', items: ['a', 'b']},
      {kind: 'p', lines: ['three']},
    ])
  })

  it('renders case text literally in the HTML report: no tag from the case survives', () => {
    const html = renderReportHtml(
      model({summary: `Summary ${EVIL}`, action_items: [{action: IMG, type: 'detect', owner: `"o'wner"`}]}),
    )
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toContain('<img')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; *bold*|pipe')
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;')
    expect(html).toContain('&quot;o&#39;wner&quot;')
    // Self-contained: no external reference of any kind.
    expect(html).not.toMatch(/(src|href)=["']?(https?:|\/\/)/i)
    expect(html).toContain("default-src 'none'")
  })

  it('renders case text literally in the Markdown report: no raw HTML, no stray table cell', () => {
    const md = renderReportMarkdown(
      model({summary: `Summary ${EVIL}`, action_items: [{action: `${IMG} | *x*`, type: 'detect'}]}),
    )
    expect(md).not.toContain('<')
    expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt; \\*bold\\*\\|pipe')
    // Every table row has exactly as many cell separators as its header.
    const lines = md.split('\n')
    for (const [i, row] of lines.entries()) {
      if (!row.startsWith('|') || lines[i - 1]?.startsWith('|')) continue
      const columns = cellSeparators(row)
      for (let j = i + 1; lines[j]?.startsWith('|'); j++) expect(cellSeparators(lines[j]!), lines[j]).toBe(columns)
    }
  })
})

describe('narrative placeholders', () => {
  it('renders every unanswered narrative section as "To be completed", never dropping it', () => {
    const m = model()
    expect(m.narrative.map((n) => n.completed)).toEqual(NARRATIVE_SECTIONS.map(() => false))
    expect(m.completion).toMatchObject({completed: 0, total: 11})
    const md = renderReportMarkdown(m)
    const html = renderReportHtml(m)
    // Ten narrative sections plus the action items.
    expect(md.match(/^_To be completed_$/gm)).toHaveLength(11)
    expect(html.match(/<p class="tbc"><em>To be completed<\/em><\/p>/g)).toHaveLength(11)
    for (const s of NARRATIVE_SECTIONS) {
      expect(md).toContain(s.title)
      expect(html).toContain(s.title)
    }
  })

  it('shows the answers given and keeps the placeholder only where none was given', () => {
    const m = model({
      summary: 'It was a miner.',
      what_went_well: '- fast isolation\n- clean evidence',
      action_items: [{action: 'Patch', type: 'prevent', owner: 'ops', due: '2026-12-01'}],
    })
    const md = renderReportMarkdown(m)
    expect(md).toContain('## 1. Summary\n\nIt was a miner.')
    expect(md).toContain('- fast isolation\n- clean evidence')
    expect(md).toContain('| 1 | Patch | prevent | ops | 2026-12-01 |')
    expect(md.match(/^_To be completed_$/gm)).toHaveLength(8)
    expect(m.completion.missing).not.toContain('Action items')
  })
})

describe('report model', () => {
  it('has one timeline row per audit entry plus responder events, and groups actions by phase', () => {
    const m = model()
    expect(m.auditEntries).toBe(7)
    expect(m.timeline.filter((r) => r.kind === 'audit').map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7])
    const responder = m.timeline.filter((r) => r.kind === 'responder')
    expect(responder).toEqual([
      expect.objectContaining({time: '2026-11-27T09:50:00.000Z', msg: `Alert fired ${EVIL}`, seq: 3}),
    ])
    // Sorted by time: the responder event happened before the case was opened.
    expect(m.timeline[0]?.kind).toBe('responder')
    expect(m.actions.find((p) => p.phase === 'containment')?.entries.map((e) => e.action)).toEqual(['isolate'])
    // Earlier report versions are not incident work.
    expect(m.actions.find((p) => p.phase === 'evidence')?.entries.map((e) => e.seq)).toEqual([4])
    expect(m.actions.find((p) => p.phase === 'eradication')?.entries.map((e) => e.action)).toEqual(['rotate.decision'])
    expect(m.timeline.map((r) => r.action)).toContain('custom.unknown')
    expect(m.credentials.skipped).toEqual([
      expect.objectContaining({name: 'DB_PASSWORD', reason: `vendor-owned ${EVIL}`}),
    ])
    expect(m.impact.containers.map((c) => c.name)).toEqual([`web_${EVIL}`])
    expect(m.evidence[0]).toMatchObject({sha256: SHA, verified: 'ok'})
  })

  it('keeps an unreadable audit line as a row', () => {
    const list = entries()
    list.splice(2, 0, {readable: false, line: 3, raw: '{broken'})
    const m = buildReportModel({
      meta: META,
      entries: list,
      artifacts: [],
      verification: VERIFY,
      answers: {},
      status: 'draft',
      generatedAt: META.created,
      generatedBy: 'x',
      tool: 'ir',
    })
    expect(m.auditEntries).toBe(8)
    expect(m.timeline.filter((r) => r.kind === 'audit')).toHaveLength(8)
    expect(m.timeline.find((r) => r.outcome === 'unreadable')?.msg).toMatch(/line 3/)
  })

  it('maps actions to phases', () => {
    expect(phaseOf({action: 'release'})).toBe('containment')
    expect(phaseOf({action: 'collect.logs'})).toBe('evidence')
    expect(phaseOf({action: 'rotate.summary'})).toBe('eradication')
    expect(phaseOf({action: 'rebuild.step'})).toBe('recovery')
    expect(phaseOf({action: 'audit.hardening'})).toBe('recovery')
    expect(phaseOf({action: 'evidence.add', details: {type: 'report-html'}})).toBeUndefined()
    expect(phaseOf({action: 'playbook.run'})).toBeUndefined()
  })

  it('is unchanged by redaction (no field is mistaken for a secret), yet redacts secrets in answers', () => {
    const m = model({
      summary: 'ok',
      action_items: [{action: 'a', type: 'mitigate'}],
      data_exposure: 'none',
      authors: ['Alex'],
    })
    expect(redactDeep(m)).toEqual(m)
    const leaked = model({summary: 'The attacker used password=hunter2 and postgres://app:s3cret@db/x'})
    const text = JSON.stringify(leaked)
    expect(text).not.toContain('hunter2')
    expect(text).not.toContain('s3cret')
    expect(renderReportMarkdown(leaked)).not.toContain('hunter2')
  })
})

describe('answers file', () => {
  it('accepts section keys with dashes or underscores, lists as bullets, and validates action items', () => {
    const a = parseAnswers(
      {
        'root-cause': 'x',
        what_went_well: ['a', 'b'],
        action_items: [{action: 'Do', type: 'Detect', due: new Date('2026-12-01T00:00:00Z')}],
        data_exposure: 'Suspected',
        authors: 'Alex',
      },
      'answers.yml',
    )
    expect(a).toEqual({
      root_cause: 'x',
      what_went_well: '- a\n- b',
      action_items: [{action: 'Do', type: 'detect', due: '2026-12-01'}],
      data_exposure: 'suspected',
      authors: ['Alex'],
    })
  })

  it('refuses unknown keys and bad values with a usage error naming them', () => {
    expect(() => parseAnswers({rootcause: 'x'}, 'a.yml')).toThrow(/unknown key\(s\) rootcause/)
    expect(() => parseAnswers({action_items: [{action: 'x', type: 'fix'}]}, 'a.yml')).toThrow(
      /type must be one of prevent, detect, mitigate/,
    )
    expect(() => parseAnswers({data_exposure: 'maybe'}, 'a.yml')).toThrow(/data_exposure must be one of/)
    expect(() => parseAnswers(['x'], 'a.yml')).toThrow(/expected a mapping/)
  })

  it('treats empty answers as not answered', () => {
    expect(parseAnswers({summary: '  ', impact: null, action_items: []}, 'a.yml')).toEqual({})
  })
})

describe('phase chart', () => {
  it('draws reached milestones on the time axis and the others as "not yet"', async () => {
    const {renderPhaseChart, ticks} = await import('../../src/services/report/report-chart.js')
    const m = model()
    const svg = renderPhaseChart(m.keyTimes, m.timeline.at(-1)?.time)
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).not.toContain('<script')
    // Contained (the isolate at +5 min) is reached; the other three are not.
    expect(svg.match(/>not yet</g)).toHaveLength(3)
    expect(svg).toContain('10:05:00<tspan class="since">  +5m 00s</tspan>')
    expect(ticks(0, 3_600_000)).toEqual([0, 600_000, 1_200_000, 1_800_000, 2_400_000, 3_000_000, 3_600_000])
    expect(ticks(500, 60_500).length).toBeGreaterThanOrEqual(5)
  })
})
