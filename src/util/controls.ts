/**
 * Neutralising control characters in strings that come from a container or a responder (names,
 * labels, messages, reasons, file names) before they reach a terminal, Markdown, HTML, CSV or JSON.
 *
 * Text outputs (terminal, Markdown, HTML, CSV) show each control character as a visible escape:
 * `\xNN` for C0 controls, DEL and C1 controls (ESC -> `\x1b`, BEL -> `\x07`, 8-bit CSI -> `\x9b`),
 * `\uNNNN` for the Unicode format characters that reorder or split lines (bidi overrides and
 * isolates, U+2028/U+2029). Tab and line feed are kept where the output allows lines (and turned
 * into `\x09`/`\x0a` where it needs one line). JSON keeps the exact value: JSON.stringify already
 * writes C0 controls as `\u00NN` escapes, and jsonText escapes DEL, C1 and those format characters
 * too, so a JSON document is valid, parses back to the original string and carries no raw control.
 * See docs/redaction.md.
 */

/** C0 except tab and line feed, DEL, C1, and Unicode line separators, bidi marks, overrides and isolates. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const CONTROL_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
/** What JSON.stringify leaves raw and a terminal or a viewer may still act on. */
const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
/** An SGR (colour) sequence: the only escape sequence ir itself writes to a terminal. */
const SGR = /\u001b\[[0-9;]*m/g

function visible(c: string): string {
  const code = c.codePointAt(0)!
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/**
 * Replace control characters with visible escapes; `singleLine` also escapes tab and line feed,
 * `keepCr` keeps carriage returns (CSV fields, where CR and LF are quoted data).
 */
export function neutralizeControls(value: unknown, opts: {singleLine?: boolean; keepCr?: boolean} = {}): string {
  return String(value ?? '').replace(opts.singleLine ? CONTROL_OR_BREAK : CONTROL, (c) =>
    opts.keepCr && c === '\r' ? c : visible(c),
  )
}

/** Whether a string holds a character neutralizeControls would replace. */
export function hasControls(value: string): boolean {
  return new RegExp(CONTROL.source).test(value)
}

/**
 * Text bound for a terminal: every control character is neutralised, except the colour (SGR)
 * sequences of ir's own output when `keepColour` (on a colour terminal).
 */
export function terminalSafe(text: string, keepColour = false): string {
  if (!keepColour) return neutralizeControls(text)
  let out = ''
  let pos = 0
  for (const m of text.matchAll(SGR)) {
    out += neutralizeControls(text.slice(pos, m.index)) + m[0]
    pos = m.index + m[0].length
  }
  return out + neutralizeControls(text.slice(pos))
}

/** JSON.stringify, with DEL, C1 and the reordering format characters written as `\uNNNN` escapes too. */
export function jsonText(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(
    JSON_RAW,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  )
}
