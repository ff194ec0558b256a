import type {AuditResult, ContainerAudit} from '../services/audit.js'
import type {AuditSeverity, Finding} from '../services/audit/checks.js'
import {type Colours, colours, marks, severityCount} from '../util/colour.js'

/** The view's order, most severe first; as a Record's keys, so the compiler insists on every severity. */
const SEVERITY_KEYS: Record<AuditSeverity, true> = {critical: true, high: true, medium: true, low: true, info: true}
const SEVERITY_ORDER = Object.keys(SEVERITY_KEYS) as AuditSeverity[]

interface Row {
  target: string
  f: Finding
}

/**
 * The human view: findings grouped by severity (most severe first), each with its id, CIS id and
 * level, the container (or engine) and the fix; then the containers audited, manual checks, and
 * the checks that need local access.
 */
export function renderAudit(r: AuditResult): string {
  const c = colours()
  const mark = marks(c)
  const out: string[] = []
  const bench = `${r.benchmark.name} ${r.benchmark.version}, level ${r.level === 1 ? '1' : '1 and 2'}`
  out.push(
    `Hardening audit (${bench}): ${r.containers.length} container(s)${r.engine ? `, engine ${r.engine.endpoint}${r.engine.local ? ` (dockerd ${r.engine.dockerd?.pid}, ${r.engine.dockerd?.configFile}${r.engine.dockerd?.configExists ? '' : ' absent'})` : ' (no local access)'}` : ''}`,
  )
  if (r.excluded.length) out.push(`Excluded: ${r.excluded.join(', ')}`)
  if (r.containers.length === 0 && r.failed.length === 0 && !r.engine)
    out.push(r.scope.all ? 'No containers to audit.' : 'No containers to audit.')
  out.push('')

  const rows: Row[] = []
  if (r.engine) for (const f of r.engine.findings) if ((f.kind ?? 'fail') === 'fail') rows.push({target: 'engine', f})
  for (const c of r.containers) for (const f of c.findings) rows.push({target: label(c), f})
  const width = Math.max(0, ...rows.map((x) => x.f.id.length))
  for (const sev of SEVERITY_ORDER) {
    const group = rows.filter((x) => x.f.severity === sev && (x.f.kind ?? 'fail') === 'fail')
    if (group.length === 0) continue
    out.push(severityHeading(c, sev, group.length))
    for (const {target, f} of group) {
      const cis = f.cis ? `CIS ${f.cis} L${f.level ?? 1}` : 'ir'
      out.push(`  ${f.id.padEnd(width)}  ${cis.padEnd(12)}  ${target}: ${f.message}`)
      const pad = `  ${''.padEnd(width)}  ${''.padEnd(12)}  `
      if (f.hint.compose !== '-' && f.hint.compose === f.hint.run) out.push(`${pad}fix: ${f.hint.compose}`)
      else {
        if (f.hint.compose !== '-') out.push(`${pad}fix (compose):    ${f.hint.compose}`)
        if (f.hint.run !== '-') out.push(`${pad}fix (docker run): ${f.hint.run}`)
      }
    }
    out.push('')
  }

  if (r.containers.length > 0) {
    out.push('Containers')
    for (const c of r.containers) out.push(...renderContainer(c))
    out.push('')
  }

  const manual = [
    ...(r.engine?.findings.filter((f) => f.kind === 'manual') ?? []).map((f) => ({cis: f.cis ?? '', text: f.message})),
    ...r.manual.map((m) => ({
      cis: m.cis,
      text: `${m.title}. Look at: ${m.look}${m.details?.length ? ` (${m.details.join('; ')})` : ''}`,
    })),
  ]
  if (manual.length > 0) {
    out.push('Manual checks (a person must look)')
    for (const m of manual) out.push(`  CIS ${m.cis.padEnd(5)}  ${m.text}`)
    out.push('')
  }
  const local = r.engine?.findings.filter((f) => f.kind === 'needs-local-access') ?? []
  if (local.length > 0) {
    out.push(
      `Needs local access (run ir audit on the engine's host as root): CIS ${local.map((f) => f.cis).join(', ')}`,
    )
    if (r.engine?.note) out.push(`  ${r.engine.note}`)
    out.push('')
  }
  for (const f of r.failed)
    out.push(`${mark.fail} ${f.ref}: not audited: ${f.error.message}${f.error.hint ? ` (${f.error.hint})` : ''}`)
  const t = r.totals
  out.push(
    `Audited ${r.containers.length} container(s)${r.engine ? ' and the engine' : ''}: ${severityCount(c, 'critical', t.critical)}, ${severityCount(c, 'high', t.high)}, ${severityCount(c, 'medium', t.medium)}, ${t.low} low, ${t.info} info.`,
  )
  if (r.caseId) out.push(`Case ${r.caseId}: ${r.evidence ? `stored as ${r.evidence}` : 'recorded in the audit log'}.`)
  return out.join('\n').replace(/\n{3,}/g, '\n\n')
}

function severityHeading(c: Colours, sev: string, n: number): string {
  const text = `${sev.toUpperCase()} (${n})`
  return sev === 'critical'
    ? c.bold(c.red(text))
    : sev === 'high'
      ? c.red(text)
      : sev === 'medium'
        ? c.yellow(text)
        : text
}

function label(c: ContainerAudit): string {
  const flags = [c.stopped ? 'stopped' : '', c.quarantined ? 'quarantined' : ''].filter(Boolean)
  return `${c.name}${flags.length ? ` [${flags.join(', ')}]` : ''}`
}

function renderContainer(c: ContainerAudit): string[] {
  const age = c.imageFacts.ageDays === undefined ? '' : `, ${c.imageFacts.ageDays} days old`
  const lines = [
    `  ${label(c)} (${c.id.slice(0, 12)})  image ${c.image}${age}  ${c.state}  score ${c.score}/100${c.pass ? '  PASS: no findings at or above low' : ''}`,
  ]
  lines.push(`    PID 1: ${pid1Line(c)}`)
  if (c.quarantined) lines.push(`    quarantined: ${c.quarantined.note}`)
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
