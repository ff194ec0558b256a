import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {CaseMeta} from '../../case/case-store.js'
import {addResponderEvent, parseDetectionTime} from '../../services/report/timeline.js'

export default class CaseCreate extends BaseCommand<typeof CaseCreate> {
  static override summary = 'Open a case (or update its title and severity) before acting.'
  static override description =
    '--detected-at records when the incident was noticed (an alert, a call): the report measures time to contain and time to recover from it. It is the same record as `ir case event <case> --kind detected --at <time>`, which can also correct it later.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --title "Crypto-miner in web-1" --severity high --detected-at 2026-11-27T22:41:00Z',
    '<%= config.bin %> <%= command.id %> IR-2026-001 --title "Leaked API key"',
  ]
  static override args = {id: Args.string({description: 'Case id (generated when omitted)'})}
  static override flags = {
    title: Flags.string({summary: 'One-line title of the incident.'}),
    severity: Flags.string({summary: 'Severity.', options: ['low', 'medium', 'high', 'critical']}),
    'detected-at': Flags.string({
      summary:
        'When the incident was detected (ISO 8601; UTC when no zone is given). Default: not recorded, the report then measures from the case opening.',
      helpValue: '<ISO time>',
    }),
  }

  async run(): Promise<CaseMeta & {dir: string; detectedAt?: string}> {
    const detectedAt = this.flags['detected-at']
    // Parse before opening, so a bad time creates no case.
    if (detectedAt !== undefined) parseDetectionTime(detectedAt)
    const kase = await this.openCase(this.args.id, {
      ...(this.flags.title ? {title: this.flags.title} : {}),
      ...(this.flags.severity ? {severity: this.flags.severity as 'low'} : {}),
    })
    const detected =
      detectedAt === undefined
        ? undefined
        : await addResponderEvent(kase, {at: detectedAt, message: '', kind: 'detected'})
    this.log(kase.id)
    if (detected) this.progress(`Detection time set to ${detected.at} (audit #${detected.seq}).`)
    return {...kase.info, dir: kase.dir, ...(detected ? {detectedAt: detected.at} : {})}
  }
}
