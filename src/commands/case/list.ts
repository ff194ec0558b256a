import {BaseCommand} from '../../base-command.js'
import {renderCaseList} from '../../render/cases.js'
import {type CaseSummary, listCases} from '../../services/cases.js'

export default class CaseList extends BaseCommand<typeof CaseList> {
  static override summary = 'List the cases under the incidents folder (./incidents or IR_INCIDENTS_DIR).'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'IR_INCIDENTS_DIR=/srv/incidents <%= config.bin %> <%= command.id %> --json',
  ]

  async run(): Promise<{root: string; cases: CaseSummary[]}> {
    const result = await listCases(this.store)
    this.log(renderCaseList(result.root, result.cases))
    return result
  }
}
