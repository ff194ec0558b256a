import type {Case, CaseMeta, CaseStore} from '../../case/case-store.js'
import type {ComposeClient} from '../../docker/compose.js'
import type {Clients} from '../../docker/engine-factory.js'
import type {Engine} from '../../docker/types.js'
import {AbortError} from '../../errors.js'
import type {GateDecision, HumanInterface, ResolvedStep, StepPlan} from '../../playbook/types.js'
import {findPlaybook} from '../../playbook/catalog.js'
import {type Journal, readJournal, type StepJournal} from '../../case/journal.js'
import {loadPlaybook} from '../../playbook/loader.js'
import {resolveInputs, runPlaybook, titleOf} from '../../playbook/runner.js'
import type {Logger} from '../../util/logger.js'
import type {OutputFold} from '../../util/output-fold.js'
import {readLabMarker} from '../lab/files.js'
import {type ContainerOverview, hostOverview, likelyFirst} from './overview.js'

/** The questions the walkthrough asks its human (src/prompts/respond.ts asks them on the terminal). */
export interface RespondQuestions {
  say(text: string): void
  /** A step's result, on one line. */
  result(r: StepResult): void
  /** `suggested`: the case id `ir lab up` proposed for the lab in this folder, offered as the default. */
  openCase(
    existing: CaseMeta[],
    suggested?: string,
  ): Promise<{id?: string; title: string; severity: 'low' | 'medium' | 'high' | 'critical'}>
  pickContainers(all: ContainerOverview[]): Promise<ContainerOverview[]>
  askText(message: string, def: string): Promise<string>
  askYesNo(message: string, def: boolean): Promise<boolean>
  gate(
    step: ResolvedStep,
    index: number,
    total: number,
    plan: () => Promise<StepPlan | undefined>,
  ): Promise<GateDecision>
}

export interface RespondOptions {
  store: CaseStore
  engine: () => Promise<Engine>
  compose: () => Promise<ComposeClient>
  hosts: Clients['hosts']
  prompts: RespondQuestions
  /** Rotation and report questions (the same prompts `ir rotate` and `ir report` use). */
  human: Pick<HumanInterface, 'decideRotation' | 'askReport'>
  playbook: string
  caseId?: string
  resume: boolean
  cwd: string
  signal: AbortSignal
  progress: (line: string) => void
  /** Long compose output folded into one progress line (src/render/progress.ts). */
  fold?: (label: string) => OutputFold
  log: Logger
}

export interface RespondResult {
  caseId: string
  caseDir: string
  journal: Journal
  /** Each step's title by id: what the summary shows instead of the ids. */
  titles: Record<string, string>
  /** The responder chose "Stop here": a deliberate pause, not a failure (exit 0; `ir respond --resume` continues). */
  stoppedByResponder: boolean
  report?: string[]
  evidenceDir: string
}

/** The newest case holding a guided walkthrough that has not finished. */
async function unfinishedWalkthrough(store: CaseStore): Promise<Case | undefined> {
  for (const meta of (await store.list()).reverse()) {
    const {kase} = await store.open({id: meta.id, create: false})
    const j = await readJournal(kase)
    if (j && j.mode === 'guided' && j.status !== 'succeeded') return kase
  }
  return undefined
}

/** How a step's result reads: its mark and colour (ok green, warn yellow, critical and failed red). */
export type ResultLevel = 'ok' | 'warn' | 'critical' | 'failed' | 'skipped'

/** One step's result, shown on one line: mark, the step's title, a short outcome. */
export interface StepResult {
  level: ResultLevel
  title: string
  outcome: string
  /** For an audit: the findings by severity (the line colours each count). */
  totals?: Record<'critical' | 'high' | 'medium' | 'low', number>
  /** For an audit: its critical and high findings, each shown on a line of its own below the result. */
  findings?: Array<{severity: string; container: string; message: string}>
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call,
   @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument --
   a step's outputs come back from the journal as JSON of the step's own shape; this only prints them. */
/** A succeeded step's outputs as one short outcome (the details are in the case: evidence, state, report). */
export function summarize(action: string, outputs: Record<string, unknown> | undefined): Omit<StepResult, 'title'> {
  const o = (outputs ?? {}) as Record<string, any>
  const list = (xs: string[]): string =>
    xs.length > 3 ? `${xs.slice(0, 3).join(', ')} and ${xs.length - 3} more` : xs.join(', ')
  switch (action) {
    case 'isolate': {
      const cs: any[] = o.containers ?? []
      const notCut = cs.filter((c) => c.networkNotCut)
      return {
        level: notCut.length ? 'warn' : 'ok',
        outcome: list(
          cs.map(
            (c) =>
              `${c.name} ${c.state ?? c.status}, networks cut: ${(c.networksCut ?? []).join(', ') || 'none'}${c.networkNotCut ? ` (NOT cut: ${c.networkNotCut})` : ''}`,
          ),
        ),
      }
    }
    case 'snapshot': {
      const cs: any[] = o.containers ?? []
      const artifacts = cs.reduce((n, c) => n + (c.artifacts?.length ?? 0), 0)
      return {
        level: 'ok',
        outcome: `${list(cs.map((c) => `${c.name ?? c.id}: evidence image ${c.image ?? '(recovered)'}`))}; ${artifacts} file(s) hashed into the case`,
      }
    }
    case 'collect': {
      const cs: any[] = o.containers ?? []
      const noLogs = cs.filter((c) => c.logs === 'unavailable')
      return {
        level: noLogs.length ? 'warn' : 'ok',
        outcome: `${cs.length} archive(s) of logs and runtime state${noLogs.length ? `; logs unavailable for ${list(noLogs.map((c) => c.name ?? c.id))}` : ''}`,
      }
    }
    case 'rotate': {
      const r = o.summary ?? {}
      const open = (r.skipped ?? 0) + (r.remaining ?? 0)
      return {
        level: open > 0 ? 'warn' : 'ok',
        outcome: `rotated ${r.generated ?? 0}, marked rotated elsewhere ${r.markedRotated ?? 0}, skipped ${r.skipped ?? 0}, left ${r.remaining ?? 0}${r.remainingNames?.length ? ` (${list(r.remainingNames)})` : ''}${r.restart?.length ? `; restart: ${list(r.restart)}` : ''}`,
      }
    }
    case 'rebuild':
      return {
        level: 'ok',
        outcome: list(
          (o.services ?? []).map(
            (x: any) => `${x.service} ${x.health} (${String(x.image).replace('sha256:', '').slice(0, 12)})`,
          ),
        ),
      }
    case 'audit': {
      const t = {critical: 0, high: 0, medium: 0, low: 0, ...(o.totals ?? {})}
      return {
        level: t.critical > 0 ? 'critical' : t.high + t.medium > 0 ? 'warn' : 'ok',
        totals: t,
        ...(Array.isArray(o.findings) ? {findings: o.findings.slice(0, 8)} : {}),
        outcome: `${t.critical} critical, ${t.high} high, ${t.medium} medium, ${t.low} low${o.failing?.length ? `; not passing: ${list(o.failing)}` : ''}`,
      }
    }
    case 'report':
      return {level: 'ok', outcome: list(o.files ?? [])}
    default:
      return {level: 'ok', outcome: 'done'}
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call,
   @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument */

/** A step that ended (succeeded, failed or skipped) as its one result line. */
export function stepResult(step: ResolvedStep, sj: StepJournal, titles: Record<string, string>): StepResult {
  const title = titleOf(step)
  if (sj.state === 'failed') return {level: 'failed', title, outcome: sj.error?.message ?? 'failed'}
  if (sj.state === 'skipped')
    return {level: 'skipped', title, outcome: `skipped: ${readableReason(sj.skipReason, titles)}`}
  return {title, ...summarize(step.step.action, sj.outputs)}
}

/** A skip reason as the responder reads it: "requires isolate (failed)" names the step by its title. */
export function readableReason(reason: string | undefined, titles: Record<string, string>): string {
  if (!reason) return ''
  const m = /^requires (.+)$/.exec(reason)
  if (!m) return reason
  return `needs ${m[1]!.replace(/([\w-]+) \((\w+)\)/g, (all, id: string, state: string) => (titles[id] ? `"${titles[id]}" (${state})` : all))}`
}

/**
 * The guided breach walkthrough: the playbook runner with a human at every gate (same journal,
 * same audit entries as a scripted run), so a walkthrough can be resumed by `ir respond --resume`
 * or `ir playbook resume`.
 */
export async function respond(opts: RespondOptions): Promise<RespondResult> {
  const {prompts, store} = opts
  let kase: Case | undefined
  let resume = opts.resume
  if (resume) {
    kase = opts.caseId ? (await store.open({id: opts.caseId, create: false})).kase : await unfinishedWalkthrough(store)
    if (!kase)
      throw new AbortError('No interrupted walkthrough to resume', {
        exit: 'NOT_FOUND',
        hint: 'Start one with `ir respond`.',
      })
  } else if (opts.caseId) {
    kase = (await store.open({id: opts.caseId})).kase
  } else {
    // The practice lab in this folder proposed a case id (`ir lab up` prints it and keeps it in .ir-lab.json).
    const suggested = (await readLabMarker(opts.cwd).catch(() => undefined))?.caseId
    const answer = await prompts.openCase(await store.list(), suggested)
    kase = (await store.open({...(answer.id ? {id: answer.id} : {}), title: answer.title, severity: answer.severity}))
      .kase
  }
  const existing = await readJournal(kase)
  if (!resume && existing && existing.status !== 'succeeded') {
    if (
      await prompts.askYesNo(
        `Case ${kase.id} has an unfinished ${existing.playbook.name} walkthrough. Continue it?`,
        true,
      )
    )
      resume = true
    else
      throw new AbortError(`Case ${kase.id} has an unfinished playbook run`, {
        exit: 'PRECONDITION',
        hint: 'Continue it (ir respond --resume) or choose another case.',
      })
  }
  prompts.say(`Case ${kase.id}: ${kase.info.title} (${kase.dir})`)

  let loaded
  let inputs
  if (resume) {
    const j = existing ?? (await readJournal(kase))
    if (!j) throw new AbortError(`Case ${kase.id} has no walkthrough to resume`, {exit: 'NOT_FOUND'})
    loaded = await loadPlaybook(j.playbook.file)
    inputs = j.inputs
    prompts.say(
      `Resuming ${j.playbook.name}: ${j.steps.filter((s) => s.state === 'succeeded').length} of ${j.steps.length} steps done.`,
    )
  } else {
    loaded = await loadPlaybook(await findPlaybook(opts.playbook, opts.cwd))
    const engine = await opts.engine()
    const overview = await hostOverview(engine)
    if (overview.length === 0) throw new AbortError('There are no containers on this host', {exit: 'NOT_FOUND'})
    const picked = await prompts.pickContainers(likelyFirst(overview, {cwd: opts.cwd}))
    const provided: Record<string, string> = {}
    const defs = loaded.playbook.inputs ?? {}
    for (const [name, def] of Object.entries(defs)) {
      if (def.type === 'containers') provided[name] = picked.map((p) => p.name).join(',')
      else if (name === 'project-directory')
        provided[name] = await prompts.askText(
          'Compose project folder to rebuild:',
          picked.find((p) => p.projectDirectory)?.projectDirectory ?? opts.cwd,
        )
      else if (name === 'offline')
        provided[name] = String(
          !(await prompts.askYesNo('Can this host pull fresh base images from a registry?', false)),
        )
      else if (def.required)
        provided[name] = await prompts.askText(
          `${name}${def.description ? ` (${def.description})` : ''}:`,
          def.default === undefined ? '' : String(def.default),
        )
    }
    inputs = resolveInputs(loaded, provided, loaded.inputLines)
  }

  let stoppedHere = false
  const titles = Object.fromEntries(loaded.playbook.steps.map((st) => [st.id, st.name ?? st.id]))
  const human: HumanInterface = {
    ...opts.human,
    // Approval gates and checklist items were answered at the step's gate.
    confirm: async () => true,
  }
  const journal = await runPlaybook({
    loaded,
    inputs,
    kase,
    store,
    engine: opts.engine,
    compose: opts.compose,
    hosts: opts.hosts,
    cwd: opts.cwd,
    yes: false,
    human,
    signal: opts.signal,
    progress: opts.progress,
    ...(opts.fold ? {fold: opts.fold} : {}),
    log: opts.log,
    mode: 'guided',
    resume,
    hooks: {
      gate: async (step, plan, position) => {
        const decision = await prompts.gate(step, position.index, position.total, plan)
        if (decision.decision === 'stop') stoppedHere = true
        return decision
      },
      onStepEnd: (step, sj) => prompts.result(stepResult(step, sj, titles)),
    },
  })
  const reportStep = journal.steps.find((s) => s.action === 'report' && s.state === 'succeeded')
  const report = (reportStep?.outputs as {files?: string[]} | undefined)?.files
  return {
    caseId: kase.id,
    caseDir: kase.dir,
    journal,
    titles,
    stoppedByResponder: stoppedHere && journal.status === 'stopped',
    ...(report ? {report: report.map((f) => (f.startsWith('/') ? f : `${kase.dir}/${f}`))} : {}),
    evidenceDir: `${kase.dir}/evidence`,
  }
}
