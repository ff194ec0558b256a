import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {VerifyResult} from '../../case/verify.js'
import {ExitCode} from '../../errors.js'
import {renderVerify} from '../../render/cases.js'
import {verifyCaseById} from '../../services/cases.js'

export default class CaseVerify extends BaseCommand<typeof CaseVerify> {
  static override summary = 'Cross-check the whole case: artifacts, manifest, audit chain, case.json and state; exit 6 naming what does not match.'
  static override description = `Read-only. Checks that:
- every manifest entry is a regular file (no symlink, no hard link) with its recorded size and SHA-256;
- the manifest and the audit chain agree both ways (each evidence.add has its entry, with the digest of the
  whole entry, so an edited collectedAt, collectedBy or source is found; no entry lacks its record);
- evidence/ holds nothing else than .partial files (incomplete transfers, listed but not evidence);
- case.json's fields and each state file (containment, rotation, playbook journal) match the hash recorded
  in the chain at their last change;
- the audit log's hash chain is intact (each line holds the SHA-256 of the line before it) and its head
  matches case.json, so an edited, deleted, reordered or appended line is found.
What verify cannot tell on its own: a log rewritten and re-chained from the start together with every file
it names. Only a signature over the chain can.`
  static override examples = ['<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2', '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --json', '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --incidents-dir /mnt/handover/incidents']
  static override args = {id: Args.string({description: 'Case id', required: true})}

  async run(): Promise<VerifyResult> {
    const result = await verifyCaseById(this.store, this.args.id)
    this.log(renderVerify(result))
    if (!result.ok) this.failWith(ExitCode.INTEGRITY)
    return result
  }
}
