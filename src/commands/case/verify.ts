import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {VerifyResult} from '../../case/verify.js'
import {abort, ExitCode} from '../../errors.js'
import {renderVerify} from '../../render/cases.js'
import {verifyCaseById} from '../../services/cases.js'
import {type ArchiveVerifyResult, verifyArchive} from '../../services/export.js'

export default class CaseVerify extends BaseCommand<typeof CaseVerify> {
  static override summary =
    'Cross-check the whole case: artifacts, manifest, audit chain, case.json and state; exit 6 naming what does not match.'
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
it names. Only a signature over the chain can: for a sealed case (\`ir case seal\`) verify also checks the newest
seal: its ssh signature (against --allowed-signers, your own list of trusted keys; without it, against the
case's own copy, which shows consistency but not who signed), every sum, that the sealed audit log is the start
of today's, and that nothing changed or was added since that no line after the seal records. Lines after the
seal are listed.
With --archive, an export (\`ir case export\`) is checked by the same code without extracting it: the archive is
read once as a stream, each member hashed as it passes; only the records (case.json, manifest, audit log, seals)
are kept in memory, and ssh-keygen and openssl get private temporary copies of the seal's few files. The archive
must hold a seal; a damaged archive is a problem naming the member it broke in.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --json',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --allowed-signers ~/.config/ir/allowed_signers',
    '<%= config.bin %> <%= command.id %> --archive IR-20261127-235134-a1b2.tar.gz --allowed-signers ~/.config/ir/allowed_signers',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --incidents-dir /mnt/handover/incidents',
  ]
  static override args = {id: Args.string({description: 'Case id (not with --archive)', required: false})}
  static override flags = {
    'allowed-signers': Flags.string({
      summary: "Your allowed_signers file (ssh-keygen format) to check a sealed case's signature against.",
      helpValue: '<file>',
    }),
    'tsa-ca': Flags.string({
      summary:
        "CA certificate(s) of the timestamping authority: check the seal's RFC 3161 timestamp with openssl ts -verify.",
      helpValue: '<file.pem>',
    }),

    archive: Flags.string({
      summary: 'Verify an exported case archive (`ir case export`) instead of a case folder.',
      helpValue: '<file.tar.gz>',
    }),
  }

  async run(): Promise<VerifyResult | ArchiveVerifyResult> {
    const as = this.flags['allowed-signers']
    const ca = this.flags['tsa-ca']
    const opts = {...(as === undefined ? {} : {allowedSigners: as}), ...(ca === undefined ? {} : {tsaCa: ca})}
    const archive = this.flags.archive
    if (archive !== undefined && this.args.id !== undefined)
      abort('Give a case id or --archive, not both', {exit: 'USAGE'})
    if (archive === undefined && this.args.id === undefined)
      abort('Missing the case id', {
        exit: 'USAGE',
        hint: 'ir case verify <id>, or ir case verify --archive <file.tar.gz>.',
      })
    let result: VerifyResult | ArchiveVerifyResult
    if (archive === undefined) result = await verifyCaseById(this.store, this.args.id!, opts)
    else {
      const r = await verifyArchive(archive, opts)
      this.log(`Archive ${r.archive.path}: SHA-256 ${r.archive.sha256}, ${r.archive.size} bytes`)
      result = r
    }
    this.log(renderVerify(result))
    if (!result.ok) this.failWith(ExitCode.INTEGRITY)
    return result
  }
}
