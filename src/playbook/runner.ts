import {randomBytes} from 'node:crypto'
import {hostname} from 'node:os'

import {readAuditLines} from '../case/audit-log.js'
import type {Case} from '../case/case-store.js'
import type {ComposeClient} from '../docker/compose.js'
import type {Clients} from '../docker/engine-factory.js'
import type {Engine} from '../docker/types.js'
import {AbortError, InterruptedError, normalizeError, toErrorInfo} from '../errors.js'
import {ACTION_DEFS, type Outputs, type StepContext} from './actions/index.js'
import {evaluateWhen, interpolate} from './expressions.js'
import {
  archiveJournal,
  type InputValues,
  type Journal,
  ownerAlive,
  readJournal,
  type StepJournal,
  writeJournal,
} from '../case/journal.js'
import {type LoadedPlaybook, type PlaybookProblem} from './loader.js'
import type {GateDecision, ResolvedStep, StepPlan} from './types.js'

/** Turn --input k=v into typed values, with defaults; a missing required input names its line in the file. */
export function resolveInputs(
  loaded: LoadedPlaybook,
  provided: Record<string, string>,
  inputLines: Record<string, {line: number; column: number}> = {},
): InputValues {
  const defs = loaded.playbook.inputs ?? {}
  const problems: PlaybookProblem[] = []
  for (const name of Object.keys(provided)) {
    if (!(name in defs))
      problems.push({
        file: loaded.file,
        line: 1,
        column: 1,
        message: `unknown input "${name}" (declared: ${Object.keys(defs).join(', ') || 'none'})`,
      })
  }
  const values: InputValues = {}
  for (const [name, def] of Object.entries(defs)) {
    const raw = provided[name] ?? (def.default === undefined ? undefined : String(def.default))
    const pos = inputLines[name] ?? {line: 1, column: 1}
    if (raw === undefined || raw === '') {
      if (def.required)
        problems.push({
          file: loaded.file,
          line: pos.line,
          column: pos.column,
          message: `input "${name}" is required${def.description ? ` (${def.description})` : ''}: give --input ${name}=...`,
        })
      continue
    }
    switch (def.type) {
      case 'boolean':
        values[name] = !['false', '0', 'no', ''].includes(raw.toLowerCase())
        break
      case 'number':
        if (Number.isNaN(Number(raw)))
          problems.push({
            file: loaded.file,
            line: pos.line,
            column: pos.column,
            message: `input "${name}" must be a number, got "${raw}"`,
          })
        values[name] = Number(raw)
        break
      case 'containers':
        values[name] = raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
        break
      case 'severity':
        if (!['low', 'medium', 'high', 'critical'].includes(raw))
          problems.push({
            file: loaded.file,
            line: pos.line,
            column: pos.column,
            message: `input "${name}" must be low, medium, high or critical`,
          })
        values[name] = raw
        break
      default:
        values[name] = raw
    }
  }
  if (problems.length > 0) {
    throw new AbortError(
      `Playbook inputs: ${problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('; ')}`,
      {exit: 'USAGE'},
    )
  }
  return values
}

/** Interpolate and validate every step's parameters against its action (before anything runs). */
export function resolveSteps(loaded: LoadedPlaybook, inputs: InputValues): ResolvedStep[] {
  return loaded.playbook.steps.map((step) => {
    const def = ACTION_DEFS[step.action]
    const raw = interpolate(step.with ?? {}, inputs) as Record<string, unknown>
    const parsed = def.params.safeParse(raw)
    if (!parsed.success) {
      const where = `${loaded.file}:${loaded.stepLines[step.id] ?? 1}`
      throw new AbortError(
        `Step "${step.id}" (${step.action}) at ${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'with'}: ${i.message}`).join('; ')}`,
        {exit: 'USAGE'},
      )
    }
    const params = parsed.data as Record<string, unknown>
    return {
      step,
      params,
      enabled: evaluateWhen(step.when, inputs),
      description: step.why ?? def.describe(params),
      phase: def.phase,
      destructive: def.destructive,
    }
  })
}

export interface PlannedStep {
  id: string
  action: string
  name?: string
  phase: string
  destructive: boolean
  enabled: boolean
  requires: string[]
  description: string
  plan?: StepPlan
  planError?: string
}

export async function planRun(opts: {
  loaded: LoadedPlaybook
  steps: ResolvedStep[]
  kase?: Case
  engine: () => Promise<Engine>
  compose: () => Promise<ComposeClient>
  hosts: Clients['hosts']
  cwd: string
}): Promise<PlannedStep[]> {
  const out: PlannedStep[] = []
  for (const r of opts.steps) {
    const def = ACTION_DEFS[r.step.action]
    const base = {
      id: r.step.id,
      action: r.step.action,
      ...(r.step.name ? {name: r.step.name} : {}),
      phase: r.phase,
      destructive: r.destructive,
      enabled: r.enabled,
      requires: r.step.requires ?? [],
      description: r.description,
    }
    if (!r.enabled) {
      out.push(base)
      continue
    }
    try {
      const plan = await def.plan(r.params, {
        ...(opts.kase ? {kase: opts.kase} : {}),
        engine: opts.engine,
        compose: opts.compose,
        hosts: opts.hosts,
        cwd: opts.cwd,
      })
      out.push({...base, plan})
    } catch (error) {
      out.push({...base, planError: toErrorInfo(error).message})
    }
  }
  return out
}

export interface RunHooks {
  gate?: (
    step: ResolvedStep,
    planned: () => Promise<StepPlan | undefined>,
    position: {index: number; total: number},
  ) => Promise<GateDecision>
  onStepStart?: (step: ResolvedStep, index: number, total: number) => void
  onStepEnd?: (step: ResolvedStep, journal: StepJournal) => void
}

/** What a run is given: what every step's context holds (the case, the clients, the prompts), and the playbook. */
export interface RunOptions extends Omit<StepContext, 'stepStartedAt'> {
  loaded: LoadedPlaybook
  inputs: InputValues
  mode: 'scripted' | 'guided'
  /** Continue the journal already in the case. */
  resume: boolean
  hooks?: RunHooks
}

/** What the responder reads for a step: its name; its id only when it has none (ids stay in the journal and the audit log). */
export function titleOf(r: ResolvedStep): string {
  return r.step.name ?? r.step.id
}

function parseTimeout(t: string | number | undefined): number | undefined {
  if (t === undefined) return undefined
  if (typeof t === 'number') return t * 1000
  const m = /^(\d+)(s|m|h)$/.exec(t)
  return m ? Number(m[1]) * {s: 1000, m: 60_000, h: 3_600_000}[m[2] as 's' | 'm' | 'h'] : undefined
}

/**
 * Execute a playbook step by step with a journal written atomically after every change. On resume,
 * succeeded steps are not repeated; a step found `running` (the process died mid-step) is
 * re-checked (work already finished is recognised) and otherwise run again: steps are idempotent.
 * A step whose `requires` did not succeed is skipped; a failure stops the run unless on_error: continue.
 */
export async function runPlaybook(opts: RunOptions): Promise<Journal> {
  const {kase, loaded} = opts
  const steps = resolveSteps(loaded, opts.inputs)
  const notify = loaded.playbook.notify
  if (notify !== undefined)
    opts.store.sink?.useTarget?.(typeof notify === 'string' ? {url: notify} : notify, `playbook ${loaded.file}`)
  let journal: Journal
  const existing = await readJournal(kase)
  if (opts.resume) {
    if (!existing)
      throw new AbortError(`No playbook run to resume in case ${kase.id}`, {
        exit: 'NOT_FOUND',
        hint: 'Start one with `ir playbook run`.',
      })
    if (existing.status === 'running' && ownerAlive(existing)) {
      throw new AbortError(`The run in case ${kase.id} is still going (process ${existing.owner?.pid})`, {
        exit: 'PRECONDITION',
        hint: 'Wait for it to finish or stop it (Ctrl-C) before resuming.',
      })
    }
    if (existing.playbook.sha256 !== loaded.sha256) {
      throw new AbortError(`The playbook ${loaded.file} changed since the run started (its SHA-256 differs)`, {
        exit: 'PRECONDITION',
        hint: 'Restore the playbook as it was, or start a new run in a new case.',
      })
    }
    journal = existing
    journal.owner = {pid: process.pid, host: hostname()}
    journal.status = 'running'
    delete journal.endedAt
    await kase.record({
      action: 'playbook.resume',
      target: loaded.playbook.name,
      outcome: 'info',
      msg: `Resuming playbook ${loaded.playbook.name} (run ${journal.runId})`,
      details: {runId: journal.runId, states: Object.fromEntries(journal.steps.map((s) => [s.id, s.state]))},
    })
  } else {
    if (existing && existing.status !== 'succeeded' && existing.status !== 'stopped') {
      throw new AbortError(
        `Case ${kase.id} has an unfinished playbook run (${existing.playbook.name}, ${existing.status})`,
        {exit: 'PRECONDITION', hint: `Continue it with \`ir playbook resume ${kase.id}\`, or use another case.`},
      )
    }
    if (existing) await archiveJournal(kase, existing)
    journal = {
      schema: 1,
      runId: `run-${randomBytes(4).toString('hex')}`,
      caseId: kase.id,
      playbook: {name: loaded.playbook.name, file: loaded.file, sha256: loaded.sha256},
      inputs: opts.inputs,
      mode: opts.mode,
      status: 'running',
      owner: {pid: process.pid, host: hostname()},
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      steps: steps.map((s) => ({id: s.step.id, action: s.step.action, state: 'pending', attempts: 0})),
    }
    await writeJournal(kase, journal)
    await kase.record({
      action: 'playbook.start',
      target: loaded.playbook.name,
      outcome: 'info',
      msg: `Playbook ${loaded.playbook.name} started (run ${journal.runId})`,
      details: {runId: journal.runId, file: loaded.file, sha256: loaded.sha256, inputs: opts.inputs, mode: opts.mode},
    })
  }

  const byId = new Map(journal.steps.map((s) => [s.id, s]))
  const save = (): Promise<void> => writeJournal(kase, journal)
  const stepRecord = (
    s: StepJournal,
    outcome: 'success' | 'failure' | 'skipped' | 'info',
    msg: string,
  ): Promise<unknown> =>
    kase.record({
      action: 'playbook.step',
      target: s.id,
      outcome,
      msg,
      details: {
        runId: journal.runId,
        step: s.id,
        action: s.action,
        state: s.state,
        attempts: s.attempts,
        ...(s.error ? {error: s.error} : {}),
        ...(s.skipReason ? {reason: s.skipReason} : {}),
      },
    })

  if (opts.resume) {
    // The journal is saved before its step's audit line: a kill between the two leaves a step the
    // journal calls succeeded (or skipped) with no line in the chain. Write the missing line now, once.
    const lines = await readAuditLines(kase.audit.path)
    const recorded = new Set(
      lines
        .filter(
          (l) => l.action === 'playbook.step' && (l.details as {runId?: string} | undefined)?.runId === journal.runId,
        )
        .map((l) => `${l.target}:${l.outcome}`),
    )
    for (const sj of journal.steps) {
      const outcome = sj.state === 'succeeded' ? 'success' : sj.state === 'skipped' ? 'skipped' : undefined
      if (outcome && !recorded.has(`${sj.id}:${outcome}`)) {
        await stepRecord(
          sj,
          outcome,
          `Step ${sj.id} (${sj.action}) ${sj.state} (recorded on resume: ir was stopped before it wrote this line)`,
        )
      }
    }
  }

  let stopped = false
  for (const [index, r] of steps.entries()) {
    const sj = byId.get(r.step.id)
    if (!sj) throw new AbortError(`The journal has no step "${r.step.id}"`, {exit: 'PRECONDITION'})
    if (sj.state === 'succeeded' || sj.state === 'skipped') continue
    if (opts.signal.aborted) break
    const def = ACTION_DEFS[r.step.action]
    if (!r.enabled) {
      Object.assign(sj, {
        state: 'skipped',
        skipReason: 'its `when` condition is false',
        endedAt: new Date().toISOString(),
      })
      await save()
      await stepRecord(sj, 'skipped', `Step ${sj.id} skipped: when is false`)
      continue
    }
    const unmet = (r.step.requires ?? []).filter((id) => byId.get(id)?.state !== 'succeeded')
    if (unmet.length > 0) {
      Object.assign(sj, {
        state: 'skipped',
        skipReason: `requires ${unmet.map((u) => `${u} (${byId.get(u)?.state ?? 'unknown'})`).join(', ')}`,
        endedAt: new Date().toISOString(),
      })
      await save()
      await stepRecord(sj, 'skipped', `Step ${sj.id} skipped: it requires ${unmet.join(', ')}, which did not succeed`)
      if (opts.hooks?.onStepEnd) opts.hooks.onStepEnd(r, sj)
      else opts.progress(`- ${titleOf(r)}: skipped (${sj.skipReason})`)
      continue
    }
    const wasRunning = sj.state === 'running'
    if (opts.hooks?.gate && !wasRunning) {
      const decision = await opts.hooks.gate(
        r,
        async () =>
          def
            .plan(r.params, {
              kase,
              engine: opts.engine,
              compose: opts.compose,
              hosts: opts.hosts,
              cwd: opts.cwd,
            })
            .catch(() => undefined),
        {index, total: steps.length},
      )
      if (decision.decision === 'skip') {
        Object.assign(sj, {
          state: 'skipped',
          skipReason: `skipped by the responder: ${decision.reason}`,
          endedAt: new Date().toISOString(),
        })
        await save()
        await stepRecord(sj, 'skipped', `Step ${sj.id} skipped by the responder: ${decision.reason}`)
        opts.hooks?.onStepEnd?.(r, sj)
        continue
      }
      if (decision.decision === 'stop') {
        stopped = true
        break
      }
    }
    opts.hooks?.onStepStart?.(r, index, steps.length)
    // The step's name, as the responder reads it; its id only when it has none (ids stay in the journal and the audit log).
    opts.progress(
      `▶ [${index + 1}/${steps.length}] ${titleOf(r)}${wasRunning ? ' — resuming a step that was interrupted' : ''}`,
    )
    const startedAt = wasRunning && sj.startedAt ? sj.startedAt : new Date().toISOString()
    Object.assign(sj, {state: 'running', startedAt, attempts: sj.attempts + (wasRunning ? 0 : 1)})
    delete sj.error
    await save()
    if (!wasRunning) await stepRecord(sj, 'info', `Step ${sj.id} (${sj.action}) started`)

    const timeoutMs = parseTimeout(r.step.timeout)
    const signals = [opts.signal, ...(timeoutMs ? [AbortSignal.timeout(timeoutMs)] : [])]
    const signal = AbortSignal.any(signals)
    const ctx = {
      kase,
      store: opts.store,
      engine: opts.engine,
      compose: opts.compose,
      hosts: opts.hosts,
      cwd: opts.cwd,
      yes: opts.yes,
      human: opts.human,
      signal,
      progress: opts.progress,
      ...(opts.fold ? {fold: opts.fold} : {}),
      log: opts.log,
      stepStartedAt: startedAt,
    }
    try {
      let outputs: Outputs | undefined
      if (wasRunning && def.recheck) outputs = await def.recheck(r.params, ctx)
      if (outputs) opts.progress(`  ${titleOf(r)}: its work was already done before the interruption; not repeated`)
      outputs ??= await def.run(r.params, ctx)
      if (opts.signal.aborted) throw new InterruptedError()
      Object.assign(sj, {state: 'succeeded', outputs, endedAt: new Date().toISOString()})
      await save()
      await stepRecord(sj, 'success', `Step ${sj.id} (${sj.action}) succeeded`)
      // One line per result: the hook (the walkthrough) prints its own, with the step's outcome.
      if (opts.hooks?.onStepEnd) opts.hooks.onStepEnd(r, sj)
      else opts.progress(`✓ ${titleOf(r)}`)
    } catch (error) {
      const interrupted = opts.signal.aborted
      const timedOut = !interrupted && signal.aborted
      const info = timedOut
        ? toErrorInfo(new AbortError(`step timed out after ${r.step.timeout}`))
        : toErrorInfo(interrupted ? new InterruptedError() : normalizeError(error))
      Object.assign(sj, {state: 'failed', error: info, endedAt: new Date().toISOString()})
      await save()
      await stepRecord(sj, 'failure', `Step ${sj.id} (${sj.action}) failed: ${info.message}`)
      if (opts.hooks?.onStepEnd) opts.hooks.onStepEnd(r, sj)
      else opts.progress(`✗ ${titleOf(r)}: ${info.message}`)
      if (interrupted) break
      if ((r.step.on_error ?? 'stop') === 'stop') break
    }
  }

  const failed = journal.steps.find((s) => s.state === 'failed')
  const unfinished = journal.steps.some((s) => s.state === 'pending' || s.state === 'running')
  journal.status = opts.signal.aborted
    ? 'interrupted'
    : stopped
      ? 'stopped'
      : failed && (unfinished || steps.find((x) => x.step.id === failed.id)?.step.on_error !== 'continue')
        ? 'failed'
        : unfinished
          ? 'stopped'
          : failed
            ? 'failed'
            : 'succeeded'
  journal.endedAt = new Date().toISOString()
  await save()
  await kase.record({
    action: 'playbook.end',
    target: loaded.playbook.name,
    outcome: journal.status === 'succeeded' ? 'success' : journal.status === 'failed' ? 'failure' : 'partial',
    msg: `Playbook ${loaded.playbook.name} ${journal.status}${failed ? ` (step ${failed.id} failed: ${failed.error?.message})` : ''}`,
    details: {
      runId: journal.runId,
      status: journal.status,
      states: Object.fromEntries(journal.steps.map((s) => [s.id, s.state])),
    },
  })
  return journal
}
