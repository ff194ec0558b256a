import type {PlaybookProblem} from '../playbook/loader.js'
import type {Journal} from '../case/journal.js'
import type {PlannedStep} from '../playbook/runner.js'
import type {CatalogEntry} from '../playbook/catalog.js'
import {renderTable} from './table.js'

export function renderProblems(problems: PlaybookProblem[]): string {
  return problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n')
}

export function renderPlan(name: string, steps: PlannedStep[]): string {
  const out = [`Plan for playbook ${name}:`]
  for (const [i, s] of steps.entries()) {
    out.push('')
    out.push(
      `${i + 1}. ${s.id} — ${s.action}${s.name ? `: ${s.name}` : ''}${s.destructive ? '  [changes things: needs approval]' : ''}${s.enabled ? '' : '  [skipped: its when condition is false]'}`,
    )
    out.push(`   ${s.description}`)
    if (s.requires.length) out.push(`   requires: ${s.requires.join(', ')}`)
    if (s.planError) out.push(`   ! cannot plan yet: ${s.planError}`)
    if (s.plan) {
      if (s.plan.containers.length) out.push(`   containers: ${s.plan.containers.join(', ')}`)
      for (const op of s.plan.operations) out.push(`   - ${op}`)
      if (s.plan.files.length) out.push(`   writes: ${s.plan.files.join(', ')}`)
    }
  }
  return out.join('\n')
}

export function renderJournal(j: Journal): string {
  const dur = (s: {startedAt?: string; endedAt?: string}): string =>
    s.startedAt && s.endedAt ? `${((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s` : ''
  return [
    renderTable(
      ['STEP', 'ACTION', 'STATE', 'TIME', 'NOTE'],
      j.steps.map((s) => [s.id, s.action, s.state, dur(s), s.error?.message ?? s.skipReason ?? '']),
    ),
    '',
    `Playbook ${j.playbook.name}: ${j.status} (case ${j.caseId}, run ${j.runId}).${j.status === 'failed' || j.status === 'interrupted' || j.status === 'stopped' ? ` Continue with: ${j.mode === 'guided' ? `ir respond --resume --case ${j.caseId}` : `ir playbook resume ${j.caseId}`}` : ''}`,
  ].join('\n')
}

export function renderCatalog(entries: CatalogEntry[]): string {
  if (entries.length === 0) return 'No playbooks found.'
  return renderTable(
    ['NAME', 'SOURCE', 'STEPS', 'VALID', 'DESCRIPTION', 'FILE'],
    entries.map((e) => [e.name, e.source, e.steps ?? '-', e.valid ? 'yes' : 'NO', e.description ?? '', e.file]),
  )
}
