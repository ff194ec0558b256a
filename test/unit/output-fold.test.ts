import {Writable} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {FOLD_TAIL_LINES, StatusLine, truncateVisible} from '../../src/render/progress.js'

/** A stream that records what was written, as a terminal (isTTY, 60 columns) or a pipe. */
function sink(tty: boolean): {stream: NodeJS.WriteStream; text: () => string} {
  const chunks: string[] = []
  const w = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk.toString('utf8'))
      cb()
    },
  }) as unknown as NodeJS.WriteStream & {isTTY: boolean; columns: number}
  w.isTTY = tty
  w.columns = 60
  return {stream: w, text: () => chunks.join('')}
}

/** What a terminal shows: `\r` + erase-line rewrites the current line, `\n` ends it. */
function screen(raw: string): string[] {
  const lines: string[] = ['']
  for (const part of raw.split(/(\n|\r\u001B\[2K)/)) {
    if (part === '\n') lines.push('')
    else if (part === '\r\u001B[2K') lines[lines.length - 1] = ''
    else lines[lines.length - 1] += part
  }
  return lines
}

const env = {NO_COLOR: '1'}

describe('compose output folded into one status line', () => {
  it('on a terminal: 60 compose lines show as one line that changes in place, under the step line', async () => {
    const prev = process.env.NO_COLOR
    process.env.NO_COLOR = env.NO_COLOR
    try {
      const {stream, text} = sink(true)
      const status = new StatusLine(stream)
      status.line('▶ [9/11] Apply patches through a clean rebuild')
      const fold = status.fold('compose')
      fold.phase?.('build (no cache, offline)')
      for (let i = 1; i <= 60; i++) {
        fold.line(`#${i} [web ${i}/60] RUN something long enough to be cut at the terminal's width ${'x'.repeat(40)}`)
        await new Promise((r) => setTimeout(r, 2))
      }
      await new Promise((r) => setTimeout(r, 150))
      const shown = screen(text())
      // The step line, then exactly one line for all of compose, cut to the width.
      expect(shown[0]).toBe('▶ [9/11] Apply patches through a clean rebuild')
      expect(shown).toHaveLength(2)
      expect(shown[1]).toMatch(/^ {2}compose · build \(no cache, offline\) \[60\] #60 /)
      expect(shown[1]!.length).toBeLessThanOrEqual(59)
      expect(shown[1]).toMatch(/…$/)
      fold.end({ok: true, artifact: '/case/evidence/rebuild/compose.log'})
      status.line('✓ Apply patches through a clean rebuild')
      expect(screen(text()).filter(Boolean)).toEqual([
        '▶ [9/11] Apply patches through a clean rebuild',
        '✓ Apply patches through a clean rebuild',
      ])
    } finally {
      if (prev === undefined) delete process.env.NO_COLOR
      else process.env.NO_COLOR = prev
    }
  })

  it('on a terminal, a failure prints the last lines and where the full text is', () => {
    const {stream, text} = sink(true)
    const status = new StatusLine(stream)
    const fold = status.fold('compose')
    for (let i = 1; i <= 40; i++) fold.line(`line ${i}`)
    fold.end({ok: false, artifact: '/case/evidence/rebuild/compose.log'})
    const shown = screen(text()).filter(Boolean)
    expect(shown[0]).toBe(`  compose: the last ${FOLD_TAIL_LINES} of 40 line(s):`)
    expect(shown.slice(1, 1 + FOLD_TAIL_LINES)).toEqual(
      Array.from({length: FOLD_TAIL_LINES}, (_, i) => `  | line ${40 - FOLD_TAIL_LINES + 1 + i}`),
    )
    expect(shown.at(-1)).toBe('  compose: the full output is in /case/evidence/rebuild/compose.log')
  })

  it('without a terminal: every line, prefixed, and no carriage return', () => {
    const {stream, text} = sink(false)
    const status = new StatusLine(stream)
    const fold = status.fold('compose')
    fold.line('Building web')
    fold.line('\u001b]0;title\u0007 Container web-1 Started')
    fold.end({ok: true})
    expect(text()).not.toMatch(/\r/)
    expect(text().split('\n').filter(Boolean)).toEqual([
      '  | Building web',
      '  | \\x1b]0;title\\x07 Container web-1 Started',
    ])
  })

  it('truncates on visible width, colour sequences taking no room', () => {
    expect(truncateVisible('\u001b[31mabcdef\u001b[39m', 6)).toBe('\u001b[31mabcdef\u001b[39m')
    expect(truncateVisible('abcdefgh', 5)).toBe('abcd…')
  })
})
