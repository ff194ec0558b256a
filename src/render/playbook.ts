import type {PlaybookProblem} from '../playbook/loader.js'
import type {Journal} from '../case/journal.js'
import type {PlannedStep} from '../playbook/runner.js'
import type {CatalogEntry} from '../playbook/catalog.js'
import type {StepResult} from '../services/respond/respond.js'
import {type Colours, colours as coloursFor, marks, severityCount, visibleLength} from '../util/colour.js'
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

/** A step's result on one line: the mark (green ✓, yellow !, red ! or ✗, dim –), the title, the outcome. */
export function renderStepResult(r: StepResult, c: Colours): string {
  const m = marks(c)
  const mark =
    r.level === 'ok'
      ? m.ok
      : r.level === 'warn'
        ? m.warn
        : r.level === 'critical'
          ? c.red('!')
          : r.level === 'failed'
            ? m.fail
            : c.dim('–')
  let outcome = r.outcome
  if (r.totals)
    outcome = outcome.replace(
      /^\d+ critical, \d+ high, \d+ medium, \d+ low/,
      (['critical', 'high', 'medium', 'low'] as const).map((s) => severityCount(c, s, r.totals![s])).join(', '),
    )
  if (r.level === 'failed') outcome = c.red(outcome)
  else if (r.level === 'skipped') outcome = c.yellow(outcome)
  const findings = (r.findings ?? []).map((f) => {
    const sev = f.severity === 'critical' ? c.bold(c.red(f.severity.padEnd(8))) : c.red(f.severity.padEnd(8))
    return `    ${sev}  ${f.container}: ${f.message}`
  })
  return [`${mark} ${c.bold(r.title)} — ${outcome}`, ...findings].join('\n')
}

const pad = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - visibleLength(text)))

/**
 * The walkthrough's summary: one line per step, by its title (never its id), its state coloured (green
 * succeeded, red failed, yellow skipped or not reached), then the playbook line and, when it did not finish,
 * the command that continues it.
 */
export function renderWalkthrough(
  j: Journal,
  titles: Record<string, string>,
  notes: Record<string, string>,
  c: Colours = coloursFor(process.stdout),
): string {
  const m = marks(c)
  const dur = (s: {startedAt?: string; endedAt?: string}): string =>
    s.startedAt && s.endedAt ? `${((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s` : ''
  const width = Math.max(...j.steps.map((s) => visibleLength(titles[s.id] ?? s.id)))
  const lines = j.steps.map((s) => {
    const state =
      s.state === 'succeeded'
        ? `${m.ok} ${c.green('done')}     `
        : s.state === 'failed'
          ? `${m.fail} ${c.red('failed')}   `
          : s.state === 'skipped'
            ? `${m.warn} ${c.yellow('skipped')}  `
            : `${c.dim('·')} ${c.yellow('not run')}  `
    const note = notes[s.id] ?? ''
    return `${state}${pad(titles[s.id] ?? s.id, width)}  ${pad(dur(s), 7)}  ${note}`.trimEnd()
  })
  const status =
    j.status === 'succeeded' ? c.green(j.status) : j.status === 'failed' ? c.red(j.status) : c.yellow(j.status)
  return [...lines, '', `Playbook ${j.playbook.name}: ${status} (case ${j.caseId}, run ${j.runId}).`].join('\n')
}
