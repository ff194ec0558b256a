import {abort} from '../errors.js'

/**
 * Parse a point in time as the docker CLI accepts it for --since/--until: an RFC 3339 date,
 * Unix seconds, or a duration before now (90s, 30m, 2h, 7d). Returns Unix seconds.
 */
export function parseTimePoint(value: string, flag: string, now: Date = new Date()): number {
  const v = value.trim()
  if (/^\d+(\.\d+)?$/.test(v)) return Math.floor(Number(v))
  const rel = /^(\d+)(s|m|h|d)$/.exec(v)
  if (rel) {
    const mult = {s: 1, m: 60, h: 3600, d: 86_400}[rel[2] as 's' | 'm' | 'h' | 'd']
    return Math.floor(now.getTime() / 1000) - Number(rel[1]) * mult
  }
  const t = Date.parse(v)
  if (Number.isNaN(t))
    abort(`${flag} "${value}" is not a time`, {
      exit: 'USAGE',
      hint: 'Use an RFC 3339 date (2026-11-27T23:00:00Z), Unix seconds, or a duration such as 30m, 2h, 7d.',
    })
  return Math.floor(t / 1000)
}

/** 2026-11-27T23:51:34.123Z -> 2026-11-27 23:51:34 (the report says once that all times are UTC). */
export function utc(iso: string | undefined): string {
  if (!iso) return ''
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
}

/**
 * ISO 8601 with the local offset of this host (TZ applies), milliseconds kept:
 * 2026-12-03T13:04:05.123+01:00; UTC is written +00:00, never Z, so the offset is always explicit.
 */
export function isoWithOffset(date: Date = new Date()): string {
  const offset = -date.getTimezoneOffset()
  const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 23)
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset)
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}
