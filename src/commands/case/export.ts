import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {type ExportResult, exportCase} from '../../services/export.js'

export default class CaseExport extends BaseCommand<typeof CaseExport> {
  static override summary = 'Export a sealed case as one .tar.gz for hand-over, and print its SHA-256.'
  static override description = `The case must be sealed (\`ir case seal\`), verify, and have nothing but custody records
(earlier exports) after its newest seal. The archive holds the case folder under one top folder named by the
case id; it is streamed, hashed while written, written as <file>.partial and renamed (an existing file is never
replaced). The export is recorded in the audit chain (case.export) with the archive's SHA-256.
The receiver: sha256sum <file>; tar -xzf <file>; cd <id>; sha256sum -c seals/NNNN/SHA256SUMS; then
ssh-keygen -Y verify (docs/handover.md), or \`ir case verify --archive <file>\`.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --output /mnt/usb/IR-20261127-235134-a1b2.tar.gz',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --output case.tar.gz --json',
  ]
  static override args = {id: Args.string({description: 'Case id', required: true})}
  static override flags = {
    output: Flags.string({
      char: 'o',
      summary: 'The archive to write (.tar.gz); never replaced if it exists.',
      required: true,
      helpValue: '<file.tar.gz>',
    }),
    'allowed-signers': Flags.string({
      summary: 'Check the seal against this allowed_signers file before exporting.',
      helpValue: '<file>',
    }),
  }

  async run(): Promise<ExportResult> {
    const as = this.flags['allowed-signers']
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
