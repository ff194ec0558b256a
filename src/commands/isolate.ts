import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {caseFlag, concurrencyFlag, dryRunFlag, yesFlag} from '../flags.js'
import {renderIsolate} from '../render/containment.js'
import {type IsolateResult, isolateContainers} from '../services/isolate.js'

export default class Isolate extends BaseCommand<typeof Isolate> {
  static override summary = 'Contain containers without destroying evidence: freeze processes and cut every network.'

  static override description = `Before changing anything, the container's inspect (secrets redacted) is stored as evidence in the case.
Then its processes are frozen (docker pause: memory and processes stay intact for forensics) and it is disconnected
from every network, each endpoint (network, aliases, static IPs, links) recorded so \`ir release\` can restore it.
A container using the host network or another container's network namespace cannot be disconnected: ir says so,
pauses it, and records that its network was not cut. Isolating an isolated container succeeds and says so.`

  static override examples = [
    {description: 'Isolate one container into a new case (its id is printed)', command: '<%= config.bin %> <%= command.id %> web-1 --yes'},
    {description: 'Isolate several into an existing case', command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 web-1 worker-1 --yes'},
    {description: 'See what would be done', command: '<%= config.bin %> <%= command.id %> web-1 --dry-run'},
    {description: 'Cut the network but keep processes running (e.g. to watch them)', command: '<%= config.bin %> <%= command.id %> web-1 --network-only --yes'},
  ]

  static override strict = false

  static override args = {
    containers: Args.string({description: 'Containers to isolate: names, full ids or unique id prefixes.', required: true}),
  }

  static override flags = {
    case: caseFlag,
    yes: yesFlag,
    'dry-run': dryRunFlag,
    stop: Flags.boolean({summary: 'Stop the containers instead of pausing them (loses process memory).', exclusive: ['network-only'], default: false}),
    'network-only': Flags.boolean({summary: 'Only cut the networks; leave processes running.', default: false}),
    'stop-timeout': Flags.integer({summary: 'Seconds to wait for a graceful stop with --stop.', default: 10, min: 0}),
    concurrency: concurrencyFlag,
  }

  async run(): Promise<IsolateResult> {
    const {flags} = this
    const targets = this.argvRest
    const mode = flags.stop ? 'stop' : flags['network-only'] ? 'network-only' : 'pause'
    const engine = await this.connect()
    if (!flags['dry-run']) {
      await this.confirm(`Isolate ${targets.join(', ')} (${mode === 'pause' ? 'pause and cut networks' : mode === 'stop' ? 'STOP and cut networks' : 'cut networks only'})?`, {yes: flags.yes, what: 'isolate containers'})
    }
    const kase = flags['dry-run'] ? undefined : await this.openCase(flags.case)
    const result = await isolateContainers({
      engine,
      ...(kase ? {kase} : {}),
      targets,
      mode,
      dryRun: flags['dry-run'],
      concurrency: flags.concurrency,
      stopTimeoutSeconds: flags['stop-timeout'],
      signal: this.interrupt.signal,
      progress: (l) => this.progress(l),
    })
    this.log(renderIsolate(result))
    const firstFailure = result.containers.find((c) => c.error)
    if (firstFailure?.error) this.failWith(firstFailure.error.exitCode)
    this.throwIfInterrupted()
    return result
  }
}
