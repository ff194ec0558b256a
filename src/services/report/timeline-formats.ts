import {TIMESKETCH_COLUMNS, type TimesketchRow} from './timeline.js'
import {jsonText, neutralizeControls} from '../../util/controls.js'

/**
 * One RFC 4180 field: quoted when it holds a comma, a double quote, CR or LF; quotes doubled. Other
 * control characters (ESC, BEL, DEL, C1, bidi overrides) are shown as visible escapes (`\x1b`).
 */
export function csvField(value: unknown): string {
  const s = value === undefined || value === null ? '' : neutralizeControls(value, {keepCr: true})
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** RFC 4180 CSV: a header line, CRLF line breaks (including after the last record). */
export function toCsv(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const lines = [columns.map(csvField).join(','), ...rows.map((r) => columns.map((c) => csvField(r[c])).join(','))]
  return `${lines.join('\r\n')}\r\n`
}

export function renderTimesketchCsv(rows: readonly TimesketchRow[]): string {
  return toCsv(TIMESKETCH_COLUMNS, rows as unknown as Array<Record<string, unknown>>)
}

/** JSON lines: one object per event, keys in Timesketch's column order. */
export function renderTimesketchJsonl(rows: readonly TimesketchRow[]): string {
  return rows.map((r) => `${jsonText(Object.fromEntries(TIMESKETCH_COLUMNS.map((c) => [c, r[c]])))}\n`).join('')
}
