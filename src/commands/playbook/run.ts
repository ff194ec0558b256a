import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {AbortError} from '../../errors.js'
import {caseFlag, dryRunFlag, yesFlag} from '../../flags.js'
import {findPlaybook} from '../../playbook/catalog.js'
import {exitCodeOf, type Journal} from '../../case/journal.js'
import {lazyClients} from '../../docker/engine-factory.js'
import {loadPlaybook} from '../../playbook/loader.js'
import {type PlannedStep, planRun, resolveInputs, resolveSteps, runPlaybook} from '../../playbook/runner.js'
import {terminalHuman} from '../../prompts/human.js'
import {renderJournal, renderPlan} from '../../render/playbook.js'

export function parseInputFlags(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const v of values ?? []) {
    const eq = v.indexOf('=')
    if (eq <= 0) throw new AbortError(`--input "${v}" is not name=value`, {exit: 'USAGE'})
    out[v.slice(0, eq)] = v.slice(eq + 1)
  }
  return out
}

export default class PlaybookRun extends BaseCommand<typeof PlaybookRun> {
  static override summary =
    'Run a playbook: resolve its targets, print the plan, approve it, then execute step by step with a resumable journal.'

  static override description = `The plan shows each step, the containers it resolves to, the Docker and compose operations it will perform
and the files it will write. --dry-run prints it and changes nothing. Otherwise the plan needs approval (on a TTY) or
--yes, and each step's state (pending, running, succeeded, failed, skipped) is written to playbook-run.json in the case
after every change. A step whose required steps did not succeed is skipped: a destructive step never runs after a
failed evidence step. If the run stops (a failed step, Ctrl-C, a crash, a lost engine), continue it with
\`ir playbook resume <case>\`. Progress goes to stderr; --json prints the journal.`

  static override examples = [
    {
      description: 'See the full plan for the shipped breach playbook',
      command: '<%= config.bin %> <%= command.id %> breach --input containers=web-1 --dry-run',
    },
    {
      description: 'Contain and preserve evidence, unattended',
      command: '<%= config.bin %> <%= command.id %> contain --input containers=web-1,worker-1 --case IR-2026-001 --yes',
    },
    {
      description: 'A local playbook file',
      command:
        '<%= config.bin %> <%= command.id %> ./playbooks/db-breach.yml --input containers=db-1 --case IR-2026-001',
    },
  ]

  static override args = {
    playbook: Args.string({
      description: 'A playbook file, or the name of one listed by `ir playbook list`',
      required: true,
    }),
  }
  static override flags = {
    input: Flags.string({char: 'i', summary: 'An input as name=value (repeatable).', multiple: true}),
    case: caseFlag,
    yes: yesFlag,
    'dry-run': dryRunFlag,
  }

  async run(): Promise<Journal | {playbook: string; dryRun: true; plan: PlannedStep[]}> {
    const {flags} = this
    const loaded = await loadPlaybook(await findPlaybook(this.args.playbook))
    const inputs = resolveInputs(loaded, parseInputFlags(flags.input), loaded.inputLines)
    const steps = resolveSteps(loaded, inputs)
    const clients = lazyClients(this.engines, this.debugLog)
    const existing =
      flags.case && (await this.store.exists(flags.case)) ? await this.openExistingCase(flags.case) : undefined
    const plan = await planRun({loaded, steps, ...(existing ? {kase: existing} : {}), ...clients, cwd: process.cwd()})
    if (flags['dry-run']) {
      this.log(renderPlan(loaded.playbook.name, plan))
      this.log('\nDry run: nothing was changed.')
      return {playbook: loaded.playbook.name, dryRun: true, plan}
    }
    this.progress(renderPlan(loaded.playbook.name, plan))
    await this.confirm(`Run playbook ${loaded.playbook.name} as planned above?`, {
      yes: flags.yes,
      what: 'run the playbook',
    })
    const kase = existing ?? (await this.openCase(flags.case))
    const journal = await runPlaybook({
      loaded,
      inputs,
      kase,
      store: this.store,
      ...clients,
      cwd: process.cwd(),
      yes: flags.yes,
      human: await terminalHuman({yes: flags.yes}),
      signal: this.interrupt.signal,
      progress: (l) => this.progress(l),
      fold: (label) => this.fold(label),
      log: this.debugLog,
      mode: 'scripted',
      resume: false,
    })
    this.log(renderJournal(journal))
    this.failWith(exitCodeOf(journal))
    return journal
  }
}
