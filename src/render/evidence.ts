import type {SnapshotResult} from '../services/evidence/snapshot.js'
import {renderHostOutcomes} from './containment.js'
import {formatBytes} from '../util/bytes.js'
import {type Colours, colours, marks} from '../util/colour.js'
import {renderTable} from './table.js'

export function renderArtifacts(
  artifacts: Array<{id: string; type: string; size: number; sha256: string; path: string}>,
): string {
  return renderTable(
    ['ID', 'TYPE', 'SIZE', 'SHA-256', 'PATH'],
    artifacts.map((a) => [a.id, a.type, formatBytes(a.size), a.sha256, a.path]),
  )
}

export function renderSnapshot(r: SnapshotResult): string {
  const mark = marks(colours())
  const out: string[] = []
  const many = (r.hosts?.length ?? 0) > 1
  for (const c of r.containers) {
    out.push(
      `${many && c.host ? `${c.host}/` : ''}${c.name ?? c.ref}: ${c.status}${c.service ? ` [service ${c.service}, task ${c.task}]` : ''}${c.image ? ` — evidence image ${c.image.tag} (${c.image.id.replace('sha256:', '').slice(0, 12)})` : ''}`,
    )
    if (c.image?.note) out.push(`  note: ${c.image.note}`)
    if (c.error) out.push(`  ${mark.fail} ${c.error.message}`)
    for (const f of c.failures) out.push(`  ${mark.fail} ${f.step}: ${f.error.message}`)
    for (const w of c.warnings) out.push(`  ${mark.warn} ${w}`)
    if (c.live?.status === 'captured' || c.live?.status === 'partial')
      out.push(
        `  live state: ${c.live.processes} process(es), ${c.live.sockets} socket(s), ${c.live.executables} executable(s)${c.live.memoryBytes ? `, ${formatBytes(c.live.memoryBytes)} of memory` : ''}${c.live.frozen ? ', read while frozen' : ''}`,
      )
    if (c.findings?.length) {
      const col = colours()
      out.push(`  what the evidence shows (${c.findings.length}):`)
      for (const f of c.findings.slice(0, 20)) out.push(`    ${severityLabel(col, f.severity)}  ${f.message}`)
      if (c.findings.length > 20) out.push(`    … and ${c.findings.length - 20} more in the findings file`)
    }
    if (c.export)
      out.push(
        `  export: ${c.export.entries} entries, ${c.export.files} files, ${formatBytes(c.export.bytes)}${c.export.unsafePaths ? `, ${c.export.unsafePaths} unsafe path(s) indexed, not extracted` : ''}`,
      )
    const unarchived = c.mounts.filter((m) => !m.archived)
    if (unarchived.length > 0)
      out.push(`  mounts not archived (use --volumes): ${unarchived.map((m) => m.destination).join(', ')}`)
    if (c.artifacts.length > 0) out.push(renderArtifacts(c.artifacts).replace(/^/gm, '  '))
  }
  out.push(...renderHostOutcomes(r.hosts))
  out.push(`Case: ${r.caseId}. Check it any time with: ir case verify ${r.caseId}`)
  return out.join('\n')
}

function severityLabel(c: Colours, severity: string): string {
  const text = severity.toUpperCase().padEnd(8)
  return severity === 'critical'
    ? c.bold(c.red(text))
    : severity === 'high'
      ? c.red(text)
      : severity === 'medium'
        ? c.yellow(text)
        : text
}
