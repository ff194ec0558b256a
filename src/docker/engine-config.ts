import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

import {abort} from '../errors.js'
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

export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  const raw = env.DOCKER_HOST?.trim()
  if (!raw) return {display: `unix://${DEFAULT_SOCKET}`, options: {socketPath: DEFAULT_SOCKET}}
  return parseDockerHost(raw, env)
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
    abort(`${what} "${raw}" is not a valid engine address`, {exit: 'USAGE', hint: 'Use unix:///path/to/docker.sock, tcp://host:2376 or ssh://user@host.'})
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
    abort(`TLS file ${join(dir, name)} could not be read`, {exit: 'USAGE', hint: 'Set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem.'})
  }
}

function isTruthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false'
}
