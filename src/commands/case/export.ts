import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {CaseUcoResult} from '../../services/case-uco.js'
import {type ExportResult, exportCase} from '../../services/export.js'

export default class CaseExport extends BaseCommand<typeof CaseExport> {
  static override summary = 'Export a sealed case as one .tar.gz for hand-over, and print its SHA-256.'
  static override description = `The case must be sealed (\`ir case seal\`), verify, and have nothing but custody records
(earlier exports) after its newest seal. The archive holds the case folder under one top folder named by the
case id; it is streamed, hashed while written, written as <file>.partial and renamed (an existing file is never
replaced). The export is recorded in the audit chain (case.export) with the archive's SHA-256.
The receiver: sha256sum <file>; tar -xzf <file>; cd <id>; sha256sum -c seals/NNNN/SHA256SUMS; then
ssh-keygen -Y verify (docs/handover.md), or \`ir case verify --archive <file>\`.
--format case writes the case's provenance instead, as CASE/UCO JSON-LD (https://caseontology.org): an
investigative action per acquisition (performer, instrument ir and its version, start and end, the source
container) and a provenance record of its files with their SHA-256. It needs a case that verifies, not a seal.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --output /mnt/usb/IR-20261127-235134-a1b2.tar.gz',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --output case.tar.gz --json',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --format case --output case.jsonld',
  ]
  static override args = {id: Args.string({description: 'Case id', required: true})}
  static override flags = {
    output: Flags.string({
      char: 'o',
      summary: 'The file to write (.tar.gz, or .jsonld with --format case); never replaced if it exists.',
      required: true,
      helpValue: '<file.tar.gz>',
    }),
    format: Flags.string({
      summary: 'tar: the sealed case as one .tar.gz; case: its provenance as CASE/UCO JSON-LD.',
      options: ['tar', 'case'],
      default: 'tar',
    }),
    'allowed-signers': Flags.string({
      summary: 'Check the seal against this allowed_signers file before exporting.',
      helpValue: '<file>',
    }),
  }

  async run(): Promise<ExportResult | CaseUcoResult> {
    const as = this.flags['allowed-signers']
    if (this.flags.format === 'case') {
      const {exportCaseUco} = await import('../../services/case-uco.js')
      const r = await exportCaseUco({
        store: this.store,
        id: this.args.id,
        output: this.flags.output,
        ...(as === undefined ? {} : {allowedSigners: as}),
      })
      this.log(
        `Case ${r.caseId} provenance exported as CASE/UCO JSON-LD (${r.actions} investigative actions, ${r.files} files):\n${r.sha256}  ${r.output}`,
      )
      return r
    }
    const r = await exportCase({
      store: this.store,
      id: this.args.id,
      output: this.flags.output,
      ...(as === undefined ? {} : {allowedSigners: as}),
    })
    this.log(
      `Case ${r.caseId} exported (seal generation ${r.generation}, ${r.files} files, ${r.size} bytes):\n${r.sha256}  ${r.output}`,
    )
    return r
  }
}
