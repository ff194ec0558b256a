import {format} from 'node:util'

import {Command, Flags, type Interfaces, ux} from '@oclif/core'

import {Case, CaseStore, currentExaminer, type Severity, TOOL} from './case/case-store.js'
import {connectNamedHosts, dockerodeEngines, type EngineFactory} from './docker/engine-factory.js'
import type {HostFlagValues, HostSet} from './docker/hosts.js'
import type {Engine} from './docker/types.js'
import {ExitCode, IrError, normalizeError} from './errors.js'
import {notifyFlags} from './flags.js'
import {colourEnabled} from './util/colour.js'
import type {OutputFold} from './util/output-fold.js'
import {StatusLine} from './render/progress.js'
import {confirmOrAbort} from './prompts/confirm.js'
import {type DeliveryRecord, Notifier} from './services/notify/notifier.js'
import {checkUrl, type NotifyFormat} from './services/notify/webhook.js'
import {jsonText, terminalSafe} from './util/controls.js'
import {assertWritable} from './util/fs.js'
import {createDebugLogger, type Logger} from './util/logger.js'

export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type ArgsOf<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

let engineFactory: EngineFactory = dockerodeEngines

/**
 * The one base command: shared flags (--json, --debug, --incidents-dir) parsed in init(), two-stage Ctrl-C (the
 * first aborts `interrupt.signal` and the command ends with exit 130 keeping what it collected, the second exits at
 * once), the case store, engine connections, and one catch() that turns any error into one clear line (or a JSON
 * error object) and a documented exit code. Subclasses read this.flags/this.args, call one service with an options
 * object, render its result, and return it as data.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    debug: Flags.boolean({
      summary: 'Show engine calls and stack traces on stderr.',
      helpGroup: 'GLOBAL',
      default: false,
    }),
    'incidents-dir': Flags.string({
      summary:
        'Folder of incident cases (default: IR_INCIDENTS_DIR, then incidentsDir in ~/.config/ir/config.json, then /var/lib/ir/incidents for root or ~/.local/state/ir/incidents).',
      helpGroup: 'GLOBAL',
    }),
    ...notifyFlags,
  }

  protected flags!: FlagsOf<T>
  protected args!: ArgsOf<T>
  protected argvRest: string[] = []
  protected readonly interrupt = new AbortController()
  private logger?: Logger
  private sigints = 0
  private readonly onSigint = (): void => {
    this.sigints++
    if (this.sigints > 1) {
      process.stderr.write(
        '\nForced exit. Evidence files already written are kept; a file being written is left as .partial.\n',
      )
      process.exit(ExitCode.INTERRUPTED)
    }
    process.stderr.write(
      '\nInterrupting: finishing the current engine call and keeping what was collected (Ctrl-C again to force)...\n',
    )
    this.interrupt.abort()
  }

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags, argv} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as FlagsOf<T>
    this.args = args as ArgsOf<T>
    this.argvRest = argv as string[]
    this.notifier = this.makeNotifier()
    process.on('SIGINT', this.onSigint)
  }

  /** The event sink of this command's cases: webhook messages for each step and finding. */
  private notifier?: Notifier
  /** The failure this command ends with, for the step's end message. */
  private failureMessage?: string

  private makeNotifier(): Notifier {
    const f = this.flags as unknown as {
      notify?: string
      'notify-format'?: string
      'notify-timeout'?: number
      'notify-retries'?: number
    }
    let url = f.notify === '' ? undefined : f.notify
    const problem = url === undefined ? undefined : checkUrl(url)
    if (problem) {
      // A mistyped webhook must not stop the response: say so once and carry on without notifications.
      this.warnLine(`the notification webhook (--notify or IR_NOTIFY_URL) ${problem}; no notifications are sent.`)
      url = undefined
    }
    const e = currentExaminer()
    return new Notifier({
      ...(url === undefined ? {} : {url, from: '--notify'}),
      format: (f['notify-format'] ?? 'auto') as NotifyFormat | 'auto',
      timeoutMs: (f['notify-timeout'] ?? 3) * 1000,
      retries: f['notify-retries'] ?? 2,
      command: this.id ?? '',
      tool: `${TOOL.name}/${TOOL.version}`,
      examiner: `${e.user}@${e.host}`,
      debug: (line) => this.debugLog.debug(line),
    })
  }

  /**
   * The end of a command: its steps' end messages, then a bounded wait (one --notify-timeout) for
   * whatever is still in flight, and each delivery recorded in its case's audit log. Never fails the command.
   */
  private async finishNotifications(err: Error | undefined): Promise<void> {
    const notifier = this.notifier
    if (!notifier?.enabled) return
    const oclifExit = (err as {oclif?: {exit?: number}} | undefined)?.oclif?.exit
    const exitCode =
      oclifExit ??
      (err !== undefined && (err as {code?: string}).code !== 'EEXIT' ? ExitCode.FAILURE : undefined) ??
      (typeof process.exitCode === 'number' ? process.exitCode : 0)
    notifier.commandEnded(exitCode, this.failureMessage)
    const records = await notifier.drain()
    await this.recordDeliveries(records)
    const failed = records.filter((r) => !r.result.ok)
    if (failed.length > 0) {
      const reasons = [...new Set(failed.map((r) => r.result.error ?? 'not delivered'))].slice(0, 2).join('; ')
      this.warnLine(
        `${failed.length} of ${records.length} notification(s) to ${notifier.endpoint} not delivered (${reasons}); recorded in the case's audit log.`,
      )
    }
    for (const d of notifier.dropped())
      this.warnLine(
        `case ${d.caseId}: ${d.findings} more finding(s) not notified (at most 25 per command); see the case.`,
      )
  }

  private async recordDeliveries(records: DeliveryRecord[]): Promise<void> {
    const byDir = new Map<string, DeliveryRecord[]>()
    for (const r of records) byDir.set(r.caseDir, [...(byDir.get(r.caseDir) ?? []), r])
    for (const [dir, list] of byDir) {
      try {
        // A case removed again (the command failed before it did anything) has nowhere to record.
        const meta = await this.store.readMeta(dir)
        if (!meta || this.discarded.has(dir)) continue
        const kase = this.openedCases.get(dir) ?? new Case(dir, meta)
        for (const r of list) {
          const res = r.result
          await kase.record({
            action: 'notify.delivery',
            target: r.endpoint,
            outcome: res.ok ? 'success' : 'failure',
            msg: `Notification ${r.event}${r.step ? ` (${r.step}${r.stepId ? ` ${r.stepId}` : ''})` : ''} ${res.ok ? 'delivered' : 'not delivered'} to ${r.endpoint}${res.status === undefined ? '' : `: HTTP ${res.status}`}${res.ok ? '' : ` (${res.error ?? 'not sent'})`}, ${res.attempts} attempt(s)`,
            details: {
              event: r.event,
              ...(r.step ? {step: r.step} : {}),
              ...(r.stepId ? {stepId: r.stepId} : {}),
              ...(r.target ? {stepTarget: r.target} : {}),
              endpoint: r.endpoint,
              format: r.format,
              from: this.notifier?.source,
              ok: res.ok,
              ...(res.status === undefined ? {} : {status: res.status}),
              attempts: res.attempts,
              durationMs: res.durationMs,
              ...(res.error ? {error: res.error} : {}),
              ...(res.abandoned ? {abandoned: true} : {}),
            },
          })
        }
      } catch (error) {
        this.warnLine(`notification deliveries could not be recorded in ${dir}: ${(error as Error).message}`)
      }
    }
  }

  private readonly discarded = new Set<string>()

  protected override async finally(err: Error | undefined): Promise<void> {
    process.off('SIGINT', this.onSigint)
    const failed =
      (err !== undefined && (err as {code?: string}).code !== 'EEXIT') ||
      (process.exitCode !== undefined && process.exitCode !== 0) ||
      ((err as {oclif?: {exit?: number}} | undefined)?.oclif?.exit ?? 0) !== 0
    if (this.createdCase && failed && (await this.createdCase.discardIfUntouched())) {
      this.discarded.add(this.createdCase.dir)
      this.progress(
        `Case ${this.createdCase.id} removed again: the command failed before it changed or collected anything.`,
      )
    }
    await this.finishNotifications(err).catch(() => undefined)
    await super.finally(err)
  }

  protected get debugEnabled(): boolean {
    return Boolean((this.flags as {debug?: boolean} | undefined)?.debug) || Boolean(process.env.IR_DEBUG)
  }

  /** The pino logger for engine calls: debug lines on stderr with --debug (or IR_DEBUG), silent otherwise. */
  protected get debugLog(): Logger {
    this.logger ??= createDebugLogger(this.debugEnabled)
    return this.logger
  }

  /**
   * Everything ir prints passes through here: control characters from containers and responders
   * (ESC, BEL, CSI, ...) are shown as visible escapes (`\x1b`); only colour sequences survive, and
   * only on a colour terminal.
   */
  protected static forTerminal(text: string, stream: NodeJS.WriteStream): string {
    return terminalSafe(text, colourEnabled(stream))
  }

  public override log(message = '', ...args: unknown[]): void {
    super.log(BaseCommand.forTerminal(args.length > 0 ? format(message, ...args) : String(message), process.stdout))
  }

  /** --json output: valid JSON with no raw control character (C0 as JSON escapes, DEL/C1/bidi too). */
  public override logJson(json: unknown): void {
    ux.stdout(jsonText(json, 2))
  }

  /** Progress and warnings: stderr, never stdout, so stdout holds only the result (also with --json). */
  protected progress(line: string): void {
    this.statusLine.line(line)
  }

  protected warnLine(line: string): void {
    this.statusLine.line(`Warning: ${line}`)
  }

  /** stderr with one transient status line at its bottom (on a terminal): progress lines go above it. */
  private statusLineCache: StatusLine | undefined
  protected get statusLine(): StatusLine {
    this.statusLineCache ??= new StatusLine(process.stderr)
    return this.statusLineCache
  }

  /** Fold a long external command's output (compose) into that one line; plain prefixed lines without a TTY. */
  protected fold(label: string): OutputFold {
    return this.statusLine.fold(label)
  }

  /**
   * Where every command gets its engines (dockerode); the command tests put one over FakeEngine here. An accessor,
   * so the oclif manifest does not cache it as a command property.
   */
  public static get engineFactory(): EngineFactory {
    return engineFactory
  }

  public static set engineFactory(factory: EngineFactory) {
    engineFactory = factory
  }

  protected get engines(): EngineFactory {
    return BaseCommand.engineFactory
  }

  protected async connect(): Promise<Engine> {
    return this.engines.connect(this.debugLog)
  }

  /**
   * Connect to every host named by --host / --context / --hosts, concurrently, each ping bounded by
   * the engine's ping timeout. An unreachable host is a warning while another answers (the service
   * reports it in its result); none answering is an error naming them. Without those flags: the one
   * engine of DOCKER_HOST, exactly as connect() (unreachable is fatal).
   */
  protected async connectHosts(f: HostFlagValues): Promise<HostSet> {
    const set = await connectNamedHosts(this.engines, f, {log: this.debugLog})
    for (const w of set.warnings ?? []) this.warnLine(w)
    for (const u of set.unreachable)
      this.warnLine(
        `host ${u.name} is unreachable (${u.error.message}); carrying on with the other ${set.hosts.length} host(s).`,
      )
    return set
  }

  private storeCache?: CaseStore
  /** A case this command created (removed again when the command fails before recording anything). */
  private createdCase?: Case
  /** Cases this command opened, so a failure is recorded in their audit log. */
  private readonly openedCases = new Map<string, Case>()

  /** The incidents root: --incidents-dir, IR_INCIDENTS_DIR, the config file, the per-user default. */
  protected get store(): CaseStore {
    this.storeCache ??= CaseStore.fromEnv(process.env, process.cwd(), {
      ...(this.flags && typeof (this.flags as {'incidents-dir'?: string})['incidents-dir'] === 'string'
        ? {flag: (this.flags as {'incidents-dir'?: string})['incidents-dir']}
        : {}),
      onNote: (line) => this.warnLine(line),
      ...(this.notifier ? {sink: this.notifier} : {}),
    })
    return this.storeCache
  }

  /** Open the case named by --case (creating it), or create one with a generated id and say so. */
  protected async openCase(
    id: string | undefined,
    extra: {title?: string; severity?: Severity; create?: boolean} = {},
  ): Promise<Case> {
    const {kase, created} = await this.store.open({...(id === undefined ? {} : {id}), ...extra})
    if (created) {
      this.createdCase = kase
      this.progress(`Case ${kase.id} opened in ${kase.dir}`)
    } else {
      // A read-only or inaccessible case fails here, in one line, before any engine call.
      await assertWritable(kase.dir)
      await this.reconcile(kase)
    }
    this.openedCases.set(kase.dir, kase)
    this.notifier?.commandStarted(kase.id, kase.dir, kase.info.title)
    return kase
  }

  /** Open an existing case (never creates one); incomplete transfers left in it are reported. */
  protected async openExistingCase(id: string): Promise<Case> {
    return this.openCase(id, {create: false})
  }

  private async reconcile(kase: Case): Promise<void> {
    await kase.keepReserve()
    const {recovered, partials} = await kase.reconcile()
    for (const r of recovered)
      this.warnLine(`case ${kase.id}: ${r} was verified and recorded before ir was stopped; its commit is now complete`)
    if (partials.length > 0) {
      const list = partials
        .slice(0, 5)
        .map((p) => `${p.path} (${p.size} bytes)`)
        .join(', ')
      this.warnLine(
        `case ${kase.id} holds ${partials.length} incomplete transfer(s) kept as .partial (not evidence): ${list}${partials.length > 5 ? ', ...' : ''}`,
      )
    }
  }

  /** On failure: drop a case this command created and left empty; record the failure in the others. */
  private async recordFailure(ir: IrError): Promise<void> {
    const code = (ir.cause as NodeJS.ErrnoException | undefined)?.code
    const diskFull = code === 'ENOSPC' || code === 'EDQUOT'
    for (const kase of this.openedCases.values()) {
      await kase
        .recordFailure(
          {
            action: 'command.failed',
            outcome: 'failure',
            msg: `ir ${this.id ?? ''} failed: ${ir.message}`,
            details: {command: this.id, exitCode: ir.exitCode, code: ir.exitName},
          },
          diskFull,
        )
        .catch(() => undefined)
    }
  }

  protected async confirm(question: string, opts: {yes: boolean; what: string}): Promise<void> {
    // The --dry-run hint only for a command that has the flag (lab up/down and snapshot do not).
    const flags = (this.constructor as {flags?: Record<string, unknown>}).flags ?? {}
    await confirmOrAbort(question, {...opts, hasDryRun: Object.hasOwn(flags, 'dry-run')})
  }

  /** Set a non-zero exit code while still printing the result (partial failures). */
  protected failWith(code: number): void {
    if (code !== 0 && (process.exitCode === undefined || process.exitCode === 0)) process.exitCode = code
  }

  /**
   * After a Ctrl-C (the first one aborts `interrupt.signal`; services stop after the current engine call and return
   * what they did): exit 130 while the partial result is still printed and returned. It does not throw.
   */
  protected failIfInterrupted(): void {
    if (this.interrupt.signal.aborted) process.exitCode = ExitCode.INTERRUPTED
  }

  protected override async catch(err: Error & {code?: string; exitCode?: number}): Promise<unknown> {
    if (err.code === 'EEXIT') throw err
    const ir = normalizeError(err)
    this.failureMessage = ir.message
    await this.recordFailure(ir).catch(() => undefined)
    if (this.jsonEnabled()) {
      this.logJson({
        error: {message: ir.message, code: ir.exitName, exitCode: ir.exitCode, ...(ir.hint ? {hint: ir.hint} : {})},
      })
    } else {
      process.stderr.write(`Error: ${BaseCommand.forTerminal(ir.message, process.stderr)}\n`)
      if (ir.hint) process.stderr.write(`Hint: ${BaseCommand.forTerminal(ir.hint, process.stderr)}\n`)
      if (ir.kind === 'bug')
        process.stderr.write(
          'This is a bug in ir. Please report it with the output of the same command run with --debug.\n',
        )
    }
    if (this.debugEnabled) {
      const cause = ir.cause instanceof Error ? ir.cause : err
      process.stderr.write(`${cause.stack ?? String(cause)}\n`)
    }
    return this.exit(ir instanceof IrError ? ir.exitCode : ExitCode.FAILURE)
  }
}
