import {runStreaming} from '../util/run-streaming.js'
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
  const full = [...(opts.global ?? []), ...args]
  opts.log?.debug({cmd: 'docker', args: full}, 'docker CLI')
  return runStreaming('docker', full, {
    ...(opts.cwd ? {cwd: opts.cwd} : {}),
    // The global options name the engine: DOCKER_HOST / DOCKER_CONTEXT from the environment must not override them.
    env: {...opts.env, ...(opts.global?.length ? {DOCKER_HOST: undefined, DOCKER_CONTEXT: undefined} : {})},
    ...(opts.signal ? {signal: opts.signal} : {}),
    ...(opts.onLine ? {onLine: opts.onLine} : {}),
    captureStdout: true,
  })
}
