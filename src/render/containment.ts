import type {HostOutcome} from '../services/fanout.js'
import type {IsolateResult} from '../services/isolate.js'
import type {ReleaseResult} from '../services/release.js'
import {type Colours, colours, marks} from '../util/colour.js'
import {renderTable} from './table.js'

/** More than one host in play: show where each container runs. */
function manyHosts(r: {hosts?: HostOutcome[]}): boolean {
  return (r.hosts?.length ?? 0) > 1
}

function qualified(c: {host?: string; name?: string; ref: string}, many: boolean): string {
  return many && c.host && c.name ? `${c.host}/${c.name}` : (c.name ?? c.ref)
}

export function renderHostOutcomes(hosts: HostOutcome[] | undefined): string[] {
  if (!hosts || (hosts.length <= 1 && hosts.every((h) => h.status === 'done'))) return []
  return [
    renderTable(
      ['HOST', 'ENGINE', 'REACHABLE', 'RESULT', 'CONTAINERS', 'ERROR'],
      hosts.map((h) => [
        h.host,
        h.engineId ? h.engineId.slice(0, 14) : '-',
        h.reachable ? 'yes' : 'no',
        h.status,
        h.targets.length,
        h.error?.message ?? '-',
      ]),
    ),
  ]
}

/** A warning line; the Docker socket one (the host itself is at stake) stands out in red. */
function warning(c: Colours, text: string): string {
  return /Docker socket/.test(text) ? c.bold(c.red(`! ${text}`)) : `${c.yellow('!')} ${text}`
}

export function renderIsolate(r: IsolateResult): string {
  const c_ = colours()
  const mark = marks(c_)
  const out: string[] = []
  const many = manyHosts(r)
  for (const s of r.services ?? []) {
    out.push(
      `Service ${s.name}: ${s.mode}${s.replicas === undefined ? '' : ` ${s.replicas} replica(s)`}, image ${s.image}, ${s.tasks} running task(s) (manager ${s.manager})${s.evidence ? `; spec recorded in ${s.evidence}` : ''}`,
    )
  }
  if (r.dryRun) {
    out.push('Dry run: nothing was changed. ir isolate would:')
    for (const c of r.containers) {
      if (c.status === 'failed') {
        out.push(`  ${c.ref}: cannot isolate: ${c.error?.message}`)
        continue
      }
      if (c.status === 'already-isolated') {
        out.push(`  ${qualified(c, many)} (${c.id?.slice(0, 12)}): already isolated; nothing to do`)
        continue
      }
      out.push(`  ${qualified(c, many)} (${c.id?.slice(0, 12)}), now ${c.stateBefore}:`)
      for (const a of c.actions) out.push(`    - ${a}`)
      for (const w of c.warnings) out.push(`    ${warning(c_, w)}`)
    }
    if (r.containers.length === 0) out.push('  nothing: no container is selected.')
    out.push(...renderHostOutcomes(r.hosts))
    return out.join('\n')
  }
  if (r.containers.length === 0) out.push('No container is selected: nothing was isolated.')
  else
    out.push(
      renderTable(
        [...(many ? ['HOST'] : []), 'CONTAINER', 'ID', 'RESULT', 'STATE', 'NETWORKS CUT', 'EVIDENCE'],
        r.containers.map((c) => [
          ...(many ? [c.host ?? '-'] : []),
          c.name ?? c.ref,
          c.id?.slice(0, 12) ?? '-',
          c.status,
          c.stateAfter ?? '-',
          c.status === 'not-contained'
            ? 'NOT contained (still networked)'
            : c.networkNotCut
              ? 'NOT CUT (shared namespace)'
              : c.networks
                  .filter((n) => n.outcome !== 'failed')
                  .map((n) => n.network)
                  .join(', ') || '-',
          c.evidence.join(', ') || '-',
        ]),
      ),
    )
  for (const c of r.containers) {
    for (const w of c.warnings) out.push(warning(c_, `${qualified(c, many)}: ${w}`))
    if (c.error)
      out.push(`${mark.fail} ${qualified(c, many)}: ${c.error.message}${c.error.hint ? ` (${c.error.hint})` : ''}`)
  }
  out.push(...renderHostOutcomes(r.hosts))
  const failedHosts = (r.hosts ?? []).filter((h) => h.status === 'failed')
  if (failedHosts.length > 0)
    out.push(
      `${failedHosts.length} host(s) not done (${failedHosts.map((h) => h.host).join(', ')}): run the same command again once they answer; hosts already done are not touched again.`,
    )
  const named = r.containers.filter((c) => c.name && c.status !== 'failed')
  if (r.caseId && named.length > 0)
    out.push(
      `Case: ${r.caseId}. Undo with: ir release --case ${r.caseId} ${named.map((c) => qualified(c, many)).join(' ')}`,
    )
  else if (r.caseId) out.push(`Case: ${r.caseId}.`)
  return out.join('\n')
}

export function renderRelease(r: ReleaseResult): string {
  const mark = marks(colours())
  const out: string[] = []
  const many = manyHosts(r)
  if (r.dryRun) {
    out.push('Dry run: nothing was changed. ir release would:')
    for (const c of r.containers) {
      if (c.status === 'failed' || c.status === 'not-isolated') {
        out.push(
          `  ${qualified(c, many)}: ${c.status === 'failed' ? `cannot release: ${c.error?.message}` : 'not isolated by ir; nothing to do'}`,
        )
        continue
      }
      out.push(`  ${qualified(c, many)} (case ${c.caseId}):`)
      for (const a of c.actions) out.push(`    - ${a}`)
    }
    out.push(...renderHostOutcomes(r.hosts))
    return out.join('\n')
  }
  out.push(
    renderTable(
      [...(many ? ['HOST'] : []), 'CONTAINER', 'CASE', 'RESULT', 'STATE', 'NETWORKS RESTORED'],
      r.containers.map((c) => [
        ...(many ? [c.host ?? '-'] : []),
        c.name ?? c.ref,
        c.caseId ?? '-',
        c.status,
        c.stateAfter ?? '-',
        c.networks
          .map((n) => `${n.network}${n.ipAddress ? ` (${n.ipAddress})` : ''}${n.outcome === 'failed' ? ' FAILED' : ''}`)
          .join(', ') || '-',
      ]),
    ),
  )
  for (const c of r.containers) if (c.error) out.push(`${mark.fail} ${qualified(c, many)}: ${c.error.message}`)
  out.push(...renderHostOutcomes(r.hosts))
  return out.join('\n')
}
