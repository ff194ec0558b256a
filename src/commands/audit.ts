import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {abort, ExitCode} from '../errors.js'
import {concurrencyFlag} from '../flags.js'
import {renderAudit} from '../render/audit.js'
import {toJunit, toSarif} from '../services/audit/formats.js'
import {
  type AuditResult,
  type AuditSeverity,
  auditContainers,
  hasFindingsAtOrAbove,
  SEVERITIES,
} from '../services/audit.js'

export default class Audit extends BaseCommand<typeof Audit> {
  static override summary =
    "Audit containers, the engine and its host against the CIS Docker Benchmark 1.6.0 (and ir's own checks), without touching them; --fail-on for CI."

  static override description = `Every automated check of the CIS Docker Benchmark 1.6.0 that applies to a running engine: section 4 (images) and 5 (runtime) per container, and with --daemon (or --all) section 2 (daemon configuration), 3 (file ownership and permissions, when ir runs on the engine's host), 4.5, 5.1 and 7 (swarm, on a manager). Each finding carries its CIS id, the benchmark version and its level; manual recommendations are listed with what to look at; host checks say "needs local access" when ir is not on the engine's host. ir's own checks keep their ids beside the CIS ones: PID 1's real uid, log rotation, image age, unbounded restarts, other runtimes' sockets.

Never touches what it audits: no exec, no pause, no change; only GET requests to the engine (inspects, info, networks, exec inspect; docker top only for a remote engine, which the engine logs as a "top" event) and reads on its host (/proc, daemon.json, stat). Stopped containers are audited too and flagged as stopped; containers isolated by ir are marked quarantined.

Read-only: nothing is written anywhere unless --case is given; then the result is stored in the case as hardening-audit evidence and an audit.hardening entry listing each finding with its CIS id.`

  static override examples = [
    {description: 'Audit two containers', command: '<%= config.bin %> <%= command.id %> web-1 worker-1'},
    {
      description: 'Audit a compose project, fail the CI job on any high or critical finding',
      command: '<%= config.bin %> <%= command.id %> --project shop --fail-on high',
    },
    {description: 'Every running container, as JSON', command: '<%= config.bin %> <%= command.id %> --all --json'},
    {
      description: 'Store the audit in a case (evidence + audit log entry)',
      command: '<%= config.bin %> <%= command.id %> web-1 --case IR-2026-001',
    },
    {
      description:
        'Engine, host and every container (stopped too), Level 1 only, as SARIF for a code-scanning dashboard',
      command: '<%= config.bin %> <%= command.id %> --all --level 1 --format sarif > audit.sarif',
    },
    {
      description: 'JUnit XML for CI, leaving out the lab containers, failing on medium or worse',
      command:
        "<%= config.bin %> <%= command.id %> --all --exclude 'ir-lab-*' --format junit --fail-on medium > audit.xml",
    },
    {
      description: 'Only the daemon checks of section 2 and the socket checks',
      command: '<%= config.bin %> <%= command.id %> --daemon --only 2,3.15,3.16',
    },
  ]

  static override strict = false

  static override args = {
    containers: Args.string({
      description: 'Containers to audit: names, full ids or unique id prefixes.',
      required: false,
    }),
  }

  static override flags = {
    project: Flags.string({
      char: 'p',
      summary: 'Audit every container of this compose project (label com.docker.compose.project).',
      helpValue: '<name>',
      exclusive: ['all'],
    }),
    all: Flags.boolean({summary: 'Audit the engine, its host and every container, running or not.', default: false}),
    daemon: Flags.boolean({
      summary: 'Also audit the engine and its host (CIS sections 2, 3, 4.5, 5.1, 7).',
      default: false,
    }),
    'fail-on': Flags.string({
      summary:
        'Exit 9 when any failed check is at or above this severity (manual and needs-local-access ones never fail).',
      options: [...SEVERITIES],
      helpValue: '<severity>',
    }),
    format: Flags.string({
      summary: 'Output format on stdout (--json is the same as --format json).',
      options: ['human', 'json', 'sarif', 'junit'],
      default: 'human',
    }),
    level: Flags.integer({
      summary: 'CIS profile level: 1 keeps Level 1 checks only; 2 keeps all.',
      default: 2,
      min: 1,
      max: 2,
      helpValue: '1|2',
    }),
    exclude: Flags.string({
      summary: 'Leave out containers whose name matches this pattern (* and ? wildcards); repeatable.',
      multiple: true,
      helpValue: '<pattern>',
    }),
    only: Flags.string({
      summary: 'Keep only these checks: ir ids, CIS ids or sections, comma-separated (e.g. 5.8,5.20,2).',
      helpValue: '<ids>',
    }),
    'max-image-age': Flags.integer({summary: 'Flag images built more than this many days ago.', default: 90, min: 1}),
    case: Flags.string({
      char: 'c',
      summary:
        'Store the result in this case (hardening-audit evidence and an audit.hardening entry). Without it nothing is written.',
      env: 'IR_CASE',
      helpValue: '<case-id>',
    }),
    concurrency: concurrencyFlag,
  }

  async run(): Promise<AuditResult> {
    const {flags} = this
    const targets = this.argvRest
    if (targets.length > 0 && (flags.project || flags.all)) {
      abort('Give container names, or --project, or --all: not a mix', {
        exit: 'USAGE',
        hint: 'ir audit web-1 worker-1 | ir audit --project shop | ir audit --all',
      })
    }
    if (targets.length === 0 && !flags.project && !flags.all && !flags.daemon) {
      abort('Nothing to audit: name containers, or use --project <name>, --all or --daemon', {
        exit: 'USAGE',
        hint: 'ir audit web-1 worker-1 | ir audit --project shop | ir audit --all | ir audit --daemon',
      })
    }
    const level = flags.level as 1 | 2
    if (level !== 1 && level !== 2)
      abort(`--level must be 1 or 2, not ${String(flags.level)}`, {exit: 'USAGE', hint: 'ir audit --all --level 1'})
    const only = (flags.only ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
    if (flags.only !== undefined && only.length === 0)
      abort('--only needs at least one check id', {exit: 'USAGE', hint: 'ir audit --all --only 5.8,5.20'})
    const engine = await this.connect()
    const kase = flags.case ? await this.openCase(flags.case) : undefined
    const result = await auditContainers({
      engine,
      ...(targets.length ? {targets} : {}),
      ...(flags.project ? {project: flags.project} : {}),
      all: flags.all,
      daemon: flags.daemon,
      level,
      ...(flags.exclude?.length ? {exclude: flags.exclude} : {}),
      ...(only.length ? {only} : {}),
      store: this.store,
      ...(kase ? {kase} : {}),
      maxImageAgeDays: flags['max-image-age'],
      concurrency: flags.concurrency,
      signal: this.interrupt.signal,
      progress: (l) => this.progress(l),
    })
    if (!this.jsonEnabled()) {
      if (flags.format === 'json') this.logJson(result)
      else if (flags.format === 'sarif') process.stdout.write(`${JSON.stringify(toSarif(result), null, 2)}\n`)
      else if (flags.format === 'junit') process.stdout.write(toJunit(result))
      else this.log(renderAudit(result))
    }
    const firstFailure = result.failed[0]
    if (firstFailure) this.failWith(firstFailure.error.exitCode)
    const failOn = flags['fail-on'] as AuditSeverity | undefined
    if (failOn && hasFindingsAtOrAbove(result, failOn)) {
      this.failWith(ExitCode.AUDIT_FAILED)
      this.progress(`Findings at or above ${failOn} (--fail-on): exit ${process.exitCode}.`)
    }
    this.failIfInterrupted()
    return result
  }
}
