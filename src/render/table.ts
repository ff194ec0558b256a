import {visibleLength} from '../util/colour.js'

/**
 * An aligned text table. Cells may carry colour (src/util/colour.ts, off in logs and pipes): the
 * widths are what the terminal shows.
 */
export function renderTable(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = rows.map((r) => headers.map((_, i) => String(r[i] ?? '')))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => visibleLength(r[i]!))))
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(Math.max(0, widths[i]! - visibleLength(c)))))
      .join('  ')
      .trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}
