import {BaseCommand} from '../../base-command.js'
import {caseFlag} from '../../flags.js'
import {renderArtifacts} from '../../render/evidence.js'
import {renderTable} from '../../render/table.js'
import {type EvidenceList, listEvidence} from '../../services/evidence/list.js'
import {AbortError} from '../../errors.js'

export default class EvidenceListCommand extends BaseCommand<typeof EvidenceListCommand> {
  static override summary = 'Show the evidence of a case: files in the manifest and evidence images on the engine.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --case IR-2026-001',
    '<%= config.bin %> <%= command.id %> --case IR-2026-001 --json',
  ]
  static override flags = {case: {...caseFlag, required: true} as typeof caseFlag}

  async run(): Promise<EvidenceList> {
    if (!this.flags.case) throw new AbortError('Name the case with --case', {exit: 'USAGE'})
    const {kase} = await this.store.open({id: this.flags.case, create: false})
    const result = await listEvidence({kase, engine: () => this.connect()})
    this.log(result.files.length > 0 ? renderArtifacts(result.files) : 'No evidence files yet.')
    this.log('')
    if (result.imagesUnavailable) this.warnLine(`evidence images not listed: ${result.imagesUnavailable}`)
    else if (result.images.length === 0) this.log('No evidence images on the engine for this case.')
    else
      this.log(
        renderTable(
          ['IMAGE ID', 'TAG', 'SOURCE CONTAINER'],
          result.images.map((i) => [
            i.id.replace('sha256:', '').slice(0, 12),
            i.tags.join(', ') || '<untagged>',
            i.sourceName ?? i.sourceContainer ?? '-',
          ]),
        ),
      )
    return result
  }
}
