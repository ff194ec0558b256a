import {BaseCommand} from '../../base-command.js'
import {type CatalogEntry, listPlaybooks} from '../../playbook/catalog.js'
import {renderCatalog} from '../../render/playbook.js'

export default class PlaybookList extends BaseCommand<typeof PlaybookList> {
  static override summary = "List playbooks: the current folder's playbooks/, IR_PLAYBOOKS_PATH, and the shipped ones."
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'IR_PLAYBOOKS_PATH=/srv/runbooks <%= config.bin %> <%= command.id %> --json',
  ]

  async run(): Promise<{playbooks: CatalogEntry[]}> {
    const playbooks = await listPlaybooks()
    this.log(renderCatalog(playbooks))
    return {playbooks}
  }
}
