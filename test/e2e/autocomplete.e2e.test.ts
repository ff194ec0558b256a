import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {BIN, tempDir} from '../helpers/cli.js'

/**
 * Shell completion through @oclif/plugin-autocomplete: `ir autocomplete -r` builds the cache, the line
 * `ir autocomplete script bash` prints is what a ~/.bashrc evals, and bash's own completion function then
 * completes commands, topics' commands and flags.
 */
describe('ir autocomplete (bash)', () => {
  it("completes commands, a topic's commands and a command's flags in a real bash", async () => {
    const home = await tempDir('ir-ac-')
    const env = {HOME: home, XDG_CACHE_HOME: join(home, 'cache'), PATH: process.env.PATH ?? ''}
    const refresh = await execa('node', [BIN, 'autocomplete', '-r'], {env, reject: false, stdin: 'ignore'})
    expect(refresh.exitCode, refresh.stderr).toBe(0)
    const script = await execa('node', [BIN, 'autocomplete', 'script', 'bash'], {env, reject: false, stdin: 'ignore'})
    expect(script.exitCode, script.stderr).toBe(0)
    expect(script.stdout).toContain('bash_setup')
    const complete = (words: string[]): string =>
      [
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
        `COMP_CWORD=${words.length - 1}`,
        `COMP_LINE='${words.join(' ')}'`,
        `COMP_POINT=\${#COMP_LINE}`,
        'COMPREPLY=()',
        '_ir_autocomplete',
        'printf "%s\\n" "${COMPREPLY[@]}"',
        'echo ---',
      ].join('; ')
    const bash = await execa(
      'bash',
      [
        '--norc',
        '-c',
        [
          script.stdout,
          complete(['ir', 'isol']),
          complete(['ir', 'case', '']),
          complete(['ir', 'isolate', '--cas']),
        ].join('\n'),
      ],
      {env, reject: false},
    )
    expect(bash.exitCode, bash.stderr).toBe(0)
    const [cmd, topic, flags] = bash.stdout.split(/^---$/m).map((s) => s.trim().split('\n'))
    expect(cmd).toEqual(['isolate'])
    expect(topic).toEqual(expect.arrayContaining(['create', 'event', 'list', 'show', 'timeline', 'verify']))
    expect(flags).toEqual(['--case'])
  })
})
