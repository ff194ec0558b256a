import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {renderCaseShow} from '../../render/cases.js'
import {type CaseDetails, showCase} from '../../services/cases.js'

export default class CaseShow extends BaseCommand<typeof CaseShow> {
  static override summary = 'Show a case: details, containment records and evidence.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --json',
  ]
  static override args = {id: Args.string({description: 'Case id', required: true})}

  async run(): Promise<CaseDetails> {
    const details = await showCase(this.store, this.args.id)
    this.log(renderCaseShow(details))
    return details
  }
}
