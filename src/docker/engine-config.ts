import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'

import {abort, AbortError} from '../errors.js'
import {parseSshUrl, type SshDestination} from './ssh.js'

/** How to reach a Docker engine, derived from DOCKER_HOST / TLS variables like the docker CLI does. */
export interface EngineEndpoint {
  /** What we tell the user we tried, e.g. unix:///var/run/docker.sock or tcp://10.0.0.5:2376 */
  display: string
  options: {
    socketPath?: string
    host?: string
    port?: number
    protocol?: 'http' | 'https'
    ca?: Buffer
    cert?: Buffer
    key?: Buffer
  }
  /** ssh:// engines: reached through the system ssh running `docker system dial-stdio` (src/docker/ssh.ts). */
  ssh?: SshDestination
}

export const DEFAULT_SOCKET = '/var/run/docker.sock'

/** DOCKER_HOST (with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), or the default socket: the CLI's "default" context. */
export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  const raw = env.DOCKER_HOST?.trim()
  if (!raw) return {display: `unix://${DEFAULT_SOCKET}`, options: {socketPath: DEFAULT_SOCKET}}
  return parseDockerHost(raw, env)
}

export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker')
}

/**
 * The engine ir acts on when no --host / --context / --hosts is given, chosen as the docker CLI
 * chooses it: DOCKER_HOST, else DOCKER_CONTEXT, else `currentContext` of <config>/config.json,
 * else the default socket. `context` names the context when one was used.
 */
export async function defaultEndpoint(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{endpoint: EngineEndpoint; context?: string; labels: Record<string, string>}> {
  if (env.DOCKER_HOST?.trim()) return {endpoint: endpointFromEnv(env), labels: {}}
  const name = env.DOCKER_CONTEXT?.trim() || (await currentContext(env))
  if (!name || name === 'default') return {endpoint: endpointFromEnv(env), labels: {}}
  const ctx = await endpointFromContext(
    name,
    env,
    env.DOCKER_CONTEXT?.trim() ? 'DOCKER_CONTEXT' : `currentContext in ${join(dockerConfigDir(env), 'config.json')}`,
  )
  return {endpoint: ctx.endpoint, context: name, labels: ctx.labels}
}

async function currentContext(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const path = join(dockerConfigDir(env), 'config.json')
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    const v = (JSON.parse(text) as {currentContext?: unknown}).currentContext
    return typeof v === 'string' && v.trim() ? v.trim() : undefined
  } catch (error) {
    throw new AbortError(`Docker CLI configuration ${path} is not valid JSON: ${(error as Error).message}`, {
      exit: 'USAGE',
      hint: 'Fix the file, or set DOCKER_HOST / DOCKER_CONTEXT / --host.',
    })
  }
}

interface ContextMeta {
  Name?: string
  Metadata?: Record<string, unknown>
  Endpoints?: {docker?: {Host?: string; SkipTLSVerify?: boolean}}
}

/**
 * A context from the docker CLI's store: <config>/contexts/meta/<sha256 of name>/meta.json holds
 * Endpoints.docker.Host; TLS material, when the context has it, is in <config>/contexts/tls/<sha256>/docker/.
 * The "default" context is DOCKER_HOST or the default socket.
 */
export async function endpointFromContext(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  via = '--context',
): Promise<{endpoint: EngineEndpoint; labels: Record<string, string>}> {
  if (name === 'default') return {endpoint: endpointFromEnv(env), labels: {}}
  const config = dockerConfigDir(env)
  const digest = createHash('sha256').update(name).digest('hex')
  const metaPath = join(config, 'contexts', 'meta', digest, 'meta.json')
  let meta: ContextMeta
  try {
    meta = JSON.parse(await readFile(metaPath, 'utf8')) as ContextMeta
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new AbortError(
      code === 'ENOENT'
        ? `Docker context "${name}" not found (named by ${via}; no ${metaPath})`
        : `Docker context "${name}" is unreadable: ${(error as Error).message}`,
      {
        exit: code === 'ENOENT' ? 'NOT_FOUND' : 'USAGE',
        hint: 'List contexts with `docker context ls`; set DOCKER_CONFIG if your docker configuration lives elsewhere.',
      },
    )
  }
  const host = meta.Endpoints?.docker?.Host
  if (!host)
    throw new AbortError(`Docker context "${name}" has no docker endpoint (Endpoints.docker.Host in ${metaPath})`, {
      exit: 'USAGE',
    })
  const endpoint = parseDockerHost(host, {}, `context "${name}" endpoint`)
  const tlsDir = join(config, 'contexts', 'tls', digest, 'docker')
  const tls = {
    ca: await readOptional(join(tlsDir, 'ca.pem')),
    cert: await readOptional(join(tlsDir, 'cert.pem')),
    key: await readOptional(join(tlsDir, 'key.pem')),
  }
  if (endpoint.options.host && (tls.ca || tls.cert || tls.key)) {
    if (meta.Endpoints?.docker?.SkipTLSVerify)
      throw new AbortError(
        `Docker context "${name}" skips TLS verification: ir always verifies the engine's certificate`,
        {
          exit: 'USAGE',
          hint: 'Give the context a CA (`docker context update --docker "host=...,ca=ca.pem,cert=...,key=..."`).',
        },
      )
    applyTls(endpoint, tls, host)
  }
  const labels = Object.fromEntries(
    Object.entries(meta.Metadata ?? {}).filter(([, v]) => typeof v === 'string'),
  ) as Record<string, string>
  return {endpoint, labels}
}

/** TLS material for a tcp:// endpoint; without a port in the address the TLS port 2376 applies, as for the docker CLI. */
export function applyTls(endpoint: EngineEndpoint, tls: {ca?: Buffer; cert?: Buffer; key?: Buffer}, raw: string): void {
  let port = endpoint.options.port
  try {
    if (!new URL(raw).port) port = 2376
  } catch {
    // parseDockerHost accepted it; keep its port
  }
  endpoint.options = {
    ...endpoint.options,
    protocol: 'https',
    ...(port ? {port} : {}),
    ...(tls.ca ? {ca: tls.ca} : {}),
    ...(tls.cert ? {cert: tls.cert} : {}),
    ...(tls.key ? {key: tls.key} : {}),
  }
  endpoint.display = `tcp://${endpoint.options.host}:${endpoint.options.port} (TLS)`
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path)
  } catch {
    return undefined
  }
}

/** `what` names where the address came from in messages (DOCKER_HOST, --host, a context, an inventory entry). */
export function parseDockerHost(raw: string, env: NodeJS.ProcessEnv = {}, what = 'DOCKER_HOST'): EngineEndpoint {
  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length)
    if (!socketPath) abort(`${what} "${raw}" has no socket path`, {exit: 'USAGE'})
    return {display: raw, options: {socketPath}}
  }
  if (raw.startsWith('/')) return {display: `unix://${raw}`, options: {socketPath: raw}}
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    abort(`${what} "${raw}" is not a valid engine address`, {
      exit: 'USAGE',
      hint: 'Use unix:///path/to/docker.sock, tcp://host:2376 or ssh://user@host.',
    })
  }
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const tls = url.protocol === 'https:' || isTruthy(env.DOCKER_TLS_VERIFY) || Boolean(env.DOCKER_CERT_PATH)
    const port = url.port ? Number(url.port) : tls ? 2376 : 2375
    const options: EngineEndpoint['options'] = {host: url.hostname, port, protocol: tls ? 'https' : 'http'}
    if (tls) {
      const certDir = env.DOCKER_CERT_PATH || join(homedir(), '.docker')
      options.ca = readTlsFile(certDir, 'ca.pem')
      options.cert = readTlsFile(certDir, 'cert.pem')
      options.key = readTlsFile(certDir, 'key.pem')
    }
    return {display: `tcp://${url.hostname}:${port}${tls ? ' (TLS)' : ''}`, options}
  }
  if (url.protocol === 'ssh:') {
    const ssh = parseSshUrl(raw, what)
    return {display: ssh.display, options: {}, ssh}
  }
  abort(`${what} scheme "${url.protocol}" is not supported`, {exit: 'USAGE', hint: 'Use unix://, tcp:// or ssh://.'})
}

function readTlsFile(dir: string, name: string): Buffer {
  try {
    return readFileSync(join(dir, name))
  } catch {
    abort(`TLS file ${join(dir, name)} could not be read`, {
      exit: 'USAGE',
      hint: 'Set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem.',
    })
  }
}

function isTruthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false'
}
