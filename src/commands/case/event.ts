import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {addResponderEvent} from '../../services/report/timeline.js'

export default class CaseEvent extends BaseCommand<typeof CaseEvent> {
  static override summary = 'Add a responder event to the case timeline (something that happened outside ir).'
  static override description =
    'An alert that fired, a call with the vendor, the moment a decision was taken: recorded in the audit log (action timeline.event) and shown in the report timeline and in `ir case timeline` at the time it happened. --at is ISO 8601; without a zone designator it is taken as UTC. Without --at: now.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --at 2026-11-27T22:41:00Z --message "CPU alert on web-1 paged on-call"',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --message "Customer support reports slow checkout"',
  ]
  static override args = {id: Args.string({description: 'Case id', required: true})}
  static override flags = {
    at: Flags.string({summary: 'When it happened (ISO 8601, e.g. 2026-11-27T22:41:00Z; UTC when no zone is given). Default: now.', helpValue: '<ISO time>'}),
    message: Flags.string({char: 'm', summary: 'What happened.', required: true}),
  }

  async run(): Promise<{caseId: string; seq: number; at: string; message: string}> {
    const kase = await this.openExistingCase(this.args.id)
    const result = await addResponderEvent(kase, {at: this.flags.at ?? new Date().toISOString(), message: this.flags.message})
    this.log(`Event added to case ${result.caseId} at ${result.at} (audit #${result.seq}).`)
    return result
  }
}
