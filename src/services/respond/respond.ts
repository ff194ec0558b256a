import type {Case, CaseMeta, CaseStore} from '../../case/case-store.js'
import type {ComposeClient} from '../../docker/compose.js'
import type {Clients} from '../../docker/engine-factory.js'
import type {Engine} from '../../docker/types.js'
import {AbortError} from '../../errors.js'
import type {GateDecision, HumanInterface, ResolvedStep, StepPlan} from '../../playbook/types.js'
import {findPlaybook} from '../../playbook/catalog.js'
import {type Journal, readJournal} from '../../case/journal.js'
import {loadPlaybook} from '../../playbook/loader.js'
import {resolveInputs, runPlaybook} from '../../playbook/runner.js'
import type {Logger} from '../../util/logger.js'
import type {OutputFold} from '../../util/output-fold.js'
import {type ContainerOverview, hostOverview} from './overview.js'

/** The questions the walkthrough asks its human (src/prompts/respond.ts asks them on the terminal). */
export interface RespondQuestions {
  say(text: string): void
  openCase(
    existing: CaseMeta[],
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

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call,
   @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   a step's outputs come back from the journal as JSON of the step's own shape; this only prints them. */
function summarize(action: string, outputs: Record<string, unknown> | undefined): string[] {
  if (!outputs) return []
  const o = outputs as Record<string, any>
  switch (action) {
    case 'isolate':
      return (o.containers ?? []).map(
        (c: any) =>
          `  ${c.name}: ${c.status}, ${c.state}, networks cut: ${(c.networksCut ?? []).join(', ') || 'none'}${c.networkNotCut ? ` (NOT cut: ${c.networkNotCut})` : ''}`,
      )
    case 'snapshot':
      return (o.containers ?? []).flatMap((c: any) => [
        `  ${c.name ?? c.id}: evidence image ${c.image ?? '(recovered)'}`,
        ...(c.artifacts ?? []).map((a: any) => `    ${a.path}  sha256 ${a.sha256}`),
      ])
    case 'collect':
      return (o.containers ?? []).map(
        (c: any) =>
          `  ${c.name ?? c.id}: ${c.archive}  sha256 ${c.sha256}${c.logs === 'unavailable' ? ' (logs unavailable)' : ''}`,
      )
    case 'rotate': {
      const s = o.summary ?? {}
      return [
        `  rotated ${s.generated ?? 0}, marked rotated elsewhere ${s.markedRotated ?? 0}, skipped ${s.skipped ?? 0}, left ${s.remaining ?? 0}${s.remainingNames?.length ? ` (${s.remainingNames.join(', ')})` : ''}`,
        ...(s.restart?.length ? [`  services to restart: ${s.restart.join(', ')}`] : []),
      ]
    }
    case 'rebuild':
      return (o.services ?? []).map(
        (s: any) => `  ${s.service}: ${s.health}, image ${String(s.image).replace('sha256:', '').slice(0, 12)}`,
      )
    case 'audit':
      return [
        `  findings: ${o.totals?.critical ?? 0} critical, ${o.totals?.high ?? 0} high, ${o.totals?.medium ?? 0} medium, ${o.totals?.low ?? 0} low${o.failing?.length ? `; not passing: ${o.failing.join(', ')}` : ''}`,
      ]
    case 'report':
      return (o.files ?? []).map((f: string) => `  ${f}`)
    default:
      return []
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call,
   @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return */

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
    const answer = await prompts.openCase(await store.list())
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
    const picked = await prompts.pickContainers(overview)
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
      gate: (step, plan, position) => prompts.gate(step, position.index, position.total, plan),
      onStepEnd: (step, sj) => {
        if (sj.state === 'succeeded') for (const line of summarize(step.step.action, sj.outputs)) prompts.say(line)
      },
    },
  })
  const reportStep = journal.steps.find((s) => s.action === 'report' && s.state === 'succeeded')
  const report = (reportStep?.outputs as {files?: string[]} | undefined)?.files
  return {
    caseId: kase.id,
    caseDir: kase.dir,
    journal,
    ...(report ? {report: report.map((f) => (f.startsWith('/') ? f : `${kase.dir}/${f}`))} : {}),
    evidenceDir: `${kase.dir}/evidence`,
  }
}
