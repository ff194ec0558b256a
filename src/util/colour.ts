import picocolors from 'picocolors'

/** picocolors' formatters; each one is the identity when colour is off. */
export type Colours = ReturnType<typeof picocolors.createColors>

export type ColourEnv = Partial<Record<'NO_COLOR' | 'FORCE_COLOR' | 'TERM', string | undefined>>

/**
 * Whether ir writes colour to a stream, in this order:
 * 1. NO_COLOR set to a non-empty value (https://no-color.org): never;
 * 2. FORCE_COLOR: `0` or `false` never, any other value (even empty) always, TTY or not;
 * 3. TERM=dumb: never;
 * 4. otherwise only when the stream is a terminal (a pipe, a file or CI logs get plain text).
 */
export function colourEnabled(stream: {isTTY?: boolean} | undefined, env: ColourEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
  if (env.TERM === 'dumb') return false
  return Boolean(stream?.isTTY)
}

/** The formatters for a stream (stdout by default: what the render functions produce is logged there). */
export function colours(stream: {isTTY?: boolean} = process.stdout, env: ColourEnv = process.env): Colours {
  return picocolors.createColors(colourEnabled(stream, env))
}

/** "1 critical" in red, high in magenta, medium in yellow; a count of 0 stays plain. */
export function severityCount(c: Colours, severity: string, count: number): string {
  const text = `${count} ${severity}`
  if (count === 0) return text
  switch (severity) {
    case 'critical':
      return c.bold(c.red(text))
    case 'high':
      return c.red(text)
    case 'medium':
      return c.yellow(text)
    default:
      return text
  }
}

/** The result marks: ✓ done, ✗ failed, ! a warning to read. */
export function marks(c: Colours): {ok: string; fail: string; warn: string} {
  return {ok: c.green('✓'), fail: c.red('✗'), warn: c.yellow('!')}
}

/** Colour sequences take no room on screen: the width a terminal shows. */
export function visibleLength(text: string): number {
  return text.replace(/\u001b\[[0-9;]*m/g, '').length
}
