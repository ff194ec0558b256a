import {type AuditLine, readAuditText} from '../../case/audit-log.js'

/** One line of audit.log as read back: parsed, or kept as unreadable (verification says why). */
export type AuditEntry = ({readable: true} & AuditLine) | {readable: false; line: number; raw: string}

/** Read the case's audit log, one entry per line, in file order. A missing log is empty. */
export async function readAuditEntries(path: string): Promise<AuditEntry[]> {
  const text = await readAuditText(path)
  return text === '' ? [] : parseAuditText(text)
}

export function parseAuditText(text: string): AuditEntry[] {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines.map((raw, i) => {
    try {
      const parsed = JSON.parse(raw) as AuditLine
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        typeof parsed.action !== 'string' ||
        typeof parsed.time !== 'string'
      )
        throw new Error('not an audit line')
      return {readable: true as const, ...parsed}
    } catch {
      return {readable: false as const, line: i + 1, raw}
    }
  })
}

export function readable(entries: readonly AuditEntry[]): Array<AuditLine & {readable: true}> {
  return entries.filter((e): e is AuditLine & {readable: true} => e.readable)
}

/** `isolate` matches `isolate` and `isolate.*`. */
export function actionIs(action: string, name: string): boolean {
  return action === name || action.startsWith(`${name}.`)
}

export function detailsOf(e: AuditLine): Record<string, unknown> {
  return e.details && typeof e.details === 'object' ? e.details : {}
}

export function stringList(v: unknown): string[] {
  if (Array.isArray(v)) {
    return v
      .filter((x) => x !== null && x !== undefined)
      .map((x) => {
        if (typeof x !== 'object') return String(x)
        const o = x as {name?: unknown; service?: unknown; container?: unknown; id?: unknown}
        return String(o.name ?? o.service ?? o.container ?? o.id ?? JSON.stringify(x))
      })
  }
  // A map such as {web: "sha256:..."}: one "key: value" per entry.
  if (v && typeof v === 'object')
    return Object.entries(v as Record<string, unknown>).map(
      ([k, val]) => `${k}: ${typeof val === 'string' ? val : JSON.stringify(val)}`,
    )
  if (typeof v === 'string' && v.length > 0) return [v]
  return []
}
