import type {Case} from '../../case/case-store.js'
import {exportIndexes, readExportIndex} from '../evidence/export-index.js'
import type {TarIndexEntry} from '../evidence/tar-index.js'

/**
 * The Sleuth Kit body file, 3.x form (what `fls -m` writes and `mactime -b` reads):
 *   MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime
 * from the filesystem export indexes of the case (`ir snapshot`), one line per index entry.
 *
 * Names. mactime splits each line on `|` and then decodes `%XX` (hex) in every field
 * (tm_split in mactime.base), so a `%` is written `%25` and a `|` `%7C`, and mactime shows both as
 * they are. A control character cannot be written as `%XX`: a decoded newline makes mactime drop the
 * row (its `(.*)$` does not match across it) and a raw ESC or CR reaches the terminal. They are written
 * as `\xHH`, with a backslash itself as `\\`: the escapes plaso's bodyfile parser decodes (and
 * dfImageTools writes); mactime shows them literally. The exact name stays in the export index (JSON).
 * Each name is prefixed by the container, `web:/etc/passwd` (`web@<stamp>:` when it was snapshotted
 * more than once), as `fls -m <mount point>` prefixes its names; a symbolic link is `name -> target`.
 *
 * Fields a tar does not hold are 0, the Sleuth Kit's "not known": MD5 (the index has SHA-256), inode,
 * atime, ctime and crtime. mactime lists the unknown times once per file at `Xxx Xxx 00 0000`; a start
 * date leaves them out (`mactime -b file -d 1970-01-02`).
 */
export function bodyfileName(name: string): string {
  let out = ''
  for (const ch of name) {
    const c = ch.codePointAt(0)!
    if (ch === '\\') out += '\\\\'
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) out += `\\x${c.toString(16).padStart(2, '0')}`
    else if (ch === '%') out += '%25'
    else if (ch === '|') out += '%7C'
    else out += ch
  }
  return out
}

const TYPE_CHAR: Record<string, string> = {
  file: 'r',
  'contiguous-file': 'r',
  link: 'r',
  directory: 'd',
  symlink: 'l',
  'character-device': 'c',
  'block-device': 'b',
  fifo: 'p',
}

/** TSK's mode_as_string: `<name type>/<meta type><rwxrwxrwx>`, e.g. r/rrw-r--r--, d/drwxr-xr-x, l/lrwxrwxrwx. */
export function bodyfileMode(type: string, octal: string): string {
  const t = TYPE_CHAR[type] ?? '-'
  const m = Number.parseInt(octal, 8) || 0
  const bit = (mask: number, ch: string): string => (m & mask ? ch : '-')
  const special = (x: boolean, flag: boolean, set: string): string =>
    flag ? (x ? set : set.toUpperCase()) : x ? 'x' : '-'
  const perms =
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    special(Boolean(m & 0o100), Boolean(m & 0o4000), 's') +
    bit(0o040, 'r') +
    bit(0o020, 'w') +
    special(Boolean(m & 0o010), Boolean(m & 0o2000), 's') +
    bit(0o004, 'r') +
    bit(0o002, 'w') +
    special(Boolean(m & 0o001), Boolean(m & 0o1000), 't')
  return `${t}/${t}${perms}`
}

/** The path as the container sees it: `/etc/passwd` for `etc/passwd`, `/etc` for `etc/`, `/` for `./`. */
export function containerPath(tarName: string): string {
  const p = tarName.replace(/^\.\//, '').replace(/\/+$/, '')
  return p === '' || p === '.' ? '/' : `/${p.replace(/^\/+/, '')}`
}

/** Seconds since the epoch of an index time (ISO 8601), 0 when unknown. */
function seconds(iso: string | null | undefined): number {
  const ms = iso ? Date.parse(iso) : Number.NaN
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000)
}

/** One body-file line for one index entry of the container labelled `label`. */
export function bodyfileLine(label: string, e: TarIndexEntry): string {
  const path = containerPath(e.path)
  const name = `${label}:${path}${e.type === 'symlink' && e.linkTarget !== undefined ? ` -> ${e.linkTarget}` : ''}`
  const size = e.type === 'directory' ? 0 : e.size
  return `0|${bodyfileName(name)}|0|${bodyfileMode(e.type, e.mode)}|${e.uid}|${e.gid}|${size}|0|${seconds(e.mtime)}|0|0\n`
}

export interface BodyfileResult {
  caseId: string
  /** Index entries written, one line each. */
  entries: number
  indexes: Array<{artifact: string; path: string; label: string; entries: number}>
  text: string
}

/** The body file of every filesystem export index of the case (each checked against its manifest SHA-256). Reads only. */
export async function exportBodyfile(kase: Case): Promise<BodyfileResult> {
  const parts: string[] = []
  const indexes: BodyfileResult['indexes'] = []
  for (const ref of await exportIndexes(kase)) {
    let n = 0
    for await (const e of readExportIndex(kase, ref)) {
      parts.push(bodyfileLine(ref.label, e))
      n++
    }
    indexes.push({artifact: ref.artifact.id, path: ref.artifact.path, label: ref.label, entries: n})
  }
  return {caseId: kase.id, entries: parts.length, indexes, text: parts.join('')}
}
