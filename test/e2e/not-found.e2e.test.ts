import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {BIN, runIr, tempDir} from '../helpers/cli.js'
import {Terminal} from '../helpers/terminal.js'

/**
 * A mistyped command: "did you mean" in a real terminal (tmux, @oclif/plugin-not-found's prompt, which runs
 * the suggested command on yes), and in ir's own one-line error without a terminal. Exit 127 either way
 * when nothing runs.
 */
const terminals: Terminal[] = []
afterAll(async () => {
  for (const t of terminals) await t.kill()
})

describe('a mistyped command', () => {
  it('without a TTY: one error line naming the closest command, then exit 127', async () => {
    const r = await runIr(['isolat', 'web'])
    expect(r.exitCode).toBe(127)
    expect(r.stdout).toBe('')
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'Error: "ir isolat web" is not an ir command.',
      'Hint: Did you mean "ir isolate"? Run "ir help" for the list of commands.',
    ])
    const topic = await runIr(['case', 'lis'])
    expect(topic.exitCode).toBe(127)
    expect(topic.stderr).toContain('Did you mean "ir case list"?')
    const far = await runIr(['qqqqqqqqqqq'])
    expect(far.exitCode).toBe(127)
    expect(far.stderr).not.toContain('Did you mean')
  })

  it('on a TTY: asks "Did you mean", runs the suggestion with its arguments on yes, exits 127 on no', async () => {
    const incidents = join(await tempDir('ir-nf-'), 'incidents')
    const yes = await Terminal.start(['node', BIN, 'case', 'lis', '--json'], {
      cwd: '/tmp',
      env: {IR_INCIDENTS_DIR: incidents},
    })
    terminals.push(yes)
    await yes.waitFor(/Did you mean case list\?/)
    await yes.keys('y', 'Enter')
    expect(await yes.exitCode()).toBe(0)
    // case list --json ran: its JSON result names the incidents root.
    expect(await yes.screen()).toContain(`"root": "${incidents}"`)

    const no = await Terminal.start(['node', BIN, 'isolat', 'web'], {cwd: '/tmp', env: {IR_INCIDENTS_DIR: incidents}})
    terminals.push(no)
    await no.waitFor(/Did you mean isolate\?/)
    await no.keys('n', 'Enter')
    expect(await no.exitCode()).toBe(127)
    expect(await no.screen()).toMatch(/isolat web is not a ir command/)
  })
})
