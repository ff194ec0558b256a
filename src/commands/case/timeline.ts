import {resolve} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {renderTimesketchCsv, renderTimesketchJsonl} from '../../services/report/timeline-formats.js'
import {exportTimeline, type TimesketchRow} from '../../services/report/timeline.js'
import {writeFileAtomic} from '../../util/fs.js'

export default class CaseTimeline extends BaseCommand<typeof CaseTimeline> {
  static override summary = "Export the case timeline for timeline tools (Timesketch's CSV or JSONL columns)."
  static override description =
    'One event per audit entry and per responder event (`ir case event`), sorted by time, with the columns Timesketch imports: message, datetime (ISO 8601 UTC) and timestamp_desc ("ir audit entry" or "responder event"), plus seq, actor, action, target, outcome and case_id. CSV follows RFC 4180 (CRLF, quoted fields). Read-only.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --format csv --output timeline.csv',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --format jsonl | jq .message',
  ]
  static override args = {id: Args.string({description: 'Case id', required: true})}
  static override flags = {
    format: Flags.string({summary: 'Output format.', options: ['jsonl', 'csv'], default: 'jsonl'}),
    output: Flags.string({char: 'o', summary: 'Write to this file instead of stdout.', helpValue: '<file>'}),
  }

  async run(): Promise<{caseId: string; events: number; output?: string; rows: TimesketchRow[]}> {
    const {kase} = await this.store.open({id: this.args.id, create: false})
    const {caseId, rows} = await exportTimeline(kase)
    const text = this.flags.format === 'csv' ? renderTimesketchCsv(rows) : renderTimesketchJsonl(rows)
    if (this.flags.output) {
      const path = resolve(this.flags.output)
      await writeFileAtomic(path, text)
      this.progress(`Wrote ${rows.length} events to ${path}`)
      return {caseId, events: rows.length, output: path, rows}
    }
    if (!this.jsonEnabled()) process.stdout.write(text)
    return {caseId, events: rows.length, rows}
  }
}
