import {resolve} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {caseIocs, type Ioc, iocsToStix, renderIocsCsv} from '../../services/report/iocs.js'
import {writeFileAtomic} from '../../util/fs.js'

interface IocsResult {
  caseId: string
  format: 'csv' | 'stix'
  iocs: Ioc[]
  output?: string
}

export default class CaseIocs extends BaseCommand<typeof CaseIocs> {
  static override summary = 'Export the indicators of compromise the snapshots found, as CSV or a STIX 2.1 bundle.'
  static override description = `The IOCs are those the findings of every snapshot named (ir snapshot prints them; the
report's "What happened" lists them): dropped and recovered files with their SHA-256, remote addresses with their
ports, and process names. They come from the audit chain, never from the contents of a memory dump or a recovered
binary. csv: case_id,container,type,value,sha256 (RFC 4180). stix: a STIX 2.1 bundle with an identity for ir, an
observable per IOC (file with its SHA-256, ipv4-addr or ipv6-addr with its network-traffic, process) and an indicator
with a STIX pattern for each file hash and address. Read-only.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --format stix --output iocs.stix.json',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --json | jq ".iocs[] | select(.type == \\"file\\")"',
  ]
  static override args = {id: Args.string({description: 'Case id', required: true})}
  static override flags = {
    format: Flags.string({summary: 'Output format.', options: ['csv', 'stix'], default: 'csv'}),
    output: Flags.string({char: 'o', summary: 'Write to this file instead of stdout.', helpValue: '<file>'}),
  }

  async run(): Promise<IocsResult> {
    const {kase} = await this.store.open({id: this.args.id, create: false})
    const format = this.flags.format as 'csv' | 'stix'
    const {caseId, iocs, findings} = await caseIocs(kase)
    const text =
      format === 'csv' ? renderIocsCsv(caseId, iocs) : `${JSON.stringify(iocsToStix(caseId, iocs), null, 2)}\n`
    if (iocs.length === 0)
      this.progress(
        findings === 0
          ? `No IOC in case ${caseId}: no snapshot found anything (or none was taken).`
          : `No IOC in case ${caseId}: its ${findings} finding(s) name no file hash, address or process.`,
      )
    if (this.flags.output) {
      const path = resolve(this.flags.output)
      await writeFileAtomic(path, text)
      this.progress(`Wrote ${iocs.length} IOC(s) to ${path}`)
      return {caseId, format, iocs, output: path}
    }
    if (!this.jsonEnabled()) process.stdout.write(text)
    return {caseId, format, iocs}
  }
}
