import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {AbortError} from '../errors.js'
import {caseFlag, containersArg, filterFlag, hostFlags, serviceFlag, yesFlag} from '../flags.js'
import {renderSnapshot} from '../render/evidence.js'
import {byteProgress} from '../render/progress.js'
import {type SnapshotResult, snapshotOnHosts} from '../services/evidence/snapshot.js'
import {selectionOf, selectionText, selectsNothing, snapshotOptions, stepExitCode} from '../services/step-options.js'

export default class Snapshot extends BaseCommand<typeof Snapshot> {
  static override summary =
    'Commit a forensic snapshot and save it, the diff, processes and filesystem export into the case.'

  static override description = `For each container: commit it (paused during the commit) to an image tagged
ir-evidence/<case>:<container>-<UTC time> and labelled ir.evidence=true (ir never removes such an image); save that image
as a tar in the case; record docker diff (what was added, changed, deleted), the process list and the mounts; stream the
filesystem export into the case with an index (path, type, size, mode, owner, mtime, link target, SHA-256 per file).
Everything is hashed while it streams and verified on disk. Re-running adds new timestamped artifacts; nothing is
overwritten. Volumes are not in a commit or an export: --volumes archives their contents too.
Across hosts (--host, --context, --hosts; <host>/<container>; --filter; --service for every task of a swarm service)
each host gets its own evidence tree (evidence/<host>/<container>/...). The evidence image and the manifest source
carry the host and engine id, and for a swarm task its service and task (labels ir.service, ir.task).`

  static override examples = [
    {
      description: 'Snapshot an isolated container into its case',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 web-1 --yes',
    },
    {
      description: 'Include the contents of its volumes and bind mounts',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 web-1 --volumes --yes',
    },
    {
      description: 'With the memory of every process (a forensic copy: not redacted)',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 web-1 --memory --yes',
    },
    {
      description: 'Skip the filesystem export (image, diff and processes only)',
      command: '<%= config.bin %> <%= command.id %> web-1 --no-export --yes',
    },
    {
      description: 'Every task of a swarm service, through its manager',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 --context prod-manager --service web --yes',
    },
  ]

  static override strict = false
  static override args = {
    containers: containersArg('snapshot'),
  }
  static override flags = {
    case: caseFlag,
    yes: yesFlag,
    filter: filterFlag,
    service: serviceFlag,
    ...hostFlags,
    export: Flags.boolean({
      summary: 'Stream the filesystem export and its index into the case.',
      default: true,
      allowNo: true,
    }),
    volumes: Flags.boolean({summary: 'Also archive the contents of mounted volumes and bind mounts.', default: false}),
    live: Flags.boolean({
      summary: 'Capture the live state first, from /proc while frozen: processes, sockets, executables (and memory).',
      description:
        "Needs ir on the engine's host (a local socket); on a remote engine the snapshot says in one line that it was not captured.",
      default: true,
      allowNo: true,
    }),
    memory: Flags.boolean({
      summary: "Also dump each process's readable memory with the live state (raw regions, mode 0600).",
      description:
        'Memory is a forensic copy, like the filesystem export: it is not redacted and holds whatever the processes held, secrets included. It stays in the case; nothing of it goes into a report, a notification or an IOC export.',
      default: false,
      allowNo: true,
    }),
  }

  async run(): Promise<SnapshotResult> {
    const {flags} = this
    const selection = selectionOf({refs: this.argvRest, filter: flags.filter, service: flags.service})
    if (selectsNothing(selection))
      throw new AbortError('Nothing to snapshot: name containers, or select them with --filter or --service', {
        exit: 'USAGE',
      })
    const hosts = await this.connectHosts(flags)
    // A commit briefly pauses a running container and adds an image: ask, like any state change.
    await this.confirm(
      `Snapshot ${selectionText(selection)} (read its live state, commit to an evidence image, save it and the filesystem into the case)?`,
      {yes: flags.yes, what: 'snapshot containers'},
    )
    const kase = await this.openCase(flags.case)
    const result = await snapshotOnHosts(
      snapshotOptions(hosts, {
        selection,
        kase,
        maxHosts: flags['max-hosts'],
        export: flags.export,
        volumes: flags.volumes,
        live: flags.live,
        memory: flags.memory,
        signal: this.interrupt.signal,
        progress: (l) => this.progress(l),
        transferProgress: (label) => byteProgress(label),
      }),
    )
    this.log(renderSnapshot(result))
    // A partly failed snapshot exits with its first failed step's code.
    this.failWith(
      stepExitCode({...result, containers: result.containers.map((c) => ({error: c.error ?? c.failures[0]?.error}))}),
    )
    this.failIfInterrupted()
    return result
  }
}
