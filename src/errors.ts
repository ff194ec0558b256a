/**
 * One place that maps every failure to a clear one-line message, an optional hint and a
 * documented exit code. Commands throw one of these (BaseCommand.catch prints it and exits with its code); a
 * partial failure sets the exit code with failWith() and still returns its result. Only a second Ctrl-C calls
 * process.exit directly (BaseCommand).
 */

export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  ENGINE_UNREACHABLE: 3,
  NOT_FOUND: 4,
  CASE_ACCESS: 5,
  INTEGRITY: 6,
  CONFIRMATION_REQUIRED: 7,
  EXTERNAL_COMMAND: 8,
  AUDIT_FAILED: 9,
  BUG: 10,
  PRECONDITION: 11,
  UNKNOWN_COMMAND: 127,
  INTERRUPTED: 130,
} as const

export type ExitCodeName = keyof typeof ExitCode

/** Shown in every command's --help (see BaseCommand). */
export const EXIT_CODE_HELP: Record<string, string> = {
  '0': 'success (also `ir respond` stopped at "Stop here": continue it with `ir respond --resume`)',
  '1': 'an operation failed (the message says which)',
  '2': 'bad usage: unknown flag, bad argument or invalid case id',
  '3': 'Docker engine unreachable (names the socket or DOCKER_HOST tried)',
  '4': 'container, case or file not found, or an ambiguous reference',
  '5': 'case folder not accessible: no space left, read-only, permission denied, not a folder, busy lock or corrupt case files',
  '6': 'integrity check failed (a hash or the audit chain does not match)',
  '7': 'confirmation required: no TTY and no --yes, or the answer was no',
  '8': 'an external command (docker compose, openssl, ssh-keygen) failed',
  '9': 'hardening audit found findings at or above --fail-on',
  '10': 'internal error in ir (a bug: please report it with --debug output)',
  '11': 'a safety precondition is not met (e.g. evidence not saved before a rebuild); --force overrides',
  '127': 'unknown command (the closest one is suggested; on a terminal ir asks whether to run it)',
  '130': 'interrupted (Ctrl-C, also at a prompt of `ir respond`); what was collected so far is kept',
}

export type ErrorKind = 'abort' | 'bug' | 'external'

export interface IrErrorOptions {
  exit?: ExitCodeName
  hint?: string
  cause?: unknown
}

export class IrError extends Error {
  readonly kind: ErrorKind
  readonly exitName: ExitCodeName
  readonly hint?: string

  constructor(message: string, kind: ErrorKind, opts: IrErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = 'IrError'
    this.kind = kind
    this.exitName = opts.exit ?? (kind === 'bug' ? 'BUG' : 'FAILURE')
    this.hint = opts.hint
  }

  get exitCode(): number {
    return ExitCode[this.exitName]
  }
}

/** An error the user can fix (bad input, engine down, missing container). */
export class AbortError extends IrError {
  constructor(message: string, opts: IrErrorOptions = {}) {
    super(message, 'abort', opts)
    this.name = 'AbortError'
  }
}

/** An internal invariant broke: this is a bug in ir. */
export class BugError extends IrError {
  constructor(message: string, opts: IrErrorOptions = {}) {
    super(message, 'bug', {...opts, exit: 'BUG'})
    this.name = 'BugError'
  }
}

/** An external program (docker compose, openssl, ssh-keygen) failed: carries its program and arguments. */
export class ExternalCommandError extends IrError {
  readonly command: string
  readonly args: readonly string[]
  readonly exitStatus?: number

  constructor(
    command: string,
    args: readonly string[],
    message: string,
    opts: IrErrorOptions & {exitStatus?: number} = {},
  ) {
    super(`${command} ${args.join(' ')} failed: ${message}`, 'external', {
      ...opts,
      exit: opts.exit ?? 'EXTERNAL_COMMAND',
    })
    this.name = 'ExternalCommandError'
    this.command = command
    this.args = [...args]
    this.exitStatus = opts.exitStatus
  }
}

/** Ctrl-C (an aborted signal) ended an operation: exit 130, what was collected is kept. */
export class InterruptedError extends AbortError {
  constructor(message = 'Interrupted: the current operation was finished and what was collected is kept.') {
    super(message, {exit: 'INTERRUPTED'})
    this.name = 'InterruptedError'
  }
}

// Throw helpers typed `never`, so an error can never be built and forgotten.
export function abort(message: string, opts: IrErrorOptions = {}): never {
  throw new AbortError(message, opts)
}

export function bug(message: string, opts: IrErrorOptions = {}): never {
  throw new BugError(message, opts)
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}

/** A plain-data description of an error, for --json results and audit entries. */
export interface ErrorInfo {
  message: string
  exitCode: number
  code: ExitCodeName
  hint?: string
}

export function toErrorInfo(err: unknown): ErrorInfo {
  const ir = normalizeError(err)
  return {message: ir.message, exitCode: ir.exitCode, code: ir.exitName, ...(ir.hint ? {hint: ir.hint} : {})}
}

/**
 * Turn anything thrown (Node system errors, dockerode errors, oclif parse errors) into an IrError.
 * Docker-specific mapping lives in src/docker/errors.ts and runs before this for engine calls.
 */
export function normalizeError(err: unknown): IrError {
  if (err instanceof IrError) return err
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException & {oclif?: {exit?: number}; name: string}
    // Node's AbortError of an aborted signal (ir's own AbortError is an IrError, returned above).
    if (e.name === 'AbortError' || e.code === 'ABORT_ERR') return new InterruptedError()
    if (e.oclif && typeof e.oclif.exit === 'number') {
      // oclif parse errors span several lines ("The following error occurred:" + details): keep the details.
      const lines = e.message
        .split('\n')
        .map((l) => l.trim())
        .filter(
          (l) =>
            l.length > 0 && !/^The following errors? occurred:?$/i.test(l) && !/^See more help with --help$/i.test(l),
        )
      return new AbortError(lines.join(' ') || firstLine(e.message), {
        exit: e.oclif.exit === 2 ? 'USAGE' : 'FAILURE',
        hint: 'See --help for usage.',
      })
    }
    if (
      e.code === 'ECONNRESET' ||
      e.code === 'EPIPE' ||
      e.code === 'ECONNREFUSED' ||
      e.code === 'ETIMEDOUT' ||
      /socket hang up/i.test(e.message)
    ) {
      return new AbortError(`Connection to the Docker engine lost (${e.code ?? e.message})`, {
        exit: 'ENGINE_UNREACHABLE',
        hint: 'Check the engine is running; what was already collected is kept (an interrupted file as .partial).',
        cause: err,
      })
    }
    const where = e.path ?? e.message
    const partial = (err as {partialPath?: string; bytesWritten?: number}).partialPath
    const kept = partial ? ` (${(err as {bytesWritten?: number}).bytesWritten ?? 0} bytes kept in ${partial})` : ''
    const folderHint =
      'Choose another folder with --incidents-dir or IR_INCIDENTS_DIR; nothing already collected was removed.'
    if (e.code === 'EACCES' || e.code === 'EPERM') {
      return new AbortError(`Permission denied: ${where}${kept}`, {
        exit: 'CASE_ACCESS',
        hint: `Run as a user who can write there. ${folderHint}`,
        cause: err,
      })
    }
    if (e.code === 'EROFS') {
      return new AbortError(`Read-only file system: ${where}${kept}`, {
        exit: 'CASE_ACCESS',
        hint: folderHint,
        cause: err,
      })
    }
    if (e.code === 'ENOTDIR') {
      return new AbortError(`Not a folder: ${where} (a file is in the way)${kept}`, {
        exit: 'CASE_ACCESS',
        hint: folderHint,
        cause: err,
      })
    }
    if (e.code === 'EISDIR') {
      return new AbortError(`A folder is in the way: ${where}`, {exit: 'CASE_ACCESS', hint: folderHint, cause: err})
    }
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT') {
      return new AbortError(`No space left on device while writing ${e.path ?? 'to the case'}${kept}`, {
        exit: 'CASE_ACCESS',
        hint: 'Free space, or move the incidents folder to a larger disk (--incidents-dir); nothing already written was removed.',
        cause: err,
      })
    }
    if (e.code === 'EMFILE' || e.code === 'ENFILE') {
      return new AbortError(`Too many open files (${e.code})`, {
        exit: 'CASE_ACCESS',
        hint: 'Raise the limit (ulimit -n) or run fewer ir commands at once.',
        cause: err,
      })
    }
    if (e.code === 'ECOMPROMISED') {
      return new AbortError(`The case lock was lost while held (${e.message})`, {
        exit: 'CASE_ACCESS',
        hint: 'The machine stalled or another process removed the lock; run `ir case verify` on the case.',
        cause: err,
      })
    }
    if (e.code === 'ENOENT' && e.path) {
      return new AbortError(`No such file or folder: ${e.path}`, {exit: 'NOT_FOUND', cause: err})
    }
    return new BugError(firstLine(e.message) || e.name, {cause: err})
  }
  return new BugError(String(err))
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ''
  )
}
