import {type ChildProcess, spawn} from 'node:child_process'
import {chmod, copyFile, mkdir, readdir, readFile, readlink, rm, writeFile} from 'node:fs/promises'
import {createServer, connect} from 'node:net'
import {join} from 'node:path'

import {execa} from 'execa'

import {BIN, ROOT, type RunResult, tempDir} from './cli.js'

/**
 * A real OpenSSH server of the test's own on a loopback port, in front of the test engine: it logs
 * in as root with a throwaway key (its own AuthorizedKeysFile), and `docker system dial-stdio`
 * there reaches the host's dockerd. Clients run in a mount namespace whose /etc/passwd gives root a
 * throwaway home: OpenSSH reads ~/.ssh from passwd, not $HOME, and the real ~/.ssh is never touched.
 */

export const SSHD = '/usr/sbin/sshd'

export async function sshAvailable(): Promise<{ok: boolean; reason?: string}> {
  if (process.getuid?.() !== 0) return {ok: false, reason: 'not root (a private /etc/passwd needs a mount namespace)'}
  for (const bin of [SSHD, '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/ssh-agent', '/usr/bin/unshare']) {
    try {
      await execa('test', ['-x', bin])
    } catch {
      return {ok: false, reason: `${bin} missing (scripts/engine-lib.sh installs openssh-server)`}
    }
  }
  const probe = await execa('unshare', ['-m', '--', 'true'], {reject: false})
  if (probe.exitCode !== 0) return {ok: false, reason: `unshare -m fails: ${probe.stderr}`}
  return {ok: true}
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as {port: number}).port
      s.close(() => resolve(port))
    })
  })
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1')
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
}

export async function keygen(path: string, comment = 'ir-test'): Promise<string> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path])
  return (await readFile(`${path}.pub`, 'utf8')).trim()
}

export interface TestSshd {
  port: number
  dir: string
  /** The client key sshd accepts (private key path). */
  clientKey: string
  /** A known_hosts line for this server's host key. */
  knownHostsLine: string
  /** Logins sshd accepted so far (its own log): one per ir run shows the connection is shared. */
  logins(): number
  stop(): Promise<void>
}

/** `setEnv` adds SetEnv lines for the remote sessions (e.g. PATH without docker, DOCKER_HOST of no engine). */
export async function startSshd(opts: {setEnv?: Record<string, string>} = {}): Promise<TestSshd> {
  const dir = await tempDir('ir-sshd-')
  const port = await freePort()
  await mkdir('/run/sshd', {recursive: true, mode: 0o755})
  const hostPub = await keygen(join(dir, 'host_ed25519'), 'ir-test-host')
  const clientPub = await keygen(join(dir, 'client_ed25519'))
  await writeFile(join(dir, 'authorized_keys'), `${clientPub}\n`, {mode: 0o600})
  const engine = process.env.DOCKER_HOST?.startsWith('unix://')
    ? process.env.DOCKER_HOST
    : 'unix:///var/run/docker.sock'
  await writeFile(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'AllowUsers root',
      'MaxSessions 10',
      'MaxStartups 50',
      `SetEnv ${Object.entries({DOCKER_HOST: engine, ...opts.setEnv})
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
      '',
    ].join('\n'),
  )
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  let accepted = 0
  child.stderr!.on('data', (d: Buffer) => {
    accepted += (d.toString().match(/Accepted publickey for /g) ?? []).length
    log = (log + d.toString()).slice(-20_000)
  })
  for (let i = 0; i < 100 && !(await listening(port)); i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${log}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const [type, key] = hostPub.split(' ')
  return {
    port,
    dir,
    clientKey: join(dir, 'client_ed25519'),
    knownHostsLine: `[127.0.0.1]:${port} ${type} ${key}`,
    logins: () => accepted,
    async stop() {
      child.kill('SIGTERM')
      await rm(dir, {recursive: true, force: true})
    },
  }
}

/** A throwaway home for root (~/.ssh 0700) and the passwd file that names it. */
export async function throwawayHome(): Promise<{home: string; ssh: string; passwd: string; tmp: string}> {
  const base = await tempDir('ir-sshhome-')
  const home = join(base, 'home')
  const ssh = join(home, '.ssh')
  const tmp = join(base, 'tmp')
  await mkdir(ssh, {recursive: true, mode: 0o700})
  await mkdir(tmp, {recursive: true})
  const passwd = (await readFile('/etc/passwd', 'utf8')).replace(
    /^root:([^:]*):0:0:([^:]*):[^:]*:/m,
    `root:$1:0:0:$2:${home}:`,
  )
  await writeFile(join(base, 'passwd'), passwd)
  return {home, ssh, passwd: join(base, 'passwd'), tmp}
}

export async function installKey(from: string, to: string): Promise<void> {
  await copyFile(from, to)
  await chmod(to, 0o600)
}

/**
 * Run a program as root whose passwd home is `home` (a private mount namespace). The environment
 * is exactly `env` plus PATH: no SSH_AUTH_SOCK, DOCKER_HOST or DOCKER_CONTEXT leak in from the test runner.
 */
export async function runAsHome(
  h: {home: string; passwd: string; tmp: string},
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  timeout = 120_000,
): Promise<RunResult> {
  const r = await execa(
    'unshare',
    ['-m', '--', 'sh', '-c', 'mount --bind "$IR_TEST_PASSWD" /etc/passwd && exec "$@"', 'sh', cmd, ...args],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: h.home,
        TMPDIR: h.tmp,
        FORCE_COLOR: '0',
        IR_TEST_PASSWD: h.passwd,
        ...env,
      },
      extendEnv: false,
      reject: false,
      timeout,
      stdin: 'ignore',
    },
  )
  return {exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr}
}

export function runIrAsHome(
  h: {home: string; passwd: string; tmp: string},
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  // Cases go to a folder of the test's own unless the test names one.
  return runAsHome(h, process.execPath, [BIN, ...args], {IR_INCIDENTS_DIR: join(h.home, '..', 'incidents'), ...env})
}

/** Processes whose command line mentions `needle` (e.g. ssh children left behind under a TMPDIR). */
export async function processesMentioning(needle: string): Promise<string[]> {
  const out: string[] = []
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ')
      if (cmd.includes(needle) && !(await readlink(`/proc/${pid}/exe`)).endsWith('/unshare')) out.push(`${pid}: ${cmd}`)
    } catch {
      // gone
    }
  }
  return out
}
