import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {abort, ExitCode} from '../errors.js'
import {concurrencyFlag} from '../flags.js'
import {renderAudit} from '../render/audit.js'
import {type AuditResult, type AuditSeverity, auditContainers, hasFindingsAtOrAbove, SEVERITIES} from '../services/audit.js'

export default class Audit extends BaseCommand<typeof Audit> {
  static override summary = 'Check containers against a production hardening checklist; --fail-on for CI.'

  static override description = `Per container: runs as a non-root user (the configured user, and the uid actually running PID 1, read from /proc on the engine's host or else from docker top); all capabilities dropped and none dangerous added; not privileged; no-new-privileges set; seccomp/AppArmor not disabled; read-only root filesystem; memory, CPU and pids limits; a bounded restart policy; no Docker socket, no host network/PID/IPC/UTS/user namespace, no sensitive host path bind-mounted; no port published on all interfaces; log rotation; the image's age and default user.

Each finding has an id, a severity (critical, high, medium, low, info), a one-line message and a fix in compose and docker run syntax. A container with nothing at or above low passes.

Read-only: nothing is written anywhere unless --case is given; then the result is stored in the case as hardening-audit evidence and an audit.hardening entry.`

  static override examples = [
    {description: 'Audit two containers', command: '<%= config.bin %> <%= command.id %> web-1 worker-1'},
    {description: 'Audit a compose project, fail the CI job on any high or critical finding', command: '<%= config.bin %> <%= command.id %> --project shop --fail-on high'},
    {description: 'Every running container, as JSON', command: '<%= config.bin %> <%= command.id %> --all --json'},
    {description: 'Store the audit in a case (evidence + audit log entry)', command: '<%= config.bin %> <%= command.id %> web-1 --case IR-2026-001'},
  ]

  static override strict = false

  static override args = {
    containers: Args.string({description: 'Containers to audit: names, full ids or unique id prefixes.', required: false}),
  }

  static override flags = {
    project: Flags.string({char: 'p', summary: 'Audit every container of this compose project (label com.docker.compose.project).', helpValue: '<name>', exclusive: ['all']}),
    all: Flags.boolean({summary: 'Audit every running container.', default: false}),
    'fail-on': Flags.string({summary: 'Exit 9 when any finding is at or above this severity.', options: [...SEVERITIES], helpValue: '<severity>'}),
    'max-image-age': Flags.integer({summary: 'Flag images built more than this many days ago.', default: 90, min: 1}),
    case: Flags.string({
      char: 'c',
      summary: 'Store the result in this case (hardening-audit evidence and an audit.hardening entry). Without it nothing is written.',
      env: 'IR_CASE',
      helpValue: '<case-id>',
    }),
    concurrency: concurrencyFlag,
  }

  async run(): Promise<AuditResult> {
    const {flags} = this
    const targets = this.argvRest
    if (targets.length > 0 && (flags.project || flags.all)) {
      abort('Give container names, or --project, or --all: not a mix', {exit: 'USAGE', hint: 'ir audit web-1 worker-1 | ir audit --project shop | ir audit --all'})
    }
    if (targets.length === 0 && !flags.project && !flags.all) {
      abort('Nothing to audit: name containers, or use --project <name> or --all', {exit: 'USAGE', hint: 'ir audit web-1 worker-1 | ir audit --project shop | ir audit --all'})
    }
    const engine = await this.connect()
    const kase = flags.case ? await this.openCase(flags.case) : undefined
    const result = await auditContainers({
      engine,
      ...(targets.length ? {targets} : {}),
      ...(flags.project ? {project: flags.project} : {}),
      all: flags.all,
      ...(kase ? {kase} : {}),
      maxImageAgeDays: flags['max-image-age'],
      concurrency: flags.concurrency,
      signal: this.interrupt.signal,
      progress: (l) => this.progress(l),
    })
    this.log(renderAudit(result))
    const firstFailure = result.failed[0]
    if (firstFailure) this.failWith(firstFailure.error.exitCode)
    const failOn = flags['fail-on'] as AuditSeverity | undefined
    if (failOn && hasFindingsAtOrAbove(result, failOn)) {
      this.failWith(ExitCode.AUDIT_FAILED)
      this.progress(`Findings at or above ${failOn} (--fail-on): exit ${process.exitCode}.`)
    }
    this.throwIfInterrupted()
    return result
  }
}
