import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {caseFlag, concurrencyFlag, dryRunFlag, yesFlag} from '../flags.js'
import {renderRelease} from '../render/containment.js'
import {type ReleaseResult, releaseContainers} from '../services/release.js'

export default class Release extends BaseCommand<typeof Release> {
  static override summary = 'Undo `ir isolate`: reconnect the recorded networks and unpause (or restart) the containers.'

  static override description = `Reconnects every network endpoint recorded at isolation with its aliases (and IP addresses where
they were static), then unpauses the container (or starts it, if ir stopped it). Without --case, the case that
isolated each container is found. Releasing reconnects a possibly compromised container: it asks first.`

  static override examples = [
    {description: 'Release a container isolated in a case', command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 web-1 --yes'},
    {description: 'Show what release would restore', command: '<%= config.bin %> <%= command.id %> web-1 --dry-run'},
  ]

  static override strict = false

  static override args = {
    containers: Args.string({description: 'Containers to release: names, full ids or unique id prefixes.', required: true}),
  }

  static override flags = {
    case: caseFlag,
    yes: yesFlag,
    'dry-run': dryRunFlag,
    concurrency: concurrencyFlag,
  }

  async run(): Promise<ReleaseResult> {
    const {flags} = this
    const targets = this.argvRest
    const engine = await this.connect()
    if (!flags['dry-run']) {
      await this.confirm(`Release ${targets.join(', ')} (reconnect networks and resume processes)?`, {yes: flags.yes, what: 'release containers'})
    }
    const kase = flags.case ? (await this.store.open({id: flags.case, create: false})).kase : undefined
    const result = await releaseContainers({
      engine,
      store: this.store,
      ...(kase ? {kase} : {}),
      targets,
      dryRun: flags['dry-run'],
      concurrency: flags.concurrency,
      signal: this.interrupt.signal,
      progress: (l) => this.progress(l),
    })
    this.log(renderRelease(result))
    const firstFailure = result.containers.find((c) => c.error)
    if (firstFailure?.error) this.failWith(firstFailure.error.exitCode)
    this.throwIfInterrupted()
    return result
  }
}
