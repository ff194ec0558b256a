import type {AuditResult, ContainerAudit} from '../services/audit.js'

/** One block per container: a header, how PID 1's user was read, the findings (most severe first) with their fix. */
export function renderAudit(r: AuditResult): string {
  const out: string[] = []
  if (r.containers.length === 0 && r.failed.length === 0) out.push(r.scope.all ? 'No running containers to audit.' : 'No containers to audit.')
  for (const c of r.containers) {
    out.push(...renderContainer(c), '')
  }
  for (const f of r.failed) out.push(`✗ ${f.ref}: not audited: ${f.error.message}${f.error.hint ? ` (${f.error.hint})` : ''}`)
  const t = r.totals
  out.push(`Audited ${r.containers.length} container(s): ${t.critical} critical, ${t.high} high, ${t.medium} medium, ${t.low} low, ${t.info} info.`)
  if (r.caseId) out.push(`Case ${r.caseId}: ${r.evidence ? `stored as ${r.evidence}` : 'recorded in the audit log'}.`)
  return out.join('\n').replace(/\n{3,}/g, '\n\n')
}

function renderContainer(c: ContainerAudit): string[] {
  const age = c.imageFacts.ageDays === undefined ? '' : `, ${c.imageFacts.ageDays} days old`
  const lines = [`${c.name} (${c.id.slice(0, 12)})  image ${c.image}${age}  ${c.state}  score ${c.score}/100`]
  lines.push(`  PID 1: ${pid1Line(c)}`)
  const width = Math.max(0, ...c.findings.map((f) => f.id.length))
  for (const f of c.findings) {
    lines.push(`  ${f.severity.toUpperCase().padEnd(8)}  ${f.id.padEnd(width)}  ${f.message}`)
    const pad = `  ${''.padEnd(8)}  ${''.padEnd(width)}  `
    if (f.hint.compose !== '-') lines.push(`${pad}fix (compose):    ${f.hint.compose}`)
    if (f.hint.run !== '-') lines.push(`${pad}fix (docker run): ${f.hint.run}`)
  }
  if (c.pass) lines.push('  PASS: no findings at or above low')
  return lines
}

function pid1Line(c: ContainerAudit): string {
  const p = c.pid1
  if (p.uid === undefined && !p.user) return `not determined${p.note ? ` (${p.note})` : ''}`
  const who = p.uid === undefined ? `user ${p.user}` : `uid ${p.uid}${p.uid === 0 ? ' (root)' : ''}`
  const host = p.hostUid !== undefined && p.hostUid !== p.uid ? `, host uid ${p.hostUid}` : ''
  const how = p.method === 'proc' ? `read from ${p.source}` : `from ${p.source}`
  return `${who}${host}, ${how}${p.note ? ` (${p.note})` : ''}`
}
