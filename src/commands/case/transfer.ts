import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {type TransferResult, transferCase} from '../../services/transfer.js'

export default class CaseTransfer extends BaseCommand<typeof CaseTransfer> {
  static override summary =
    'Record a custody transfer: who handed the case to whom, when (with the offset), why, where, and its SHA-256.'
  static override description = `Appends one entry to the case's custody record state/custody.json (append-only; an edited
or removed entry fails \`ir case verify\`) and a case.transfer line to the audit chain, under the case lock. The entry
holds: from (default your OS user@host), to, the reason, the time in ISO 8601 with this host's offset, the destination,
and the SHA-256 of what was handed over: the newest seal's SHA256SUMS, or with --archive the export archive (one made
by \`ir case export\` of this case). \`ir report\` lists every transfer in its chain-of-custody table.
A transfer is a custody record: it does not need a new seal, and a later \`ir case export\` is still allowed.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --to "Bob Examiner, Example CERT" --reason "forensic analysis"',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --to "Bob Examiner, Example CERT" --reason "forensic analysis" --archive /mnt/usb/IR-20261127-235134-a1b2.tar.gz --destination "USB stick SN 4C53, courier"',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --from "Alice Responder, Example Ltd" --to "Evidence locker 3, Example Ltd" --reason "storage" --json',
  ]
  static override args = {id: Args.string({description: 'Case id', required: true})}
  static override flags = {
    to: Flags.string({summary: 'Who receives it: "<name, organisation>".', required: true, helpValue: '<name, org>'}),
    reason: Flags.string({summary: 'Why it is handed over.', required: true, helpValue: '<text>'}),
    from: Flags.string({summary: 'Who hands it over (default: your OS user@host).', helpValue: '<name, org>'}),
    destination: Flags.string({
      summary: 'Where the copy goes (a place, a medium, a system).',
      helpValue: '<where>',
    }),
    archive: Flags.string({
      summary: "The export archive handed over: its SHA-256 is recorded instead of the seal's SHA256SUMS.",
      helpValue: '<file.tar.gz>',
    }),
  }

  async run(): Promise<TransferResult> {
    const f = this.flags
    const r = await transferCase({
      store: this.store,
      id: this.args.id,
      to: f.to,
      reason: f.reason,
      ...(f.from === undefined ? {} : {from: f.from}),
      ...(f.destination === undefined ? {} : {destination: f.destination}),
      ...(f.archive === undefined ? {} : {archive: f.archive}),
    })
    for (const w of r.warnings) this.warnLine(w)
    const what = r.of.kind === 'seal' ? `seal generation ${r.of.generation} (${r.of.path})` : `archive ${r.of.path}`
    this.log(
      [
        `Case ${r.caseId}: custody transfer #${r.n} recorded (audit line ${r.seq}).`,
        `  from:        ${r.from}`,
        `  to:          ${r.to}`,
        `  at:          ${r.at}`,
        `  reason:      ${r.reason}`,
        ...(r.destination ? [`  destination: ${r.destination}`] : []),
        `  handed over: ${what}`,
        `  SHA-256:     ${r.sha256}`,
      ].join('\n'),
    )
    return r
  }
}
