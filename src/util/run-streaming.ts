import {redactText} from './redact.js'
import {type ExitCodeName, ExternalCommandError} from '../errors.js'

export interface StreamingRunOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  signal?: AbortSignal
  /** Each output line (secrets redacted), as it comes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  /** Keep stdout and return it; otherwise it is only passed to onLine (build output can be large). */
  captureStdout?: boolean
}

/**
 * Run an external program (compose, the docker CLI) with an argument array, never a shell string:
 * stream its output line by line, redacted, and on failure throw an ExternalCommandError naming the
 * program, its arguments and the last lines it printed.
 */
export async function runStreaming(
  file: string,
  args: readonly string[],
  opts: StreamingRunOptions = {},
): Promise<{stdout: string}> {
  const {execa} = await import('execa')
  const child = execa(file, [...args], {
    ...(opts.cwd ? {cwd: opts.cwd} : {}),
    reject: false,
    stdin: 'ignore',
    ...(opts.signal ? {cancelSignal: opts.signal} : {}),
    env: opts.env as Record<string, string>,
    extendEnv: true,
  })
  const out: string[] = []
  const tail: string[] = []
  const emit = (raw: string, name: 'stdout' | 'stderr'): void => {
    const line = redactText(raw)
    if (name === 'stdout' && opts.captureStdout) out.push(line)
    tail.push(line)
    if (tail.length > 40) tail.shift()
    opts.onLine?.(line, name)
  }
  const pump = (stream: NodeJS.ReadableStream | null | undefined, name: 'stdout' | 'stderr'): Promise<void> =>
    new Promise((resolve) => {
      if (!stream) return resolve()
      let rest = ''
      stream.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split(/\r?\n/)
        rest = lines.pop() ?? ''
        for (const l of lines) emit(l, name)
      })
      stream.on('end', () => {
        if (rest) emit(rest, name)
        resolve()
      })
      stream.on('error', () => resolve())
    })
  const pumps = Promise.all([pump(child.stdout, 'stdout'), pump(child.stderr, 'stderr')])
  const result = await child
  await pumps
  if (result.failed) {
    const reason = result.isCanceled
      ? 'interrupted'
      : result.exitCode === undefined
        ? (result.originalMessage ?? 'could not run')
        : `exit ${result.exitCode}`
    const exit: ExitCodeName | undefined = result.isCanceled ? 'INTERRUPTED' : undefined
    throw new ExternalCommandError(
      file,
      args,
      `${reason}${tail.length ? `; last output: ${tail.slice(-5).join(' | ')}` : ''}`,
      {
        ...(result.exitCode === undefined ? {} : {exitStatus: result.exitCode}),
        ...(exit ? {exit} : {}),
      },
    )
  }
  return {stdout: out.join('\n')}
}
