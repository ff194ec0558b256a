import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {abort} from '../../errors.js'
import {addResponderEvent, EVENT_KINDS, type EventKind} from '../../services/report/timeline.js'

export default class CaseEvent extends BaseCommand<typeof CaseEvent> {
  static override summary =
    'Add a responder event to the case timeline (something that happened outside ir), or record when the incident was detected.'
  static override description =
    'An alert that fired, a call with the vendor, the moment a decision was taken: recorded in the audit log (action timeline.event) and shown in the report timeline and in `ir case timeline` at the time it happened. --at is ISO 8601; without a zone designator it is taken as UTC. Without --at: now.\n\n--kind detected records the moment the incident was noticed: the report measures time to contain and time to recover from it (the last one recorded wins, so a later correction replaces it). Without one, the report measures from the moment the case was opened and says so.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --at 2026-11-27T22:41:00Z --message "CPU alert on web-1 paged on-call"',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --kind detected --at 2026-11-27T22:41:00Z --message "CPU alert on web-1"',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --message "Customer support reports slow checkout"',
  ]
  static override args = {id: Args.string({description: 'Case id', required: true})}
  static override flags = {
    at: Flags.string({
      summary: 'When it happened (ISO 8601, e.g. 2026-11-27T22:41:00Z; UTC when no zone is given). Default: now.',
      helpValue: '<ISO time>',
    }),
    message: Flags.string({char: 'm', summary: 'What happened (optional with --kind detected).'}),
    kind: Flags.string({
      summary:
        "note (default), or detected: the moment the incident was noticed, which the report's metrics start from.",
      options: [...EVENT_KINDS],
      default: 'note',
    }),
  }

  async run(): Promise<{caseId: string; seq: number; at: string; kind: EventKind; message: string}> {
    const kind = this.flags.kind as EventKind
    if (kind === 'note' && this.flags.message === undefined)
      abort('Missing required flag --message', {
        exit: 'USAGE',
        hint: 'Give --message "what happened" (or --kind detected to record the detection time).',
      })
    const kase = await this.openExistingCase(this.args.id)
    const result = await addResponderEvent(kase, {
      at: this.flags.at ?? new Date().toISOString(),
      message: this.flags.message ?? '',
      kind,
    })
    this.log(
      kind === 'detected'
        ? `Detection time of case ${result.caseId} set to ${result.at} (audit #${result.seq}).`
        : `Event added to case ${result.caseId} at ${result.at} (audit #${result.seq}).`,
    )
    return result
  }
}
