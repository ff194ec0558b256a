import type {IsolateResult} from '../services/isolate.js'
import type {ReleaseResult} from '../services/release.js'
import {renderTable} from './table.js'

export function renderIsolate(r: IsolateResult): string {
  const out: string[] = []
  if (r.dryRun) {
    out.push('Dry run: nothing was changed. ir isolate would:')
    for (const c of r.containers) {
      if (c.status === 'failed') {
        out.push(`  ${c.ref}: cannot isolate: ${c.error?.message}`)
        continue
      }
      out.push(`  ${c.name} (${c.id?.slice(0, 12)}), now ${c.stateBefore}:`)
      for (const a of c.actions) out.push(`    - ${a}`)
      for (const w of c.warnings) out.push(`    ! ${w}`)
    }
    return out.join('\n')
  }
  out.push(
    renderTable(
      ['CONTAINER', 'ID', 'RESULT', 'STATE', 'NETWORKS CUT', 'EVIDENCE'],
      r.containers.map((c) => [
        c.name ?? c.ref,
        c.id?.slice(0, 12) ?? '-',
        c.status,
        c.stateAfter ?? '-',
        c.networkNotCut ? 'NOT CUT (shared namespace)' : c.networks.filter((n) => n.outcome !== 'failed').map((n) => n.network).join(', ') || '-',
        c.evidence.join(', ') || '-',
      ]),
    ),
  )
  for (const c of r.containers) {
    for (const w of c.warnings) out.push(`! ${c.name ?? c.ref}: ${w}`)
    if (c.error) out.push(`✗ ${c.name ?? c.ref}: ${c.error.message}${c.error.hint ? ` (${c.error.hint})` : ''}`)
  }
  if (r.caseId) out.push(`Case: ${r.caseId}. Undo with: ir release --case ${r.caseId} ${r.containers.filter((c) => c.name).map((c) => c.name).join(' ')}`)
  return out.join('\n')
}

export function renderRelease(r: ReleaseResult): string {
  const out: string[] = []
  if (r.dryRun) {
    out.push('Dry run: nothing was changed. ir release would:')
    for (const c of r.containers) {
      if (c.status === 'failed' || c.status === 'not-isolated') {
        out.push(`  ${c.name ?? c.ref}: ${c.status === 'failed' ? `cannot release: ${c.error?.message}` : 'not isolated by ir; nothing to do'}`)
        continue
      }
      out.push(`  ${c.name} (case ${c.caseId}):`)
      for (const a of c.actions) out.push(`    - ${a}`)
    }
    return out.join('\n')
  }
  out.push(
    renderTable(
      ['CONTAINER', 'CASE', 'RESULT', 'STATE', 'NETWORKS RESTORED'],
      r.containers.map((c) => [c.name ?? c.ref, c.caseId ?? '-', c.status, c.stateAfter ?? '-', c.networks.map((n) => `${n.network}${n.ipAddress ? ` (${n.ipAddress})` : ''}${n.outcome === 'failed' ? ' FAILED' : ''}`).join(', ') || '-']),
    ),
  )
  for (const c of r.containers) if (c.error) out.push(`✗ ${c.name ?? c.ref}: ${c.error.message}`)
  return out.join('\n')
}
