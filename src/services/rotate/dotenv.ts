/**
 * A byte-preserving reader and editor for `.env` files (compose's dialect: `NAME=value`, `export NAME=value`,
 * `NAME: value`, single and double quotes, multi-line double-quoted values, `#` comments, CRLF).
 *
 * Text is handled as latin1 so every byte maps to one character and back: an edit changes only the
 * bytes of the value it replaces. Warnings name the file and line, never the line's content (it may
 * hold a secret).
 */

export type QuoteStyle = '"' | "'" | ''

export interface DotenvEntry {
  name: string
  /** 1-based line where the entry starts. */
  line: number
  /** Offsets (in the latin1 text) of the raw value token, quotes included. */
  start: number
  end: number
  quote: QuoteStyle
  /** The decoded value (UTF-8). undefined for a bare `NAME` line (value taken from the environment). */
  value: string | undefined
  exported: boolean
}

export interface DotenvWarning {
  file: string
  line: number
  message: string
}

export interface ParsedDotenv {
  entries: DotenvEntry[]
  warnings: DotenvWarning[]
}

const ASSIGNMENT = /^([ \t]*)(export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*(=|:(?=[ \t]|$))[ \t]*/
const BARE_NAME = /^[ \t]*(export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*$/

export function bufferToText(buf: Buffer): string {
  return buf.toString('latin1')
}

export function textToBuffer(text: string): Buffer {
  return Buffer.from(text, 'latin1')
}

function utf8(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('utf8')
}

function lineEndAt(text: string, pos: number): number {
  const nl = text.indexOf('\n', pos)
  return nl < 0 ? text.length : nl
}

function countLines(text: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) n++
  return n
}

/** Index of the closing quote, honouring backslash escapes inside double quotes; -1 when unterminated. */
function findClosingQuote(text: string, open: number, quote: '"' | "'"): number {
  for (let i = open + 1; i < text.length; i++) {
    const ch = text[i]
    if (quote === '"' && ch === '\\') {
      i++
      continue
    }
    if (ch === quote) return i
  }
  return -1
}

function unescapeDouble(raw: string): string {
  return raw.replace(/\\([\\"nrt$`])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c))
}

export function parseDotenv(text: string, file: string): ParsedDotenv {
  const entries: DotenvEntry[] = []
  const warnings: DotenvWarning[] = []
  let pos = 0
  let line = 1
  while (pos < text.length) {
    const eol = lineEndAt(text, pos)
    const content = text.slice(pos, eol).replace(/\r$/, '')
    const trimmed = content.trim()
    let next = eol + 1
    let consumedLines = 1
    if (trimmed === '' || trimmed.startsWith('#')) {
      // blank or comment
    } else {
      const m = ASSIGNMENT.exec(content)
      const bare = m ? undefined : BARE_NAME.exec(content)
      if (bare) {
        entries.push({
          name: bare[2]!,
          line,
          start: pos + content.length,
          end: pos + content.length,
          quote: '',
          value: undefined,
          exported: Boolean(bare[1]),
        })
      } else if (!m) {
        warnings.push({file, line, message: 'not a NAME=value line (ignored)'})
      } else {
        const name = m[3]!
        const exported = Boolean(m[2])
        const vStart = pos + m[0].length
        const first = text[vStart]
        if (first === '"' || first === "'") {
          const close = findClosingQuote(text, vStart, first)
          const closeLineEnd = close < 0 ? -1 : lineEndAt(text, close)
          if (close < 0) {
            warnings.push({
              file,
              line,
              message: `unterminated ${first === '"' ? 'double' : 'single'} quote (entry ignored)`,
            })
          } else {
            const raw = text.slice(vStart + 1, close)
            const after = text.slice(close + 1, closeLineEnd).replace(/\r$/, '')
            if (after.trim() !== '' && !/^[ \t]+#/.test(after) && !after.trim().startsWith('#')) {
              warnings.push({file, line, message: 'unexpected text after the closing quote (ignored)'})
            }
            entries.push({
              name,
              line,
              start: vStart,
              end: close + 1,
              quote: first,
              value: utf8(first === '"' ? unescapeDouble(raw) : raw),
              exported,
            })
            consumedLines = 1 + countLines(text, vStart, close)
            next = closeLineEnd + 1
          }
        } else {
          let valueText = content.slice(m[0].length)
          const comment = /(^|[ \t])#/.exec(valueText)
          if (comment) valueText = valueText.slice(0, comment.index)
          valueText = valueText.replace(/[ \t]+$/, '')
          entries.push({
            name,
            line,
            start: vStart,
            end: vStart + valueText.length,
            quote: '',
            value: utf8(valueText),
            exported,
          })
        }
      }
    }
    pos = next
    line += consumedLines
  }
  return {entries, warnings}
}

/** Characters a value may hold and keep meaning the same thing in each quoting style (no interpolation, no escapes). */
function encodable(value: string, quote: QuoteStyle): boolean {
  if (!/^[\x21-\x7e]*$/.test(value)) return false
  if (/[$\\`"']/.test(value)) return false
  if (quote === '' && value.includes('#')) return false
  return true
}

/**
 * Replace the value of every definition of `name` (a name defined twice keeps no stale copy), keeping
 * its quoting style and every other byte. Returns the new text and how many definitions changed.
 */
export function setDotenvValue(
  text: string,
  file: string,
  name: string,
  value: string,
): {text: string; replaced: number} {
  const {entries} = parseDotenv(text, file)
  const targets = entries.filter((e) => e.name === name && e.value !== undefined)
  let out = text
  for (const e of [...targets].sort((a, b) => b.start - a.start)) {
    if (!encodable(value, e.quote))
      throw new Error(
        `the new value for ${name} has characters that cannot be written ${e.quote ? 'inside quotes' : 'unquoted'} in ${file}`,
      )
    out = `${out.slice(0, e.start)}${e.quote}${value}${e.quote}${out.slice(e.end)}`
  }
  return {text: out, replaced: targets.length}
}
