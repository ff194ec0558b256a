import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {AbortError} from '../errors.js'
import {caseFlag, containersArg, filterFlag, hostFlags, serviceFlag} from '../flags.js'
import {renderHostOutcomes} from '../render/containment.js'
import {byteProgress} from '../render/progress.js'
import {renderTable} from '../render/table.js'
import {formatBytes} from '../util/bytes.js'
import {type CollectResult, collectOnHosts} from '../services/evidence/collect.js'
import {collectOptions, selectionOf, selectsNothing, stepExitCode} from '../services/step-options.js'
import {parseTimePoint} from '../util/time.js'

export default class Collect extends BaseCommand<typeof Collect> {
  static override summary =
    'Archive logs, inspect, processes, diff, stats and engine events of containers into the case.'

  static override description = `One .tar.gz per container: stdout and stderr logs with timestamps (demultiplexed into separate
files), the inspect (secrets redacted), top, diff, a stats sample, the engine events touching the container since it
was created, and SHA256SUMS of every file in the archive. The archive's SHA-256 goes into the case manifest. A log
driver the engine cannot read back (e.g. none) is recorded as such instead of failing the collection. Collecting only
reads: it changes nothing on the container. Across hosts (--host, --context, --hosts; <host>/<container>; --filter;
--service) each host gets its own evidence tree (evidence/<host>/<container>/...).`

  static override examples = [
    {
      description: 'Collect from an isolated container',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 web-1',
    },
    {
      description: 'Only the last 2 hours of logs',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 web-1 --since 2h',
    },
    {
      description: 'A window of logs, result as JSON',
      command:
        '<%= config.bin %> <%= command.id %> web-1 --since 2026-11-27T22:00:00Z --until 2026-11-27T23:30:00Z --json',
    },
  ]

  static override strict = false
  static override args = {
    containers: containersArg('collect from'),
  }
  static override flags = {
    case: caseFlag,
    filter: filterFlag,
    service: serviceFlag,
    ...hostFlags,
    since: Flags.string({summary: 'Logs since (RFC 3339 date, Unix seconds, or a duration before now such as 2h).'}),
    until: Flags.string({summary: 'Logs until (same forms as --since). Default: now.'}),
  }

  async run(): Promise<CollectResult> {
    const {flags} = this
    const since = flags.since ? parseTimePoint(flags.since, '--since') : undefined
    const until = flags.until ? parseTimePoint(flags.until, '--until') : undefined
    if (since !== undefined && until !== undefined && until < since) {
      throw new AbortError(
        `--until (${new Date(until * 1000).toISOString()}) is before --since (${new Date(since * 1000).toISOString()})`,
        {exit: 'USAGE', hint: 'Swap them: --since is the start of the window, --until its end.'},
      )
    }
    const selection = selectionOf({refs: this.argvRest, filter: flags.filter, service: flags.service})
    if (selectsNothing(selection))
      throw new AbortError('Nothing to collect from: name containers, or select them with --filter or --service', {
        exit: 'USAGE',
      })
    const hosts = await this.connectHosts(flags)
    const kase = await this.openCase(flags.case)
    const result = await collectOnHosts(
      collectOptions(hosts, {
        selection,
        kase,
        maxHosts: flags['max-hosts'],
        since,
        until,
        signal: this.interrupt.signal,
        progress: (l) => this.progress(l),
        transferProgress: (label) => byteProgress(label),
      }),
    )
    const many = (result.hosts?.length ?? 0) > 1
    this.log(
      renderTable(
        [...(many ? ['HOST'] : []), 'CONTAINER', 'RESULT', 'LOGS', 'FILES', 'SIZE', 'ARCHIVE'],
        result.containers.map((c) => [
          ...(many ? [c.host ?? '-'] : []),
          c.name ?? c.ref,
          c.status,
          c.logs === 'collected' ? 'collected' : `unavailable (${c.logDriver ?? '?'})`,
          c.entries.length,
          c.archive ? formatBytes(c.archive.size) : '-',
          c.archive?.path ?? c.error?.message ?? '-',
        ]),
      ),
    )
    for (const line of renderHostOutcomes(result.hosts)) this.log(line)
    this.failWith(stepExitCode(result))
    this.failIfInterrupted()
    return result
  }
}
