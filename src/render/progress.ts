import {neutralizeControls, terminalSafe} from '../util/controls.js'
import {formatBytes} from '../util/bytes.js'
import {colourEnabled, colours, visibleLength} from '../util/colour.js'
import type {OutputFold} from '../util/output-fold.js'

/**
 * Byte progress for long transfers: a single refreshed line on a TTY (bytes, rate), nothing
 * without one (CI logs stay quiet).
 */
export function byteProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): {onProgress: (bytes: number) => void; done: () => void} {
  if (!stream.isTTY) return {onProgress: () => undefined, done: () => undefined}
  const name = neutralizeControls(label, {singleLine: true})
  const start = Date.now()
  let last = 0
  let bytes = 0
  const draw = (): void => {
    const secs = Math.max((Date.now() - start) / 1000, 0.001)
    stream.write(`\r\u001B[2K  ${name}: ${formatBytes(bytes)} (${formatBytes(bytes / secs)}/s)`)
  }
  return {
    onProgress(n) {
      bytes = n
      const now = Date.now()
      if (now - last > 250) {
        last = now
        draw()
      }
    },
    done() {
      if (bytes > 0) {
        draw()
        stream.write('\n')
      }
    },
  }
}

/** Cut a line to `width` visible characters (colour sequences take no room), with an ellipsis. */
export function truncateVisible(text: string, width: number): string {
  if (visibleLength(text) <= width) return text
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '')
  return `${plain.slice(0, Math.max(0, width - 1))}…`
}

/** How many of the last lines a failed job shows. */
export const FOLD_TAIL_LINES = 15

/**
 * stderr as a log of permanent lines plus at most one transient status line at its bottom. On a terminal the
 * status line is redrawn in place (carriage return, erase line) and cleared before each permanent line, so a
 * long compose build shows as one changing line under the step it belongs to; without a terminal there is no
 * status line at all and folded output is printed as plain prefixed lines (CI logs keep everything).
 */
export class StatusLine {
  private current: string | undefined
  private lastDraw = 0
  private pending: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly live: boolean = Boolean(stream.isTTY),
  ) {}

  private safe(text: string): string {
    return terminalSafe(text, colourEnabled(this.stream))
  }

  private clear(): void {
    if (this.live && this.current !== undefined) this.stream.write('\r\u001B[2K')
  }

  private draw(): void {
    if (!this.live || this.current === undefined) return
    const width = Math.max(20, (this.stream.columns || 80) - 1)
    this.stream.write(`\r\u001B[2K${truncateVisible(this.current, width)}`)
    this.lastDraw = Date.now()
  }

  /** A permanent line (progress, a warning): above the status line, which stays. */
  line(text: string): void {
    this.clear()
    this.stream.write(`${this.safe(text)}\n`)
    this.draw()
  }

  /** Show (or with undefined remove) the status line; redraws at most every 100 ms. */
  status(text: string | undefined): void {
    if (!this.live) return
    if (text === undefined) {
      if (this.pending) clearTimeout(this.pending)
      this.pending = undefined
      this.clear()
      this.current = undefined
      return
    }
    this.current = this.safe(text)
    const since = Date.now() - this.lastDraw
    if (since >= 100) this.draw()
    else
      this.pending ??= setTimeout(() => {
        this.pending = undefined
        this.draw()
      }, 100 - since)
  }

  /** Fold a job's output (compose) into the status line, labelled; the last lines are kept for a failure. */
  fold(label: string): OutputFold {
    const tail: string[] = []
    let count = 0
    let phase = ''
    const c = colours(this.stream)
    return {
      line: (raw) => {
        const text = neutralizeControls(raw, {singleLine: true})
        count++
        tail.push(text)
        if (tail.length > FOLD_TAIL_LINES) tail.shift()
        if (this.live) this.status(`  ${c.dim(`${label}${phase ? ` · ${phase}` : ''} [${count}]`)} ${text}`)
        else this.line(`  | ${text}`)
      },
      phase: (name) => {
        phase = name
        if (this.live) this.status(`  ${c.dim(`${label} · ${phase}`)}`)
      },
      end: ({ok, artifact}) => {
        this.status(undefined)
        if (ok) return
        if (this.live && tail.length) {
          this.line(`  ${label}: the last ${tail.length} of ${count} line(s):`)
          for (const l of tail) this.line(`  | ${l}`)
        }
        if (artifact) this.line(`  ${label}: the full output is in ${artifact}`)
      },
    }
  }
}
