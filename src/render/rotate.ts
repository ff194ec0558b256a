import {relative} from 'node:path'

import type {CredentialSource} from '../services/rotate/inventory.js'
import type {RotateResult} from '../services/rotate/rotate.js'
import {colours, marks} from '../util/colour.js'
import {renderTable} from './table.js'

function shortPath(path: string, base: string): string {
  const rel = relative(base, path)
  return rel && !rel.startsWith('..') ? rel : path
}

export function shortSource(s: CredentialSource, base: string): string {
  const at = s.file ? `${shortPath(s.file, base)}${s.line ? `:${s.line}` : ''}` : ''
  switch (s.type) {
    case 'container-env':
      return `env of ${s.container}${s.via ? ` (${s.via})` : ''}`
    case 'container-mount':
      return `mounted in ${s.container}`
    case 'swarm':
      return 'swarm'
    case 'compose-secret':
      return `${at}${s.service ? ` (${s.service})` : ''}${s.path && !s.service ? ` -> ${shortPath(s.path, base)}` : ''}`
    default:
      return `${at}${s.service ? ` (${s.service})` : ''}`
  }
}

const DECISION_TEXT = {generated: 'generated', 'marked-rotated': 'rotated elsewhere', skipped: 'skipped'} as const

export function renderRotate(r: RotateResult, opts: {listOnly?: boolean} = {}): string {
  const mark = marks(colours())
  const base = r.project.dir
  const out: string[] = []
  if (r.inventory.length === 0) {
    out.push(
      `No credentials found for ${r.project.dir}${r.project.composeFiles.length ? '' : ' (no compose file there)'}.`,
    )
  } else {
    out.push(
      renderTable(
        ['#', 'CREDENTIAL', 'KIND', 'SEEN BY COMPROMISED', 'CAN GENERATE', 'DECISION', 'WHERE'],
        r.inventory.map((i, n) => [
          n + 1,
          i.name,
          i.kind,
          i.seenByCompromised ? 'YES' : 'no',
          i.canGenerate ? 'yes' : 'no',
          i.decision ? DECISION_TEXT[i.decision] : '-',
          [...new Set(i.sources.map((s) => shortSource(s, base)))].join(', '),
        ]),
      ),
    )
    const notes = r.inventory.flatMap((i) => i.notes.map((n) => `! ${i.name}: ${n}`))
    if (notes.length) out.push('', ...notes)
  }
  if (r.containers.length) {
    out.push(
      '',
      `Containers checked: ${r.containers.map((c) => `${c.name} (${c.why}${c.service ? `, service ${c.service}` : ''})`).join(', ')}`,
    )
  }
  for (const f of r.failures) out.push(`${mark.fail} ${f.name}: ${f.message}`)
  if (r.dryRun) {
    out.push(
      '',
      r.planned.length
        ? 'Dry run: nothing was written. ir rotate would:'
        : 'Dry run: nothing was written, and no decision was given (--generate, --mark-rotated, --skip, --answers).',
    )
    for (const p of r.planned) {
      out.push(
        `  - ${p.action === 'generate' ? `generate a new ${p.name} into ${(p.files ?? []).join(', ')} (after a backup of each)` : p.action === 'mark-rotated' ? `record ${p.name} as rotated elsewhere` : `record ${p.name} as skipped: ${p.reason ?? ''}`}`,
      )
    }
    return out.join('\n')
  }
  const s = r.summary
  out.push(
    '',
    `Case ${r.caseId}: ${s.generated} generated, ${s.markedRotated} rotated elsewhere, ${s.skipped} skipped, ${s.remaining} remaining of ${s.total}.`,
  )
  if (s.remaining > 0) {
    out.push(`Remaining: ${s.remainingNames.join(', ')}`)
    if (opts.listOnly || r.left)
      out.push(
        `Continue with: ir rotate --case ${r.caseId}${r.left ? ' (resumes at the first undecided credential)' : ''}`,
      )
  }
  if (s.skippedNames.length) out.push(`Skipped (not rotated): ${s.skippedNames.join(', ')}`)
  if (s.restart.length) {
    out.push(
      `Restart to pick up the new values: ${s.restart.join(', ')}  ->  ir rebuild --case ${r.caseId}  (or: docker compose up -d --force-recreate ${s.restart.join(' ')})`,
    )
  }
  return out.join('\n')
}
