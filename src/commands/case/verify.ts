import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {VerifyResult} from '../../case/verify.js'
import {ExitCode} from '../../errors.js'
import {renderVerify} from '../../render/cases.js'
import {verifyCaseById} from '../../services/cases.js'

export default class CaseVerify extends BaseCommand<typeof CaseVerify> {
  static override summary = 'Re-hash every artifact and re-walk the audit chain; exit 6 naming what does not match.'
  static override description = `Checks each manifest entry's SHA-256 and size against the bytes on disk, and the audit log's hash
chain (each line holds the SHA-256 of the line before it; case.json holds the head), so an edited, deleted or
reordered line is found. Read-only.`
  static override examples = ['<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2', '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --json']
  static override args = {id: Args.string({description: 'Case id', required: true})}

  async run(): Promise<VerifyResult> {
    const result = await verifyCaseById(this.store, this.args.id)
    this.log(renderVerify(result))
    if (!result.ok) this.failWith(ExitCode.INTEGRITY)
    return result
  }
}
