import {afterEach, describe, expect, it, vi} from 'vitest'

import {renderRebuild} from '../../src/render/rebuild.js'
import {renderTable} from '../../src/render/table.js'
import type {RebuildResult} from '../../src/services/rebuild/rebuild.js'
import {colourEnabled, colours, severityCount, visibleLength} from '../../src/util/colour.js'
import {terminalSafe} from '../../src/util/controls.js'

const TTY = {isTTY: true}
const PIPE = {isTTY: false}
const SGR = /\u001b\[[0-9;]*m/

describe('colourEnabled: the env rules', () => {
  it.each([
    ['a terminal, nothing set', TTY, {}, true],
    ['a pipe or a file', PIPE, {}, false],
    ['no stream at all', undefined, {}, false],
    ['NO_COLOR=1 on a terminal', TTY, {NO_COLOR: '1'}, false],
    ['NO_COLOR beats FORCE_COLOR', TTY, {NO_COLOR: 'yes', FORCE_COLOR: '1'}, false],
    ['NO_COLOR empty is not set (no-color.org)', TTY, {NO_COLOR: ''}, true],
    ['FORCE_COLOR=1 on a pipe', PIPE, {FORCE_COLOR: '1'}, true],
    ['FORCE_COLOR empty on a pipe', PIPE, {FORCE_COLOR: ''}, true],
    ['FORCE_COLOR=0 on a terminal', TTY, {FORCE_COLOR: '0'}, false],
    ['FORCE_COLOR=false on a terminal', TTY, {FORCE_COLOR: 'false'}, false],
    ['TERM=dumb on a terminal', TTY, {TERM: 'dumb'}, false],
    ['TERM=dumb with FORCE_COLOR=1', TTY, {TERM: 'dumb', FORCE_COLOR: '1'}, true],
    ['TERM=xterm-256color on a terminal', TTY, {TERM: 'xterm-256color'}, true],
  ])('%s', (_what, stream, env, expected) => {
    expect(colourEnabled(stream, env)).toBe(expected)
    expect(SGR.test(colours(stream, env).red('x'))).toBe(expected)
  })

  it('severity counts: "1 critical" in bold red, a zero count plain', () => {
    const on = colours(TTY, {})
    expect(severityCount(on, 'critical', 1)).toBe('\u001b[1m\u001b[31m1 critical\u001b[39m\u001b[22m')
    expect(severityCount(on, 'critical', 0)).toBe('0 critical')
    expect(severityCount(colours(PIPE, {}), 'critical', 1)).toBe('1 critical')
  })
})

describe('rendering with colour', () => {
  afterEach(() => vi.unstubAllEnvs())

  it('tables align on what the terminal shows, colour or not', () => {
    const c = colours(TTY, {})
    const t = renderTable(
      ['STEP', 'RESULT', 'TIME'],
      [
        ['pull', c.green('ok'), '1 s'],
        ['up', c.red('FAILED'), '2 s'],
      ],
    )
    const lines = t.split('\n').map((l) => l.replace(new RegExp(SGR.source, 'g'), ''))
    expect(lines).toEqual(['STEP  RESULT  TIME', '----  ------  ----', 'pull  ok      1 s', 'up    FAILED  2 s'])
    expect(visibleLength(t.split('\n')[2]!)).toBe(lines[2]!.length)
  })

  const result = {
    plan: {
      project: {name: 'uxlab', projectDirectory: '/x'},
      composeFlavor: 'v2',
      isolated: [],
      warnings: [],
      commands: [],
    },
    dryRun: false,
    steps: [{step: 'up', ok: true, durationMs: 1000}],
    services: [],
    imagesBefore: {},
    audit: {totals: {critical: 1, high: 0, medium: 2, low: 0}, failing: []},
    ok: true,
  } as unknown as RebuildResult

  it('FORCE_COLOR: the rebuild result carries colour, and it survives the terminal filter', () => {
    vi.stubEnv('NO_COLOR', undefined)
    vi.stubEnv('FORCE_COLOR', '1')
    const text = renderRebuild(result)
    expect(text).toContain('\u001b[1m\u001b[31m1 critical')
    expect(text).toContain('\u001b[32m✓\u001b[39m Rebuilt uxlab')
    expect(terminalSafe(text, colourEnabled(PIPE))).toBe(text)
  })

  it('NO_COLOR: plain text, no escape at all', () => {
    vi.stubEnv('FORCE_COLOR', undefined)
    vi.stubEnv('NO_COLOR', '1')
    const text = renderRebuild(result)
    expect(text).not.toMatch(SGR)
    expect(text).toContain('Hardening audit: 1 critical, 0 high, 2 medium, 0 low')
    expect(text).toContain('✓ Rebuilt uxlab: all services up.')
  })
})
