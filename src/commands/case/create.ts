import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {CaseMeta} from '../../case/case-store.js'

export default class CaseCreate extends BaseCommand<typeof CaseCreate> {
  static override summary = 'Open a case (or update its title and severity) before acting.'
  static override examples = ['<%= config.bin %> <%= command.id %> --title "Crypto-miner in web-1" --severity high', '<%= config.bin %> <%= command.id %> IR-2026-001 --title "Leaked API key"']
  static override args = {id: Args.string({description: 'Case id (generated when omitted)'})}
  static override flags = {
    title: Flags.string({summary: 'One-line title of the incident.'}),
    severity: Flags.string({summary: 'Severity.', options: ['low', 'medium', 'high', 'critical']}),
  }

  async run(): Promise<CaseMeta & {dir: string}> {
    const kase = await this.openCase(this.args.id, {
      ...(this.flags.title ? {title: this.flags.title} : {}),
      ...(this.flags.severity ? {severity: this.flags.severity as 'low'} : {}),
    })
    this.log(kase.id)
    return {...kase.info, dir: kase.dir}
  }
}
