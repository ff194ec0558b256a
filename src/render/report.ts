import {join} from 'node:path'

import type {ReportResult} from '../services/report/generate.js'
import {utc} from '../util/time.js'
import {renderTable} from './table.js'

/** The terminal view of `ir report`: what was written where, the metrics, what is still to be written. */
export function renderReportResult(r: ReportResult, caseDir: string): string {
  const out = [`Report for case ${r.caseId} (${r.status}), generated ${utc(r.generatedAt)} UTC`, '']
  out.push(
    renderTable(
      ['FORMAT', 'EVIDENCE (IN THE MANIFEST)', 'ARTIFACT', 'SHA-256', 'LATEST COPY'],
      r.files.map((f) => [f.format, f.path, f.artifactId, `${f.sha256.slice(0, 16)}…`, join(caseDir, f.latest)]),
    ),
  )
  const copies = r.files.filter((f) => f.output)
  if (copies.length > 0) out.push('', `Copied to: ${copies.map((f) => f.output).join(', ')}`)
  const m = r.metrics
  out.push(
    '',
    `Timeline: ${r.auditEntries} audit entries (${r.timelineRows} rows with responder events); evidence: ${r.evidence} artifacts, verification ${r.verificationOk ? 'intact' : 'FAILED'}`,
    `Time to contain: ${m.timeToContain?.display ?? 'not yet'}; time to recover: ${m.timeToRecover?.display ?? 'not yet'}; total: ${m.totalDuration?.display ?? 'not yet'}`,
    `Narrative: ${r.narrative.completed}/${r.narrative.total} sections written${r.narrative.missing.length ? `; to be completed: ${r.narrative.missing.join(', ')}` : ''}`,
  )
  return out.join('\n')
}
