import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {AbortError} from '../../errors.js'
import {yesFlag} from '../../flags.js'
import {lazyClients} from '../../docker/engine-factory.js'
import {exitCodeOf, type Journal, readJournal} from '../../case/journal.js'
import {loadPlaybook} from '../../playbook/loader.js'
import {runPlaybook} from '../../playbook/runner.js'
import {terminalHuman} from '../../prompts/human.js'
import {renderJournal} from '../../render/playbook.js'

export default class PlaybookResume extends BaseCommand<typeof PlaybookResume> {
  static override summary =
    'Continue a playbook run that stopped (crash, Ctrl-C, failed step, lost engine) from its journal.'
  static override description = `Succeeded steps are not repeated. A step found running (the process died in it) is re-checked: work it
had already finished (a snapshot or collection in the manifest, a rebuild in the audit log) is recognised and not
done twice; otherwise the step runs again (steps are idempotent). A failed step is retried.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-2026-001 --yes',
    '<%= config.bin %> <%= command.id %> IR-2026-001 --json --yes',
  ]
  static override args = {
    case: Args.string({description: 'The case holding the run (playbook-run.json)', required: true}),
  }
  static override flags = {yes: yesFlag}

  async run(): Promise<Journal> {
    const kase = await this.openExistingCase(this.args.case)
    const journal = await readJournal(kase)
    if (!journal)
      throw new AbortError(`Case ${kase.id} has no playbook run`, {
        exit: 'NOT_FOUND',
        hint: 'Start one with `ir playbook run`.',
      })
    if (journal.status === 'succeeded') {
      this.log(renderJournal(journal))
      this.progress('Nothing to resume: the run already succeeded.')
      return journal
    }
    const loaded = await loadPlaybook(journal.playbook.file)
    await this.confirm(`Resume playbook ${journal.playbook.name} in case ${kase.id}?`, {
      yes: this.flags.yes,
      what: 'resume the playbook',
    })
    const clients = lazyClients(this.engines, this.debugLog)
    const done = await runPlaybook({
      loaded,
      inputs: journal.inputs,
      kase,
      store: this.store,
      ...clients,
      cwd: process.cwd(),
      yes: this.flags.yes,
      human: await terminalHuman({yes: this.flags.yes}),
      signal: this.interrupt.signal,
      progress: (l) => this.progress(l),
      fold: (label) => this.fold(label),
      log: this.debugLog,
      mode: journal.mode,
      resume: true,
    })
    this.log(renderJournal(done))
    this.failWith(exitCodeOf(done))
    return done
  }
}
