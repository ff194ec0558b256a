import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {AbortError} from '../errors.js'
import {exitCodeOf} from '../case/journal.js'
import {caseFlag} from '../flags.js'
import {lazyClients} from '../docker/engine-factory.js'
import {isInteractive} from '../prompts/confirm.js'
import {RespondPrompts} from '../prompts/respond.js'
import {renderWalkthrough} from '../render/playbook.js'
import {readableReason, respond, type RespondResult} from '../services/respond/respond.js'

export default class Respond extends BaseCommand<typeof Respond> {
  static override summary =
    'The guided breach walkthrough: pick the affected containers, then approve, skip or stop at every step.'

  static override description = `Opens or creates a case, shows the containers on this host (image, status, networks, ports, compose project,
and hints such as a mounted Docker socket or privileged mode), lets you pick the affected ones, then walks through
the breach playbook phase by phase: each step says what it will do and why, destructive steps show exactly what they
will change, and you choose: run, skip (with a reason) or stop here. Results are shown as they happen. It ends with
the lessons-learned report questions and the paths of the report and the evidence.
It is the playbook runner with a human at every gate: the journal and the audit log are the same as a scripted run's,
so an interrupted walkthrough continues with \`ir respond --resume\` (or \`ir playbook resume <case>\`).
It needs a terminal; for scripts use \`ir playbook run breach --input containers=... --yes\`.`

  static override examples = [
    {description: 'Start the walkthrough', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Continue an interrupted walkthrough', command: '<%= config.bin %> <%= command.id %> --resume'},
    {description: 'Use another playbook', command: '<%= config.bin %> <%= command.id %> --playbook contain'},
  ]

  static override flags = {
    case: caseFlag,
    playbook: Flags.string({summary: 'The playbook to walk through (file or name).', default: 'breach'}),
    resume: Flags.boolean({
      summary: 'Continue the newest interrupted walkthrough (or the one in --case).',
      default: false,
    }),
  }

  async run(): Promise<RespondResult> {
    if (!isInteractive()) {
      throw new AbortError('ir respond is interactive and needs a terminal (stdin and stderr must be a TTY)', {
        exit: 'CONFIRMATION_REQUIRED',
        hint: 'For scripts and CI use: ir playbook run breach --input containers=<names> --case <id> --yes',
      })
    }
    const {flags} = this
    const clients = lazyClients(this.engines, this.debugLog)
    const {askRotation} = await import('../prompts/rotate.js')
    const {askReportAnswers, hasEditor, inquirerPrompts} = await import('../prompts/report-answers.js')
    const result = await respond({
      store: this.store,
      ...clients,
      prompts: new RespondPrompts(),
      human: {
        decideRotation: (item, position) => askRotation({item, ...position}),
        askReport: async (current, save) =>
          askReportAnswers(current, {prompts: await inquirerPrompts(), useEditor: hasEditor(), save}),
      },
      playbook: flags.playbook,
      ...(flags.case ? {caseId: flags.case} : {}),
      resume: flags.resume,
      cwd: process.cwd(),
      signal: this.interrupt.signal,
      progress: (l) => this.progress(l),
      fold: (label) => this.fold(label),
      log: this.debugLog,
    })
    const {journal, titles} = result
    const notes = Object.fromEntries(
      journal.steps.map((st) => [
        st.id,
        st.state === 'failed'
          ? (st.error?.message ?? '')
          : st.state === 'skipped'
            ? readableReason(st.skipReason, titles)
            : '',
      ]),
    )
    this.log(renderWalkthrough(journal, titles, notes))
    if (result.report) this.log(`Report: ${result.report.join(', ')}`)
    this.log(`Evidence: ${result.evidenceDir} (check it with: ir case verify ${result.caseId})`)
    if (journal.status !== 'succeeded')
      this.progress(
        `${result.stoppedByResponder ? 'Stopped here as you chose. ' : ''}Continue with: ir respond --resume --case ${result.caseId}`,
      )
    // "Stop here" is a deliberate pause (exit 0); a refusal, a failure or Ctrl-C keep their codes (src/errors.ts).
    if (!result.stoppedByResponder) this.failWith(exitCodeOf(journal))
    // The prompts are done: let go of the terminal so nothing keeps the process alive.
    if (process.stdin.isTTY) process.stdin.destroy()
    return result
  }
}
