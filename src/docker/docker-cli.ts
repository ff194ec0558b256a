import {ExternalCommandError} from '../errors.js'
import type {Logger} from '../util/logger.js'

/**
 * The docker CLI for what the Engine API does not offer as one call (`docker stack deploy`) or
 * what users expect to behave exactly like the CLI (`docker build`). Argument arrays only; the
 * host's global options (-H / --context / TLS paths) come first, so it reaches the same engine
 * as the Engine API client.
 */
export interface DockerCliOptions {
  /** Global options reaching the engine, e.g. ['-H', 'unix:///run/docker.sock'] or ['--context', 'prod']. */
  global?: readonly string[]
  env?: Record<string, string>
  cwd?: string
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  signal?: AbortSignal
  log?: Logger
}

export type DockerCli = (args: readonly string[], opts?: DockerCliOptions) => Promise<{stdout: string}>

export const runDockerCli: DockerCli = async (args, opts = {}) => {
  const {execa} = await import('execa')
  const full = [...(opts.global ?? []), ...args]
  opts.log?.debug({cmd: 'docker', args: full}, 'docker CLI')
  const child = execa('docker', full, {
    ...(opts.cwd ? {cwd: opts.cwd} : {}),
    reject: false,
    stdin: 'ignore',
    ...(opts.signal ? {cancelSignal: opts.signal} : {}),
    // The global options name the engine: DOCKER_HOST / DOCKER_CONTEXT from the environment must not override them.
    env: {...opts.env, ...(opts.global?.length ? {DOCKER_HOST: undefined, DOCKER_CONTEXT: undefined} : {})} as Record<string, string>,
    extendEnv: true,
  })
  const out: string[] = []
  const tail: string[] = []
  const emit = (line: string, name: 'stdout' | 'stderr'): void => {
    if (name === 'stdout') out.push(line)
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
    const reason = result.isCanceled ? 'interrupted' : result.exitCode === undefined ? (result.originalMessage ?? 'could not run') : `exit ${result.exitCode}`
    throw new ExternalCommandError('docker', full, `${reason}${tail.length ? `; last output: ${tail.slice(-5).join(' | ')}` : ''}`, {
      ...(result.exitCode === undefined ? {} : {exitStatus: result.exitCode}),
      ...(result.isCanceled ? {exit: 'INTERRUPTED'} : {}),
    })
  }
  return {stdout: out.join('\n')}
}
