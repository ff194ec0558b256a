import type {VerifyResult} from '../case/verify.js'
import type {CaseDetails, CaseSummary} from '../services/cases.js'
import type {SealResult} from '../services/seal.js'
import {formatBytes} from '../util/bytes.js'
import {renderTable} from './table.js'
import {colours, marks} from '../util/colour.js'

export function renderCaseList(root: string, cases: CaseSummary[]): string {
  if (cases.length === 0) return `No cases in ${root}.`
  return renderTable(
    ['CASE', 'CREATED (UTC)', 'SEVERITY', 'ARTIFACTS', 'ISOLATED', 'AUDIT LINES', 'TITLE'],
    cases.map((c) => [
      c.id,
      c.created.replace('T', ' ').slice(0, 19),
      c.severity ?? '-',
      c.artifacts,
      c.isolated,
      c.auditHead.seq,
      c.title,
    ]),
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
        d.containment.map((r) => [
          ...(many ? [r.host ?? '-'] : []),
          `${r.name}${r.service ? ` (service ${r.service.name})` : ''}`,
          r.status,
          r.mode,
          r.isolatedAt,
          r.networkNote ? 'not cut (shared namespace)' : r.endpoints.map((e) => e.networkName).join(', ') || '-',
        ]),
      ),
    )
    out.push('')
  }
  if (d.playbookRun) {
    const r = d.playbookRun
    const done = r.steps.filter((st) => st.state === 'succeeded').length
    out.push(
      `Playbook run: ${r.playbook} (${r.mode}), ${r.status}, ${done} of ${r.steps.length} steps succeeded${r.status === 'succeeded' ? '' : ` — continue with ${r.mode === 'guided' ? `ir respond --resume --case ${c.id}` : `ir playbook resume ${c.id}`}`}`,
    )
    out.push('')
  }
  out.push(d.artifacts.length === 0 ? 'Evidence: none yet.' : 'Evidence:')
  if (d.artifacts.length > 0) {
    out.push(
      renderTable(
        ['ID', 'TYPE', 'SIZE', 'SHA-256', 'PATH'],
        d.artifacts.map((a) => [a.id, a.type, formatBytes(a.size), a.sha256.slice(0, 16), a.path]),
      ),
    )
  }
  return out.join('\n')
}

export function renderVerify(r: VerifyResult): string {
  const mark = marks(colours())
  const out: string[] = []
  const bad = r.artifacts.filter((a) => a.status !== 'ok')
  out.push(`Artifacts: ${r.artifacts.length - bad.length}/${r.artifacts.length} intact`)
  out.push(`Audit log: ${r.audit.entries} lines, chain ${r.audit.ok ? 'intact' : 'BROKEN'}`)
  if (r.problems.length > 0) {
    out.push(`Problems (${r.problems.length}):`)
    for (const p of r.problems) out.push(`  ${mark.fail} [${p.kind}] ${p.message}`)
  }
  if (r.pending.length > 0) {
    out.push(
      `Commits interrupted after the audit chain recorded them (bytes verified in .partial; the next ir command on this case completes them): ${r.pending.length}`,
    )
    for (const p of r.pending) out.push(`  · ${p}`)
  }
  if (r.partials.length > 0) {
    out.push(`Incomplete transfers kept as .partial (not evidence, not counted): ${r.partials.length}`)
    for (const p of r.partials) out.push(`  · ${p.path} (${p.size} bytes)`)
  }
  if (r.seal) {
    const s = r.seal
    out.push(
      `Seal: generation ${s.generation} (${s.dir}), ${s.files} files, sealed by ${s.signer ?? '?'} (${s.examiner ?? '?'}) at ${s.sealedAt ?? '?'}, key ${s.keyFingerprint ?? '?'}`,
    )
    out.push(
      `  signature: ${s.signature.ok ? 'valid' : 'INVALID'} against ${s.signature.against}${s.signature.trusted ? '' : " (the case's own copy: consistent, but not proof of who signed; give --allowed-signers)"}${s.signature.principal ? `, principal ${s.signature.principal}` : ''}`,
    )
    if (s.timestamp.present || s.timestamp.checked)
      out.push(
        `  timestamp (RFC 3161): ${s.timestamp.time ?? '?'}: ${s.timestamp.checked ? (s.timestamp.ok ? 'valid' : 'INVALID') : 'present'} (${s.timestamp.message})`,
      )
    if (s.afterSeal.length > 0) {
      out.push(`  after the seal (not covered by its signature): ${s.afterSeal.length} audit line(s)`)
      for (const l of s.afterSeal.slice(0, 20)) out.push(`    #${l.seq} ${l.time} ${l.action}: ${l.msg}`)
      if (s.afterSeal.length > 20) out.push(`    ... and ${s.afterSeal.length - 20} more`)
    }
    for (const p of s.changedAfterSeal) out.push(`  changed after the seal (recorded): ${p}`)
    for (const p of s.addedAfterSeal) out.push(`  added after the seal (recorded): ${p}`)
  }
  out.push(
    r.ok ? `${mark.ok} Case ${r.caseId} verified: intact.` : `${mark.fail} Case ${r.caseId} FAILED verification.`,
  )
  return out.join('\n')
}

export function renderSeal(r: SealResult): string {
  return [
    `Case ${r.caseId} sealed: generation ${r.generation}, ${r.files} files, by ${r.seal.signer} with ${r.seal.key.type} key ${r.seal.key.fingerprint} at ${r.seal.sealedAt}.`,
    `  sums:            ${r.sums}`,
    `  signature:       ${r.signature}`,
    `  allowed_signers: ${r.allowedSigners}`,
    ...(r.timestamp
      ? [`  timestamp:       ${r.timestamp.tsr} (${r.timestamp.time ?? 'time unread'}, from ${r.timestamp.tsa})`]
      : []),
    `Check: (cd ${r.dir.replace(/\/seals\/\d{4}$/, '')} && sha256sum -c seals/${String(r.generation).padStart(4, '0')}/SHA256SUMS)`,
  ].join('\n')
}
