import type {RebuildResult} from '../services/rebuild/rebuild.js'
import type {StackRebuildResult} from '../services/rebuild/stack.js'
import {colours, marks, severityCount} from '../util/colour.js'
import {renderTable} from './table.js'

export function renderRebuild(r: RebuildResult): string {
  const c = colours()
  const mark = marks(c)
  const p = r.plan
  const out: string[] = []
  out.push(`Project ${p.project.name} (${p.project.projectDirectory}), compose ${p.composeFlavor}`)
  if (p.isolated.length > 0) {
    out.push('Isolated containers of this project; the rebuild removes each, and its processes and memory with it:')
    for (const c of p.isolated)
      out.push(
        `  ${c.name}: evidence ${c.evidence}${c.liveState === 'captured' ? ', live state captured' : c.liveState === 'missing' ? ', live state NOT captured' : ''}${c.artifacts.length ? ` (${c.artifacts.join(', ')})` : ''}`,
      )
  }
  for (const w of p.warnings) out.push(`${mark.warn} ${w}`)
  if (r.dryRun) {
    out.push('Dry run: nothing was changed. ir rebuild would run:')
    out.push(`  ${p.commands[0]}`, `  ${p.commands[1]}`)
    for (const i of p.imagesToRemove)
      out.push(
        `  remove the former image of service ${i.service} (${i.ref}${i.id ? ` ${i.id.replace('sha256:', '').slice(0, 12)}` : ''}); evidence images are never removed`,
      )
    out.push(
      `  ${p.commands[2]}`,
      '  wait until every service is healthy (or running and stable), then audit the new containers',
    )
    return out.join('\n')
  }
  out.push(
    renderTable(
      ['STEP', 'RESULT', 'TIME', 'DETAIL'],
      r.steps.map((s) => [
        s.step,
        s.ok ? (s.result === 'kept' ? c.yellow('kept') : c.green('ok')) : c.red('FAILED'),
        `${(s.durationMs / 1000).toFixed(1)} s`,
        s.error?.message ?? s.detail ?? '',
      ]),
    ),
  )
  if (r.services.length > 0) {
    out.push('')
    out.push(
      renderTable(
        ['SERVICE', 'CONTAINER', 'HEALTH', 'IMAGE BEFORE', 'IMAGE AFTER'],
        r.services.map((s) => [
          s.service,
          s.container,
          s.health,
          (r.imagesBefore[s.service] ?? '-').replace('sha256:', '').slice(0, 12),
          s.image.replace('sha256:', '').slice(0, 12),
        ]),
      ),
    )
  }
  if (r.audit)
    out.push(
      `Hardening audit: ${severityCount(c, 'critical', r.audit.totals.critical)}, ${severityCount(c, 'high', r.audit.totals.high)}, ${severityCount(c, 'medium', r.audit.totals.medium)}, ${r.audit.totals.low} low${r.audit.failing.length ? `; not passing: ${r.audit.failing.join(', ')}` : ''} (ir audit --project ${p.project.name} for details)`,
    )
  out.push(
    r.ok
      ? `${mark.ok} Rebuilt ${p.project.name}: all services up.`
      : `${mark.fail} Rebuild of ${p.project.name} did not finish healthy.`,
  )
  return out.join('\n')
}

export function renderStackRebuild(r: StackRebuildResult): string {
  const c = colours()
  const mark = marks(c)
  const p = r.plan
  const out: string[] = []
  out.push(`Stack ${p.stack} (${p.files.join(', ')}), manager ${p.manager.host}`)
  if (p.isolated.length > 0) {
    out.push('Isolated task containers of this stack:')
    for (const c of p.isolated)
      out.push(
        `  ${c.host ? `${c.host}/` : ''}${c.name}: evidence ${c.evidence}${c.artifacts.length ? ` (${c.artifacts.join(', ')})` : ''}`,
      )
  }
  for (const w of p.warnings) out.push(`! ${w}`)
  if (r.dryRun) {
    out.push('Dry run: nothing was changed. ir rebuild would run:')
    for (const c of p.commands) out.push(`  ${c.join(' ')}`)
    out.push(
      '  wait until every service of the stack has its desired running tasks on the new images; no image is removed',
    )
    return out.join('\n')
  }
  out.push(
    renderTable(
      ['STEP', 'RESULT', 'TIME', 'DETAIL'],
      r.steps.map((s) => [
        s.step,
        s.ok ? (s.result === 'kept' ? c.yellow('kept') : c.green('ok')) : c.red('FAILED'),
        `${(s.durationMs / 1000).toFixed(1)} s`,
        s.error?.message ?? s.detail ?? '',
      ]),
    ),
  )
  if (r.services.length > 0) {
    out.push('')
    const short = (id?: string): string => (id ?? '-').replace('sha256:', '').slice(0, 12)
    out.push(
      renderTable(
        ['SERVICE', 'TASKS', 'IMAGE', 'IMAGE ID (manager)', 'OK'],
        r.services.map((s) => [s.service, `${s.running}/${s.desired}`, s.image, short(s.imageId), s.ok ? 'yes' : 'NO']),
      ),
    )
  }
  out.push(
    r.ok
      ? `${mark.ok} Rebuilt stack ${p.stack}: every service runs its desired tasks.`
      : `${mark.fail} Rebuild of stack ${p.stack} did not converge.`,
  )
  return out.join('\n')
}
