import {readFile} from 'node:fs/promises'

import type {AuditLine} from '../../case/audit-log.js'

/** One line of audit.log as read back: parsed, or kept as unreadable (verification says why). */
export type AuditEntry = ({readable: true} & AuditLine) | {readable: false; line: number; raw: string}

/** Read the case's audit log, one entry per line, in file order. A missing log is empty. */
export async function readAuditEntries(path: string): Promise<AuditEntry[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return parseAuditText(text)
}

export function parseAuditText(text: string): AuditEntry[] {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines.map((raw, i) => {
    try {
      const parsed = JSON.parse(raw) as AuditLine
      if (typeof parsed !== 'object' || parsed === null || typeof parsed.action !== 'string' || typeof parsed.time !== 'string') throw new Error('not an audit line')
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
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map((x) => (typeof x === 'string' ? x : typeof x === 'object' ? String((x as {name?: unknown}).name ?? JSON.stringify(x)) : String(x)))
  if (typeof v === 'string' && v.length > 0) return [v]
  return []
}
