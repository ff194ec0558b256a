import type {VerifyResult} from '../case/verify.js'
import type {CaseDetails, CaseSummary} from '../services/cases.js'
import {formatBytes, renderTable} from './table.js'

export function renderCaseList(root: string, cases: CaseSummary[]): string {
  if (cases.length === 0) return `No cases in ${root}.`
  return renderTable(
    ['CASE', 'CREATED (UTC)', 'SEVERITY', 'ARTIFACTS', 'ISOLATED', 'AUDIT LINES', 'TITLE'],
    cases.map((c) => [c.id, c.created.replace('T', ' ').slice(0, 19), c.severity ?? '-', c.artifacts, c.isolated, c.auditHead.seq, c.title]),
  )
}

export function renderCaseShow(d: CaseDetails): string {
  const c = d.case
  const out = [
    `Case:      ${c.id}`,
    `Title:     ${c.title}`,
    `Severity:  ${c.severity ?? '-'}`,
    `Created:   ${c.created} (UTC)`,
    `Examiner:  ${c.examiner.user}@${c.examiner.host}`,
    `Folder:    ${d.dir}`,
    `Audit:     ${c.auditHead.seq} lines, head ${c.auditHead.hash}`,
    '',
  ]
  if (d.containment.length > 0) {
    out.push('Containment:')
    const many = new Set(d.containment.map((r) => r.host ?? '')).size > 1
    out.push(
      renderTable(
        [...(many ? ['HOST'] : []), 'CONTAINER', 'STATUS', 'MODE', 'SINCE', 'NETWORKS'],
        d.containment.map((r) => [...(many ? [r.host ?? '-'] : []), `${r.name}${r.service ? ` (service ${r.service.name})` : ''}`, r.status, r.mode, r.isolatedAt, r.networkNote ? 'not cut (shared namespace)' : r.endpoints.map((e) => e.networkName).join(', ') || '-']),
      ),
    )
    out.push('')
  }
  if (d.playbookRun) {
    const r = d.playbookRun
    const done = r.steps.filter((st) => st.state === 'succeeded').length
    out.push(`Playbook run: ${r.playbook} (${r.mode}), ${r.status}, ${done} of ${r.steps.length} steps succeeded${r.status === 'succeeded' ? '' : ` — continue with ${r.mode === 'guided' ? `ir respond --resume --case ${c.id}` : `ir playbook resume ${c.id}`}`}`)
    out.push('')
  }
  out.push(d.artifacts.length === 0 ? 'Evidence: none yet.' : 'Evidence:')
  if (d.artifacts.length > 0) {
    out.push(renderTable(['ID', 'TYPE', 'SIZE', 'SHA-256', 'PATH'], d.artifacts.map((a) => [a.id, a.type, formatBytes(a.size), a.sha256.slice(0, 16), a.path])))
  }
  return out.join('\n')
}

export function renderVerify(r: VerifyResult): string {
  const out: string[] = []
  const bad = r.artifacts.filter((a) => a.status !== 'ok')
  out.push(`Artifacts: ${r.artifacts.length - bad.length}/${r.artifacts.length} intact`)
  out.push(`Audit log: ${r.audit.entries} lines, chain ${r.audit.ok ? 'intact' : 'BROKEN'}`)
  if (r.problems.length > 0) {
    out.push(`Problems (${r.problems.length}):`)
    for (const p of r.problems) out.push(`  ✗ [${p.kind}] ${p.message}`)
  }
  if (r.partials.length > 0) {
    out.push(`Incomplete transfers kept as .partial (not evidence, not counted): ${r.partials.length}`)
    for (const p of r.partials) out.push(`  · ${p.path} (${p.size} bytes)`)
  }
  out.push(r.ok ? `Case ${r.caseId} verified: intact.` : `Case ${r.caseId} FAILED verification.`)
  return out.join('\n')
}
