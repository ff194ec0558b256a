import {Writable} from 'node:stream'

import type {CaseMeta} from '../case/case-store.js'
import {InterruptedError} from '../errors.js'
import type {GateDecision, ResolvedStep, StepPlan} from '../playbook/types.js'
import type {ContainerOverview} from '../services/respond/overview.js'
import type {RespondQuestions, StepResult} from '../services/respond/respond.js'
import {renderStepResult} from '../render/playbook.js'
import {colourEnabled, colours, visibleLength} from '../util/colour.js'
import {neutralizeControls, terminalSafe} from '../util/controls.js'

export type PromptContext = {input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream; signal?: AbortSignal}

/** Inquirer closes its output after a prompt; give each prompt a view that does not close ours. */
function view(out: NodeJS.WritableStream): NodeJS.WritableStream {
  if (out === process.stderr || out === process.stdout) return out
  const v = new Writable({write: (chunk: Buffer, _e, cb) => void out.write(chunk, cb)})
  for (const prop of ['columns', 'rows', 'isTTY'])
    Object.defineProperty(v, prop, {get: () => (out as unknown as Record<string, unknown>)[prop]})
  return v
}

/** Ctrl-C at a prompt: stop the walkthrough cleanly (the journal keeps where it was). */
async function guard<T>(p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError')
      throw new InterruptedError('Walkthrough interrupted at a prompt; continue with `ir respond --resume`.')
    throw error
  }
}

export class RespondPrompts implements RespondQuestions {
  constructor(private readonly context: PromptContext = {}) {}

  private ctx(): PromptContext {
    const out = this.context.output ?? process.stderr
    return {...this.context, output: view(out)}
  }

  private get out(): NodeJS.WritableStream {
    return this.context.output ?? process.stderr
  }

  say(text: string): void {
    // Container names, labels and messages may carry terminal escapes: only colour survives, on a colour TTY.
    this.out.write(`${terminalSafe(text, colourEnabled(this.out as {isTTY?: boolean}))}\n`)
  }

  result(r: StepResult): void {
    this.say(renderStepResult(r, colours(this.out as {isTTY?: boolean})))
  }

  async openCase(
    existing: CaseMeta[],
    suggested?: string,
  ): Promise<{id?: string; title: string; severity: 'low' | 'medium' | 'high' | 'critical'}> {
    const {input, select} = await import('@inquirer/prompts')
    const offer = suggested && !existing.some((c) => c.id === suggested) ? suggested : undefined
    const which = await guard(
      select<string>(
        {
          message: 'Which case is this?',
          ...(suggested ? {default: suggested} : {}),
          choices: [
            ...(offer ? [{value: offer, name: `${offer} (suggested by ir lab up, new)`}] : []),
            {value: '', name: 'A new case'},
            ...existing
              .slice(-10)
              .reverse()
              .map((c) => ({value: c.id, name: neutralizeControls(`${c.id}: ${c.title}`, {singleLine: true})})),
          ],
        },
        this.ctx(),
      ),
    )
    const current = existing.find((c) => c.id === which)
    const title = await guard(
      input(
        {
          message: 'Incident title (one line):',
          default: current?.title ?? 'Suspected container breach',
          validate: (v) => (v.trim() ? true : 'A title is required.'),
        },
        this.ctx(),
      ),
    )
    const severity = await guard(
      select<'low' | 'medium' | 'high' | 'critical'>(
        {
          message: 'Severity:',
          choices: (['critical', 'high', 'medium', 'low'] as const).map((s) => ({value: s, name: s})),
          default: current?.severity ?? 'high',
        },
        this.ctx(),
      ),
    )
    return {...(which ? {id: which} : {}), title: title.trim(), severity}
  }

  /** Pick the affected containers: type to search (name, image, compose project), enter to add, "done" to finish. */
  async pickContainers(all: ContainerOverview[]): Promise<ContainerOverview[]> {
    const {search} = await import('@inquirer/prompts')
    // Columns aligned on visible width: name, service, image, state, then project, networks, ports and hints.
    const cell = (v: string | undefined): string => neutralizeControls(v ?? '', {singleLine: true})
    const widths = (['name', 'service', 'image', 'state'] as const).map((k) =>
      Math.min(40, Math.max(...all.map((c) => visibleLength(cell(c[k]))))),
    )
    const col = (v: string | undefined, i: number): string => {
      const t = cell(v)
      return t + ' '.repeat(Math.max(0, widths[i]! - visibleLength(t)))
    }
    const label = (c: ContainerOverview): string =>
      [
        col(c.name, 0),
        col(c.service ?? '-', 1),
        col(c.image, 2),
        col(c.state, 3),
        cell(
          `${c.project ? `[${c.project}]` : ''}${c.networks.length ? `  nets: ${c.networks.join(',')}` : ''}${c.ports.length ? `  ports: ${c.ports.join(',')}` : ''}${c.hints.length ? `  ! ${c.hints.join('; ')}` : ''}`,
        ),
      ]
        .join('  ')
        .trimEnd()
    this.say(`${all.length} container(s) on this host.`)
    const picked: ContainerOverview[] = []
    for (;;) {
      const id = await guard(
        search<string>(
          {
            message: picked.length
              ? `Picked: ${picked.map((p) => p.name).join(', ')}. Add another (type to search), or choose "done":`
              : 'Which container is affected? Type to search, enter to pick:',
            source: (term) => [
              ...(picked.length ? [{value: '', name: '✔ done'}] : []),
              ...all
                .filter(
                  (c) =>
                    !picked.includes(c) &&
                    (!term ||
                      `${c.name} ${c.image} ${c.project ?? ''} ${c.service ?? ''}`
                        .toLowerCase()
                        .includes(term.toLowerCase())),
                )
                .slice(0, 30)
                .map((c) => ({value: c.id, name: label(c)})),
            ],
            pageSize: 12,
          },
          this.ctx(),
        ),
      )
      if (!id) return picked
      picked.push(all.find((c) => c.id === id)!)
    }
  }

  async askText(message: string, def: string): Promise<string> {
    const {input} = await import('@inquirer/prompts')
    return guard(input({message, default: def}, this.ctx()))
  }

  async askYesNo(message: string, def: boolean): Promise<boolean> {
    const {confirm} = await import('@inquirer/prompts')
    return guard(confirm({message, default: def}, this.ctx()))
  }

  /** The gate in front of each step: what it will do and why, exactly what it changes, then run / skip / stop. */
  async gate(
    step: ResolvedStep,
    index: number,
    total: number,
    plan: () => Promise<StepPlan | undefined>,
  ): Promise<GateDecision> {
    const {input, select} = await import('@inquirer/prompts')
    const title = step.step.name ?? step.step.id
    if (step.step.action === 'confirm') {
      // Approval gates exist for scripted runs; here every step is approved (or skipped) at its own gate.
      this.say(`\n· ${title}: you approve each step yourself below.`)
      return {decision: 'run'}
    }
    this.say(`\n━━ Step ${index + 1} of ${total} · ${title} · ${step.phase} ━━`)
    this.say(step.description)
    if (step.destructive) {
      const p = await plan()
      if (p) {
        this.say('This will change:')
        for (const op of p.operations) this.say(`  - ${op}`)
        if (p.files.length) this.say(`It writes: ${p.files.join(', ')}`)
      }
    }
    const runLabel = step.step.action === 'note' ? 'Done' : 'Run it'
    const choice = await guard(
      select<'run' | 'skip' | 'stop'>(
        {
          message: step.step.action === 'note' ? String(step.params.text) : `Run "${title}"?`,
          choices: [
            {value: 'run', name: runLabel},
            {value: 'skip', name: 'Skip (a reason is required)'},
            {value: 'stop', name: 'Stop here (continue later with ir respond --resume)'},
          ],
        },
        this.ctx(),
      ),
    )
    if (choice === 'skip') {
      const reason = await guard(
        input(
          {message: `Why skip "${title}"? (required)`, validate: (v) => (v.trim() ? true : 'A reason is required.')},
          this.ctx(),
        ),
      )
      return {decision: 'skip', reason: reason.trim()}
    }
    return choice === 'run' ? {decision: 'run'} : {decision: 'stop'}
  }
}
