import {describe, expect, it} from 'vitest'

import type {AuditLine} from '../../src/case/audit-log.js'
import type {CaseMeta} from '../../src/case/case-store.js'
import type {VerifyResult} from '../../src/case/verify.js'
import type {AuditEntry} from '../../src/services/report/audit-entries.js'
import {badgeFor, worstSeverity} from '../../src/services/report/badge.js'
import {buildReportModel} from '../../src/services/report/model.js'
import {renderReportHtml} from '../../src/services/report/report-html.js'
import {renderReportMarkdown} from '../../src/services/report/report-markdown.js'

import {auditEntry} from '../helpers/report-fixture.js'

const META: CaseMeta = {
  schema: 1,
  id: 'CASE-B',
  title: 'Socket mounted',
  severity: 'high',
  created: '2026-11-27T10:00:00.000Z',
  examiner: {user: 'alex', host: 'ir-box'},
  tool: {name: 'ir', version: '0.1.0'},
  auditHead: {seq: 0, hash: ''},
}
const VERIFY: VerifyResult = {
  caseId: 'CASE-B',
  ok: true,
  artifacts: [],
  unlisted: [],
  partials: [],
  pending: [],
  problems: [],
  audit: {entries: 3, ok: true, problems: [], head: {seq: 3, hash: ''}},
  verifiedAt: '2026-11-27T11:00:00.000Z',
}

function line(seq: number, action: string, extra: Partial<AuditLine>): AuditEntry {
  return auditEntry(META, seq, seq, action, extra)
}

/** A hardening audit that ran fine (outcome success) and found these severities. */
function reportWith(severities: string[]): {html: string; md: string} {
  const m = buildReportModel({
    meta: META,
    entries: [
      line(1, 'case.open', {}),
      line(2, 'rebuild', {target: 'shop', details: {project: 'shop', services: ['web']}}),
      line(3, 'audit.hardening', {
        details: {
          containers: [
            {
              name: 'web-1',
              findings: severities.map((severity, i) => ({check: `c${i}`, severity, message: `finding ${i}`})),
            },
          ],
        },
      }),
    ],
    artifacts: [],
    verification: VERIFY,
    answers: {},
    status: 'draft',
    generatedAt: '2026-11-27T11:00:00.000Z',
    generatedBy: 'alex@ir-box',
    tool: 'ir/0.1.0',
  })
  return {html: renderReportHtml(m), md: renderReportMarkdown(m)}
}

/** The HTML of the hardening-audit line and of the Recovery heading in "Actions taken". */
function parts(html: string): {audit: string; recovery: string} {
  return {
    audit: /<p>At <span class="mono">[^<]*<\/span>: \d+ containers audited[^\n]*<\/p>/.exec(html)?.[0] ?? '',
    recovery: /<h3>Recovery [^\n]*<\/h3>/.exec(html)?.[0] ?? '',
  }
}

describe('the success badge beside a finding', () => {
  it('takes the worst severity', () => {
    expect(worstSeverity(['low', 'high', 'medium'])).toBe('high')
    expect(worstSeverity(['medium', 'CRITICAL', 'high'])).toBe('critical')
    expect(worstSeverity(['info', ''])).toBeUndefined()
    expect(badgeFor('success', ['low', 'critical'])).toEqual({kind: 'severity', severity: 'critical'})
    expect(badgeFor('success', ['high'])).toEqual({kind: 'severity', severity: 'high'})
    expect(badgeFor('success', ['medium', 'low'])).toEqual({kind: 'outcome', outcome: 'success'})
    expect(badgeFor('partial', [])).toEqual({kind: 'outcome', outcome: 'partial'})
  })

  it('shows no green success beside an open critical or high finding, but the worst severity', () => {
    for (const [severities, worst] of [
      [['low', 'critical', 'high'], 'critical'],
      [['medium', 'high'], 'high'],
    ] as const) {
      const {html, md} = reportWith([...severities])
      const {audit, recovery} = parts(html)
      expect(audit).toContain(`<span class="pill sev-${worst}">${worst} finding open</span>`)
      expect(audit).not.toContain('o-success')
      expect(recovery).toContain(`sev-${worst}`)
      expect(recovery).not.toContain('o-success')
      expect(md).toContain(`${severities.length} findings (**${worst} finding open**)`)
    }
  })

  it('keeps the outcome when only medium or low findings are open', () => {
    const {html, md} = reportWith(['medium', 'low'])
    const {audit, recovery} = parts(html)
    expect(audit).toContain('<span class="pill o-success">success</span>')
    expect(recovery).toContain('o-success')
    expect(md).toContain('2 findings (success)')
  })
})
