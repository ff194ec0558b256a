import {randomBytes} from 'node:crypto'

import {abort} from '../errors.js'

const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/** Case ids become folder names: no separators, no `..`, no leading dot or dash. */
export function validateCaseId(id: string): string {
  if (!CASE_ID.test(id) || id.includes('..')) {
    abort(`Invalid case id "${id}"`, {
      exit: 'USAGE',
      hint: 'Use letters, digits, ".", "_" and "-" (at most 100, starting with a letter or digit; no "/" or "..").',
    })
  }
  return id
}

/** IR-20261127-235134-a1b2: sortable by creation time, unique enough for concurrent responders. */
export function generateCaseId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `IR-${stamp}-${randomBytes(2).toString('hex')}`
}

/** Compact UTC timestamp for file and tag names: 20261127T235134Z */
export function fileStamp(now: Date = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')
}

// Evidence names use it beside fileStamp; docker/hosts.ts uses it too, so it lives in util/.
export {safeFileName} from '../util/file-names.js'
