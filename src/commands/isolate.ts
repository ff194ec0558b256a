import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {AbortError} from '../errors.js'
import {
  caseFlag,
  concurrencyFlag,
  containersArg,
  dryRunFlag,
  filterFlag,
  hostFlags,
  serviceFlag,
  yesFlag,
} from '../flags.js'
import {renderIsolate} from '../render/containment.js'
import {type IsolateResult, isolateOnHosts} from '../services/isolate.js'
import {isolateOptions, selectionOf, selectionText, selectsNothing, stepExitCode} from '../services/step-options.js'

export default class Isolate extends BaseCommand<typeof Isolate> {
  static override summary = 'Contain containers without destroying evidence: freeze processes and cut every network.'

  static override description = `Before changing anything, the container's inspect (secrets redacted) is stored as evidence in the case.
Then its processes are frozen (docker pause: memory and processes stay intact for forensics) and it is disconnected
from every network, each endpoint (network, aliases, static IPs, links) recorded so \`ir release\` can restore it.
A container using the host network or another container's network namespace cannot be disconnected: ir says so,
pauses it, and records that its network was not cut. Isolating an isolated container succeeds and says so.

Across hosts: --host (repeatable), --context (repeatable) or --hosts <inventory> name the engines; a reference
can be qualified as <host>/<container>, and a bare one must match on exactly one host. --filter (docker ps syntax:
label=app=web, ancestor=<image>) selects containers on every host; --service selects every running task of a swarm
service (found through a manager among the hosts) on the node engine running it. Hosts are handled concurrently
(--max-hosts), containers per host too (--concurrency). An unreachable host is reported and audited, the others are
still isolated, and the exit code is non-zero; running the same command again finishes the hosts that failed and
reports the others as already isolated. Swarm task containers are paused (the default): a paused task still counts
as running for the swarm, so it is not rescheduled.

--capture reads the live state from /proc (processes, sockets with their processes, executables; with --memory each
process's readable memory) after the pause and before the network cut, which would close the connections it shows.
The files are artifacts of the case, like a snapshot's (docs/live-state.md).`

  static override examples = [
    {
      description: 'Isolate one container into a new case (its id is printed)',
      command: '<%= config.bin %> <%= command.id %> web-1 --yes',
    },
    {
      description: 'Isolate several into an existing case',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 web-1 worker-1 --yes',
    },
    {
      description: 'Capture processes, connections and memory while frozen, before the network is cut',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 web-1 --capture --memory --yes',
    },
    {description: 'See what would be done', command: '<%= config.bin %> <%= command.id %> web-1 --dry-run'},
    {
      description: 'Cut the network but keep processes running (e.g. to watch them)',
      command: '<%= config.bin %> <%= command.id %> web-1 --network-only --yes',
    },
    {
      description: 'Every container of an image, on three engines',
      command:
        '<%= config.bin %> <%= command.id %> --case IR-2026-001 --filter ancestor=shop/web:1.4 -H ssh://ops@node-1 -H ssh://ops@node-2 -H tcp://10.0.0.7:2376 --yes',
    },
    {
      description: 'A container on one host of an inventory',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 --hosts hosts.yml node-2/web-1 --yes',
    },
    {
      description: 'Every task of a swarm service (run against a manager)',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 --context prod-manager --service web --yes',
    },
  ]

  static override strict = false

  static override args = {
    containers: containersArg('isolate'),
  }

  static override flags = {
    case: caseFlag,
    yes: yesFlag,
    'dry-run': dryRunFlag,
    stop: Flags.boolean({
      summary: 'Stop the containers instead of pausing them (loses process memory).',
      exclusive: ['network-only'],
      default: false,
    }),
    'network-only': Flags.boolean({summary: 'Only cut the networks; leave processes running.', default: false}),
    'stop-timeout': Flags.integer({summary: 'Seconds to wait for a graceful stop with --stop.', default: 10, min: 0}),
    capture: Flags.boolean({
      summary:
        'Capture the live state from /proc after the pause and before the network cut (processes, sockets, executables).',
      default: false,
    }),
    memory: Flags.boolean({
      summary:
        "With --capture (implied): also dump each process's readable memory (raw regions, mode 0600, not redacted).",
      default: false,
    }),
    concurrency: concurrencyFlag,
    filter: filterFlag,
    service: serviceFlag,
    ...hostFlags,
  }

  async run(): Promise<IsolateResult> {
    const {flags} = this
    const selection = selectionOf({refs: this.argvRest, filter: flags.filter, service: flags.service})
    if (selectsNothing(selection)) {
      throw new AbortError('Nothing to isolate: name containers, or select them with --filter or --service', {
        exit: 'USAGE',
        hint: 'e.g. `ir isolate web-1`, `ir isolate --filter ancestor=shop/web:1.4`, `ir isolate --service web`.',
      })
    }
    const mode = flags.stop ? 'stop' : flags['network-only'] ? 'network-only' : 'pause'
    const hosts = await this.connectHosts(flags)
    if (!flags['dry-run']) {
      const where =
        hosts.multi || hosts.unreachable.length ? ` on ${hosts.hosts.length + hosts.unreachable.length} host(s)` : ''
      await this.confirm(
        `Isolate ${selectionText(selection)}${where} (${mode === 'pause' ? 'pause and cut networks' : mode === 'stop' ? 'STOP and cut networks' : 'cut networks only'})?`,
        {yes: flags.yes, what: 'isolate containers'},
      )
    }
    const kase = flags['dry-run'] ? undefined : await this.openCase(flags.case)
    const result = await isolateOnHosts(
      isolateOptions(hosts, {
        selection,
        kase,
        mode,
        dryRun: flags['dry-run'],
        concurrency: flags.concurrency,
        maxHosts: flags['max-hosts'],
        stopTimeoutSeconds: flags['stop-timeout'],
        capture: flags.capture,
        memory: flags.memory,
        signal: this.interrupt.signal,
        progress: (l) => this.progress(l),
      }),
    )
    this.log(renderIsolate(result))
    this.failWith(stepExitCode(result))
    this.failIfInterrupted()
    return result
  }
}
