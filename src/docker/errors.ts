import {AbortError, IrError, normalizeError} from '../errors.js'

/** The shape dockerode/docker-modem errors have. */
interface DockerodeError extends Error {
  statusCode?: number
  code?: string
  json?: {message?: string} | null
  reason?: string
}

export function dockerStatus(err: unknown): number | undefined {
  return (err as DockerodeError | undefined)?.statusCode
}

export function dockerMessage(err: unknown): string {
  const e = err as DockerodeError
  const fromJson = e?.json && typeof e.json === 'object' ? e.json.message : undefined
  const raw = fromJson ?? e?.reason ?? e?.message ?? String(err)
  return String(raw)
    .replace(/^\(HTTP code \d+\)\s*[\w ]*-\s*/, '')
    .trim()
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
])

/** Map an engine call failure to an IrError that names what was being done. */
export function engineError(err: unknown, endpoint: string, doing: string): IrError {
  if (err instanceof IrError) return err
  const e = err as DockerodeError
  if (e?.code && UNREACHABLE.has(e.code)) {
    return new AbortError(`Docker engine unreachable at ${endpoint} (${e.code})`, {
      exit: 'ENGINE_UNREACHABLE',
      hint: 'Start the engine (e.g. `dockerd` or `systemctl start docker`) or point DOCKER_HOST at a running one.',
      cause: err,
    })
  }
  if (e?.code === 'EACCES') {
    return new AbortError(`Permission denied on the Docker socket ${endpoint}`, {
      exit: 'ENGINE_UNREACHABLE',
      hint: 'Run as root or as a member of the docker group.',
      cause: err,
    })
  }
  if (typeof e?.statusCode === 'number') {
    const msg = dockerMessage(err)
    if (e.statusCode === 404) return new AbortError(`${doing}: ${msg}`, {exit: 'NOT_FOUND', cause: err})
    return new AbortError(`${doing}: ${msg} (engine answered HTTP ${e.statusCode})`, {cause: err})
  }
  const n = normalizeError(err)
  return n
}
