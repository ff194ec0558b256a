import {isAbsolute, relative, sep} from 'node:path'

/** A path as the user should type it: ./ir-lab when under the current folder, else absolute; quoted when needed. */
export function displayPath(dir: string, cwd: string): string {
  const rel = relative(cwd, dir)
  const shown = rel === '' ? '.' : !rel.startsWith('..') && !isAbsolute(rel) ? `.${sep}${rel}` : dir
  return /^[\w./@%+=:,-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`
}
