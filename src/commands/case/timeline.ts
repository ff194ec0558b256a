import {resolve} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {AbortError} from '../../errors.js'
import {exportBodyfile, type BodyfileResult} from '../../services/report/timeline-bodyfile.js'
import {renderTimesketchCsv, renderTimesketchJsonl} from '../../services/report/timeline-formats.js'
import {exportTimeline, type TimesketchRow} from '../../services/report/timeline.js'
import {writeFileAtomic} from '../../util/fs.js'

type TimelineResult =
  | {caseId: string; format: 'jsonl' | 'csv'; events: number; output?: string; rows: TimesketchRow[]}
  | ({format: 'bodyfile'; output?: string} & Omit<BodyfileResult, 'text'>)

export default class CaseTimeline extends BaseCommand<typeof CaseTimeline> {
  static override summary =
    "Export the case timeline for timeline tools: Timesketch's CSV or JSONL, or a Sleuth Kit body file for mactime."
  static override description = `jsonl, csv: Timesketch's import columns, exact: message, datetime (ISO 8601 with its offset,
2026-11-27T10:05:00.123000+00:00), timestamp (the same instant in microseconds since the epoch) and timestamp_desc,
plus seq, actor, action, target, outcome, case_id, path and artifact. One row per audit entry ("ir audit entry"), per
responder event (\`ir case event\`), per live-state capture ("Live State Capture Time": process list, docker diff,
mounts, the /proc capture), per process start of a live process table ("Process Start Time") and per file
modification time in the filesystem export indexes ("Content Modification Time"), sorted by time. CSV follows RFC 4180 (CRLF, quoted fields).
bodyfile: the filesystem export indexes of the case (\`ir snapshot\`) in Sleuth Kit body-file 3.x form,
MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime, one line per index entry, names prefixed by
the container (web:/etc/passwd). A % or | in a name is written %25 or %7C, which mactime decodes; a control
character as \\xHH and a backslash as \\\\ (shown as such by mactime, decoded by plaso). Times a tar does not
hold (atime, ctime, crtime) are 0, "not known": mactime lists them at Xxx Xxx 00 0000 unless given a start date.
Each index is checked against its manifest SHA-256 as it is read (exit 6 if it does not match). Read-only.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --format csv --output timeline.csv',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --format jsonl | jq .message',
    '<%= config.bin %> <%= command.id %> IR-20261127-235134-a1b2 --format bodyfile --output body.txt && mactime -b body.txt -d -y 1970-01-02',
  ]
  static override args = {id: Args.string({description: 'Case id', required: true})}
  static override flags = {
    format: Flags.string({summary: 'Output format.', options: ['jsonl', 'csv', 'bodyfile'], default: 'jsonl'}),
    output: Flags.string({char: 'o', summary: 'Write to this file instead of stdout.', helpValue: '<file>'}),
  }

  async run(): Promise<TimelineResult> {
    const {kase} = await this.store.open({id: this.args.id, create: false})
    const format = this.flags.format as 'jsonl' | 'csv' | 'bodyfile'
    let text: string
    let result: TimelineResult
    let what: string
    if (format === 'bodyfile') {
      const {text: body, ...rest} = await exportBodyfile(kase)
      if (rest.indexes.length === 0)
        throw new AbortError(`Case ${kase.id} has no filesystem export index`, {
          exit: 'NOT_FOUND',
          hint: `Snapshot a container first: ir snapshot <container> --case ${kase.id} (the export is on by default).`,
        })
      text = body
      result = {format, ...rest}
      what = `${rest.entries} entries of ${rest.indexes.length} export index(es)`
    } else {
      const {caseId, rows} = await exportTimeline(kase)
      text = format === 'csv' ? renderTimesketchCsv(rows) : renderTimesketchJsonl(rows)
      result = {caseId, format, events: rows.length, rows}
      what = `${rows.length} events`
    }
    if (this.flags.output) {
      const path = resolve(this.flags.output)
      await writeFileAtomic(path, text)
      this.progress(`Wrote ${what} to ${path}`)
      return {...result, output: path}
    }
    if (!this.jsonEnabled()) process.stdout.write(text)
    return result
  }
}
