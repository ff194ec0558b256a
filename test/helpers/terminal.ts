import {randomBytes} from 'node:crypto'
import {readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'

/**
 * A real terminal for end-to-end tests: the command runs in a tmux pane (a pseudo-terminal), the
 * test types keys and reads the screen. A private tmux server per terminal keeps tests apart.
 */
export class Terminal {
  private readonly socket = `ir-test-${randomBytes(4).toString('hex')}`
  private readonly session = 'ir'
  /** The exit status, written by a wrapping shell: tmux may not see it (a zombie it did not reap, or a signal). */
  private readonly exitFile = join(tmpdir(), `${this.socket}.exit`)

  /** The environment the private tmux server (and so the program) starts from. */
  private serverEnv: Record<string, string | undefined> = process.env

  private tmux(args: string[]) {
    return execa('tmux', ['-L', this.socket, ...args], {timeout: 20_000, env: this.serverEnv, extendEnv: false})
  }

  /**
   * `colour: true` runs the program as on a colour terminal: neither FORCE_COLOR nor NO_COLOR inherited from the
   * test runner (give NO_COLOR in env to test it); by default FORCE_COLOR=0 keeps the screen plain.
   */
  static async start(
    argv: string[],
    opts: {cwd: string; env: Record<string, string>; width?: number; height?: number; colour?: boolean},
  ): Promise<Terminal> {
    const t = new Terminal()
    if (opts.colour) {
      const {FORCE_COLOR: _f, NO_COLOR: _n, ...rest} = process.env
      t.serverEnv = rest
    }
    const envArgs = Object.entries({
      ...opts.env,
      ...(opts.colour ? {} : {FORCE_COLOR: '0'}),
      TERM: 'xterm-256color',
    }).flatMap(([k, v]) => ['-e', `${k}=${v}`])
    // sh runs the program with its arguments as they are ("$@", no interpolation) and records its status.
    const wrapped = ['sh', '-c', '"$@"; echo $? > "$IR_TEST_EXIT_FILE"', 'sh', ...argv]
    await t.tmux([
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      t.session,
      '-x',
      String(opts.width ?? 220),
      '-y',
      String(opts.height ?? 60),
      '-c',
      opts.cwd,
      ...envArgs,
      '-e',
      `IR_TEST_EXIT_FILE=${t.exitFile}`,
      '--',
      ...wrapped,
    ])
    await t.tmux(['set-option', '-t', t.session, 'remain-on-exit', 'on'])
    await t.tmux(['set-option', '-t', t.session, 'history-limit', '20000'])
    return t
  }

  /** The whole scrollback and screen, joined lines, without trailing blank lines. */
  async screen(opts: {escapes?: boolean} = {}): Promise<string> {
    // -e: with the colours and attributes of each cell, as SGR escape sequences.
    const r = await this.tmux([
      'capture-pane',
      '-p',
      '-J',
      ...(opts.escapes ? ['-e'] : []),
      '-t',
      this.session,
      '-S',
      '-20000',
    ])
    return r.stdout.replace(/\s+$/, '')
  }

  /** The last n non-empty lines. */
  async tail(n = 15): Promise<string> {
    return (await this.screen())
      .split('\n')
      .filter((l) => l.trim())
      .slice(-n)
      .join('\n')
  }

  async waitFor(pattern: RegExp, timeoutMs = 60_000, opts: {inTail?: number} = {}): Promise<string> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      last = opts.inTail ? await this.tail(opts.inTail) : await this.screen()
      if (pattern.test(last)) return last
      if (await this.exited()) {
        last = await this.screen()
        if (pattern.test(last)) return last
        throw new Error(`the program exited before ${pattern}:\n${last.split('\n').slice(-30).join('\n')}`)
      }
      await new Promise((r) => setTimeout(r, 150))
    }
    throw new Error(`timed out waiting for ${pattern}; screen ends with:\n${last.split('\n').slice(-30).join('\n')}`)
  }

  async keys(...keys: string[]): Promise<void> {
    for (const k of keys) {
      await this.tmux(['send-keys', '-t', this.session, k])
      await new Promise((r) => setTimeout(r, 120))
    }
  }

  async type(text: string): Promise<void> {
    await this.tmux(['send-keys', '-t', this.session, '-l', text])
    await new Promise((r) => setTimeout(r, 120))
  }

  async exited(): Promise<boolean> {
    return (await readFile(this.exitFile, 'utf8').catch(() => '')).trim() !== ''
  }

  async exitCode(timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const status = (await readFile(this.exitFile, 'utf8').catch(() => '')).trim()
      if (status) return Number(status)
      await new Promise((res) => setTimeout(res, 200))
    }
    throw new Error(
      `the program did not exit; screen ends with:\n${(await this.screen()).split('\n').slice(-20).join('\n')}`,
    )
  }

  async kill(): Promise<void> {
    await this.tmux(['kill-server']).catch(() => undefined)
    await rm(this.exitFile, {force: true})
  }
}
