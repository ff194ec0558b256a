import {BaseCommand} from '../base-command.js'
import {AbortError} from '../errors.js'
import {caseFlag, concurrencyFlag, containersArg, dryRunFlag, filterFlag, hostFlags, yesFlag} from '../flags.js'
import {renderRelease} from '../render/containment.js'
import {type ReleaseResult, releaseOnHosts} from '../services/release.js'
import {releaseOptions, selectionOf, selectionText, selectsNothing, stepExitCode} from '../services/step-options.js'

export default class Release extends BaseCommand<typeof Release> {
  static override summary =
    'Undo `ir isolate`: reconnect the recorded networks and unpause (or restart) the containers.'

  static override description = `Reconnects every network endpoint recorded at isolation with its aliases (and IP addresses where
they were static), then unpauses the container (or starts it, if ir stopped it). Without --case, the case that
isolated each container is found. Releasing reconnects a possibly compromised container: it asks first.
Across hosts, as for ir isolate: --host / --context / --hosts, <host>/<container> references, --filter selectors.`

  static override examples = [
    {
      description: 'Release a container isolated in a case',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 web-1 --yes',
    },
    {description: 'Show what release would restore', command: '<%= config.bin %> <%= command.id %> web-1 --dry-run'},
    {
      description: 'Release one container on one of several engines',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 --hosts hosts.yml node-2/web-1 --yes',
    },
  ]

  static override strict = false

  static override args = {
    containers: containersArg('release'),
  }

  static override flags = {
    case: caseFlag,
    yes: yesFlag,
    'dry-run': dryRunFlag,
    concurrency: concurrencyFlag,
    filter: filterFlag,
    ...hostFlags,
  }

  async run(): Promise<ReleaseResult> {
    const {flags} = this
    const selection = selectionOf({refs: this.argvRest, filter: flags.filter})
    if (selectsNothing(selection))
      throw new AbortError('Nothing to release: name containers, or select them with --filter', {exit: 'USAGE'})
    const hosts = await this.connectHosts(flags)
    if (!flags['dry-run']) {
      await this.confirm(`Release ${selectionText(selection)} (reconnect networks and resume processes)?`, {
        yes: flags.yes,
        what: 'release containers',
      })
    }
    const kase = flags.case ? await this.openExistingCase(flags.case) : undefined
    const result = await releaseOnHosts(
      releaseOptions(hosts, {
        selection,
        store: this.store,
        kase,
        dryRun: flags['dry-run'],
        concurrency: flags.concurrency,
        maxHosts: flags['max-hosts'],
        signal: this.interrupt.signal,
        progress: (l) => this.progress(l),
      }),
    )
    this.log(renderRelease(result))
    this.failWith(stepExitCode(result))
    this.failIfInterrupted()
    return result
  }
}
