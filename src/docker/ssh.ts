import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {Agent} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Duplex} from 'node:stream'

import {AbortError} from '../errors.js'
import type {Logger} from '../util/logger.js'

/**
 * ssh:// engines reached exactly as the docker CLI reaches them: the system's `ssh` runs
 * `docker system dial-stdio` on the remote host, so ~/.ssh/config (aliases, User, Port,
 * IdentityFile, ProxyJump), the user's keys, the agent and known_hosts all apply as for
 * `docker -H ssh://...`. Unlike the CLI, one authenticated connection per host is shared by every
 * engine call (an OpenSSH control master in a private folder); each HTTP connection is one session
 * multiplexed over it. Host keys are checked strictly: an unknown or changed key is refused.
 */

/** Where an ssh:// address points: passed to ssh as `-l user -p port -- host`, as the docker CLI does. */
export interface SshDestination {
  host: string
  user?: string
  port?: number
  /** The address as given (ssh://...), for messages. */
  display: string
}

/** Parse ssh://[user@]host[:port] with the docker CLI's rules (no password, no path). */
export function parseSshUrl(raw: string, what: string): SshDestination {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new AbortError(`${what} "${raw}" is not a valid ssh address`, {
      exit: 'USAGE',
      hint: 'Use ssh://[user@]host[:port], with host an ~/.ssh/config alias or a host name.',
    })
  }
  if (url.protocol !== 'ssh:') throw new AbortError(`${what} "${raw}" is not an ssh:// address`, {exit: 'USAGE'})
  if (url.password)
    throw new AbortError(`${what}: a password in an ssh:// address is not supported`, {
      exit: 'USAGE',
      hint: 'Use a key (~/.ssh, IdentityFile in ~/.ssh/config) or ssh-agent.',
    })
  if (url.pathname && url.pathname !== '/')
    throw new AbortError(`${what} "${raw}": an ssh:// address takes no path (${url.pathname})`, {exit: 'USAGE'})
  if (url.search || url.hash)
    throw new AbortError(`${what} "${raw}": an ssh:// address takes no query or fragment`, {exit: 'USAGE'})
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (!host)
    throw new AbortError(`${what} "${raw}" names no host`, {exit: 'USAGE', hint: 'Use ssh://[user@]host[:port].'})
  if (host.startsWith('-')) throw new AbortError(`${what} "${raw}": a host cannot start with "-"`, {exit: 'USAGE'})
  return {
    host,
    ...(url.username ? {user: decodeURIComponent(url.username)} : {}),
    ...(url.port ? {port: Number(url.port)} : {}),
    display: `ssh://${url.username ? `${url.username}@` : ''}${url.host}`,
  }
}

/** `-l user -p port -- host` as the docker CLI passes them. */
function destinationArgs(d: SshDestination): string[] {
  return [...(d.user ? ['-l', d.user] : []), ...(d.port ? ['-p', String(d.port)] : []), '--', d.host]
}

export interface SshOptions {
  log: Logger
  /** The ssh program (default `ssh` on PATH). */
  ssh?: string
  /** How long the first login may take, TCP connect and authentication included (ms). */
  connectTimeoutMs?: number
  /** Environment for ssh (default process.env: SSH_AUTH_SOCK selects the agent). */
  env?: NodeJS.ProcessEnv
}

/** Options ir always gives ssh: never prompt (no TTY is assumed), never accept an unknown or changed host key. */
const STRICT = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes']

/** sshd's default MaxSessions is 10: stay below it on one shared connection. */
const MAX_SESSIONS = 8

const live = new Set<SshConnection>()
let exitHookInstalled = false

function closeAll(): void {
  for (const c of live) c.closeSync()
}

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', closeAll)
  // Killed (a timeout, a supervisor): end the shared connections too, then die of the same signal as before.
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      closeAll()
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig)
    })
  }
}

/** A unix socket path has at most 107 bytes: a long TMPDIR falls back to /tmp. */
function controlDir(): string {
  const base = tmpdir().length > 80 ? '/tmp' : tmpdir()
  return mkdtempSync(join(base, 'ir-ssh-'))
}

/** One logged-in ssh connection (an OpenSSH control master) and the sessions multiplexed over it. */
interface Master {
  dir: string
  controlPath: string
  child?: ChildProcess
  ready: Promise<void>
  /** dial-stdio sessions open over it (sshd refuses more than its MaxSessions, 10 by default). */
  sessions: number
  dead: boolean
}

/**
 * One host's shared ssh connection and the HTTP agent whose sockets are `docker system dial-stdio`
 * sessions over it. Created lazily: nothing runs until the first engine call. When every session of
 * the connection is busy (more than 8 calls at once), another login is made rather than waiting, so
 * a call can never wait for a session that a stream it depends on holds; a connection that dropped
 * is replaced by a new login at the next call.
 */
export class SshConnection {
  readonly agent: Agent
  private masters: Master[] = []
  private closed = false
  private readonly ssh: string
  private readonly timeoutMs: number
  private readonly env: NodeJS.ProcessEnv

  constructor(
    readonly dest: SshDestination,
    private readonly opts: SshOptions,
  ) {
    this.ssh = opts.ssh ?? process.env.IR_SSH ?? 'ssh'
    this.timeoutMs = opts.connectTimeoutMs ?? 30_000
    this.env = opts.env ?? process.env
    const agent = new Agent({keepAlive: true, maxFreeSockets: MAX_SESSIONS})
    // Each HTTP connection is one dial-stdio session; Node's agent pools and reuses them.
    ;(
      agent as unknown as {createConnection: (o: unknown, cb: (err: Error | null, s?: Duplex) => void) => undefined}
    ).createConnection = (_o, cb) => {
      this.dial().then(
        (s) => cb(null, s),
        (error: Error) => cb(error),
      )
      return undefined
    }
    this.agent = agent
  }

  /** Logins made so far (for --debug and tests). */
  get logins(): number {
    return this.masters.length
  }

  /** Log in (a control master); concurrent callers wait for the same login. */
  private login(): Master {
    installExitHook()
    live.add(this)
    const dir = controlDir()
    const m: Master = {dir, controlPath: join(dir, 'cm'), sessions: 0, dead: false, ready: Promise.resolve()}
    m.ready = new Promise<void>((resolve, reject) => {
      const args = [
        '-o',
        'ControlMaster=yes',
        '-o',
        `ControlPath=${m.controlPath}`,
        '-o',
        'ControlPersist=no',
        ...STRICT,
        '-o',
        `ConnectTimeout=${Math.max(1, Math.ceil(this.timeoutMs / 1000))}`,
        '-o',
        'ServerAliveInterval=15',
        '-N',
        '-T',
        ...destinationArgs(this.dest),
      ]
      this.opts.log.debug({cmd: this.ssh, args}, 'ssh: logging in')
      // Its own process group: a Ctrl-C at the terminal must not cut the connection under a running call.
      const master = spawn(this.ssh, args, {stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: this.env})
      m.child = master
      let stderr = ''
      master.stderr.setEncoding('utf8')
      master.stderr.on('data', (d: string) => {
        stderr = (stderr + d).slice(-8192)
      })
      let settled = false
      const finish = (err?: Error): void => {
        if (settled) return
        settled = true
        clearInterval(poll)
        clearTimeout(timer)
        if (err) {
          this.drop(m)
          reject(err)
          return
        }
        // Logged in: from now on the master must not keep ir alive; the sessions do while in use.
        master.unref()
        ;(master.stderr as unknown as {unref?: () => void}).unref?.()
        resolve()
      }
      master.on('error', (error: NodeJS.ErrnoException) => {
        finish(
          new AbortError(
            error.code === 'ENOENT'
              ? `${this.dest.display}: no ssh client (${this.ssh} not found)`
              : `${this.dest.display}: ssh could not start: ${error.message}`,
            {
              exit: 'ENGINE_UNREACHABLE',
              hint: 'ssh:// engines are reached through the system OpenSSH client: install it (Debian: openssh-client).',
            },
          ),
        )
      })
      master.on('exit', (code, signal) => {
        if (!settled) {
          void classifySshFailure(this.dest, stderr, code, this.ssh, this.env).then(
            (e) => finish(e),
            () =>
              finish(
                new AbortError(`${this.dest.display}: ssh exited (${signal ?? code})`, {exit: 'ENGINE_UNREACHABLE'}),
              ),
          )
        } else {
          this.opts.log.debug({host: this.dest.display, code, signal}, 'ssh: connection closed')
          this.drop(m)
        }
      })
      // OpenSSH links the control socket into place only once logged in.
      const poll = setInterval(() => {
        if (existsSync(m.controlPath)) finish()
      }, 20)
      const timer = setTimeout(() => {
        finish(
          new AbortError(`${this.dest.display}: ssh login timed out after ${Math.round(this.timeoutMs / 1000)} s`, {
            exit: 'ENGINE_UNREACHABLE',
            hint: 'Check that the host is up and reachable (`ssh <host>` should log in), and any ProxyJump in ~/.ssh/config.',
          }),
        )
      }, this.timeoutMs)
    })
    this.masters.push(m)
    return m
  }

  /** A connection that failed or closed: ended, its folder removed, never used again. */
  private drop(m: Master): void {
    m.dead = true
    if (m.child && m.child.exitCode === null && m.child.signalCode === null) {
      try {
        m.child.kill('SIGTERM')
      } catch {
        // already gone
      }
    }
    rmSync(m.dir, {recursive: true, force: true})
  }

  /** One `docker system dial-stdio` session, over a connection with a free session (logging in when none has). */
  async dial(): Promise<Duplex> {
    if (this.closed)
      throw new AbortError(`${this.dest.display}: ssh connection already closed`, {exit: 'ENGINE_UNREACHABLE'})
    const m = this.masters.find((x) => !x.dead && x.sessions < MAX_SESSIONS) ?? this.login()
    m.sessions++
    try {
      await m.ready
    } catch (error) {
      m.sessions--
      throw error
    }
    const args = [
      '-o',
      'ControlMaster=no',
      '-o',
      `ControlPath=${m.controlPath}`,
      ...STRICT,
      '-T',
      ...destinationArgs(this.dest),
      'docker',
      'system',
      'dial-stdio',
    ]
    this.opts.log.debug({cmd: this.ssh, args, sessions: m.sessions}, 'ssh: dial-stdio session')
    const child = spawn(this.ssh, args, {stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: this.env})
    child.once('close', () => m.sessions--)
    return new DialStdioStream(child, this.dest, this.ssh, this.env)
  }

  /** End every connection (their sessions end with them) and remove the control folders. */
  closeSync(): void {
    this.closed = true
    live.delete(this)
    this.agent.destroy()
    for (const m of this.masters) if (!m.dead) this.drop(m)
  }
}

/**
 * A dial-stdio session as the socket of an HTTP connection: bytes to ssh's stdin, bytes from its
 * stdout. The net.Socket methods Node's HTTP client and agent call are provided; ref/unref reach the
 * ssh process, so an idle pooled session never keeps ir alive.
 */
class DialStdioStream extends Duplex {
  private received = false
  private stderr = ''
  private idleMs = 0
  private idleTimer?: NodeJS.Timeout

  constructor(
    private readonly child: ChildProcess,
    private readonly dest: SshDestination,
    private readonly ssh: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    super({allowHalfOpen: false})
    const out = child.stdout!
    out.on('data', (d: Buffer) => {
      if (!this.received && !looksLikeHttp(d)) {
        // A login shell that prints a banner or refuses (nologin), or a remote command that is not dial-stdio.
        const said =
          d
            .toString('utf8')
            .split(/\r?\n/)
            .find((l) => l.trim())
            ?.trim()
            .slice(0, 200) ?? ''
        this.destroy(
          new AbortError(
            `${this.dest.display}: the remote side did not answer through \`docker system dial-stdio\`; it said: ${JSON.stringify(said)}`,
            {
              exit: 'ENGINE_UNREACHABLE',
              hint: 'The ssh user needs a working login shell and the docker CLI on the remote host; a ForceCommand or a shell banner on stdout breaks the connection.',
            },
          ),
        )
        return
      }
      this.received = true
      this.touch()
      if (!this.push(d)) out.pause()
    })
    // An early end without a byte is a failed session: wait for ssh's exit status and stderr to say why.
    out.on('end', () => {
      if (this.received) this.push(null)
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-8192)
    })
    child.stdin!.on('error', () => undefined)
    child.on('error', (error) => this.destroy(error))
    child.on('close', (code, signal) => {
      if (this.destroyed) return
      if (!this.received && code !== 0) {
        void classifySshFailure(this.dest, this.stderr, code, this.ssh, this.env).then(
          (e) => this.destroy(e),
          () => this.destroy(new Error(`ssh exited (${signal ?? code})`)),
        )
      } else {
        this.push(null)
      }
    })
  }

  override _read(): void {
    this.child.stdout?.resume()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (error?: Error | null) => void): void {
    this.touch()
    this.child.stdin!.write(chunk, cb)
  }

  override _final(cb: (error?: Error | null) => void): void {
    this.child.stdin!.end()
    cb()
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    clearTimeout(this.idleTimer)
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        this.child.kill('SIGTERM')
      } catch {
        // already gone
      }
    }
    cb(err)
  }

  private touch(): void {
    if (this.idleMs <= 0) return
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs)
    this.idleTimer.unref()
  }

  setTimeout(ms: number, cb?: () => void): this {
    this.idleMs = ms
    if (cb) this.once('timeout', cb)
    if (ms <= 0) clearTimeout(this.idleTimer)
    else this.touch()
    return this
  }

  setNoDelay(): this {
    return this
  }

  setKeepAlive(): this {
    return this
  }

  ref(): this {
    this.child.ref()
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr])
      (s as unknown as {ref?: () => void} | null)?.ref?.()
    return this
  }

  unref(): this {
    this.child.unref()
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr])
      (s as unknown as {unref?: () => void} | null)?.unref?.()
    return this
  }
}

function looksLikeHttp(d: Buffer): boolean {
  const head = 'HTTP/'
  const n = Math.min(d.length, head.length)
  return d.subarray(0, n).toString('latin1') === head.slice(0, n)
}

/** Where ssh actually connects for an alias (HostName, Port from ~/.ssh/config), for messages. */
function resolvedTarget(dest: SshDestination, ssh: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve) => {
    execFile(ssh, ['-G', ...destinationArgs(dest)], {env, timeout: 5000}, (err, stdout) => {
      if (err) return resolve(dest.host)
      const get = (k: string): string | undefined => new RegExp(`^${k} (.+)$`, 'm').exec(stdout)?.[1]?.trim()
      const host = get('hostname') ?? dest.host
      const port = get('port') ?? '22'
      resolve(port === '22' ? host : `[${host}]:${port}`)
    })
  })
}

/** One line saying which host and why: host key, authentication, no docker on the remote, timeout, refused. */
export async function classifySshFailure(
  dest: SshDestination,
  stderr: string,
  code: number | null,
  ssh = 'ssh',
  env: NodeJS.ProcessEnv = process.env,
): Promise<AbortError> {
  const d = dest.display
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^@+$/.test(l) && !/^@ +.* +@$/.test(l))
  const last = lines.at(-1) ?? `ssh exited with status ${code}`
  const sshHint = `ir logs in exactly as \`ssh ${dest.user ? `${dest.user}@` : ''}${dest.host}${dest.port ? ` -p ${dest.port}` : ''}\` would: try that command.`
  const fail = (msg: string, hint: string): AbortError =>
    new AbortError(`${d}: ${msg}`, {exit: 'ENGINE_UNREACHABLE', hint})
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(stderr)) {
    const t = await resolvedTarget(dest, ssh, env)
    return fail(
      `host key of ${t} has CHANGED (it is not the one in known_hosts): refused`,
      `Someone may be intercepting the connection. If the host was really reinstalled, check its new key out of band, then \`ssh-keygen -R '${t}'\` and log in once with ssh to record it.`,
    )
  }
  if (/No .* host key is known for|Host key verification failed|host key is not known/i.test(stderr)) {
    const t = await resolvedTarget(dest, ssh, env)
    return fail(
      `host key of ${t} is unknown (not in known_hosts): refused`,
      `ir never accepts a host key by itself: check the key out of band and record it by logging in once with \`ssh ${dest.host}\` (or add it to ~/.ssh/known_hosts).`,
    )
  }
  if (/Permission denied \(/i.test(stderr) || /Too many authentication failures/i.test(stderr)) {
    const methods = /Permission denied \(([^)]*)\)/i.exec(stderr)?.[1]
    return fail(
      `ssh authentication failed${methods ? ` (server accepts: ${methods})` : ''}`,
      `${sshHint} Check User and IdentityFile in ~/.ssh/config, the keys in ~/.ssh, or \`ssh-add -l\`; a passphrase-protected key needs ssh-agent.`,
    )
  }
  if (/timed out/i.test(stderr))
    return fail(
      'ssh connection timed out',
      `${sshHint} Check that the host is up and the port open (ConnectTimeout, ProxyJump).`,
    )
  if (/Connection refused/i.test(stderr))
    return fail(
      'ssh connection refused (no ssh server on that port)',
      `${sshHint} Check Port in ~/.ssh/config or the :port of the address.`,
    )
  if (/Could not resolve hostname|Name or service not known|nodename nor servname/i.test(stderr))
    return fail(
      'host name not found (not an ~/.ssh/config alias either)',
      'Check the name, or add a Host entry with HostName to ~/.ssh/config.',
    )
  if (code === 127 || /docker: (command )?not found|command not found: docker/i.test(stderr)) {
    return fail(
      'no docker CLI on the remote host (`docker system dial-stdio` not found)',
      'The remote side needs the docker CLI (Debian: docker.io, docker-ce-cli) in the login PATH of that user.',
    )
  }
  if (
    /raw stream connection|dial unix|permission denied.*docker\.sock|Cannot connect to the Docker daemon|Is the docker daemon running/i.test(
      stderr,
    )
  ) {
    return fail(
      `the remote docker CLI cannot reach its engine: ${last.replace(/^failed to open the raw stream connection: /, '')}`,
      'On the remote host the ssh user must reach the Docker socket (root, or the docker group), and dockerd must run.',
    )
  }
  return fail(`ssh failed: ${last}`, sshHint)
}
