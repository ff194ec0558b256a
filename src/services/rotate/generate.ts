import {randomBytes} from 'node:crypto'

/**
 * New credential values: cryptographically random, drawn without bias (rejection sampling) from an
 * alphabet chosen so the value means the same thing in every quoting style of a .env file.
 */

const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const DIGITS = '0123456789'

function printableNoQuotes(): string {
  let s = ''
  for (let c = 0x21; c <= 0x7e; c++) {
    const ch = String.fromCharCode(c)
    // No quotes, no backslash (escapes), no $ (interpolation), no # (comments).
    if (!`"'\`\\$#`.includes(ch)) s += ch
  }
  return s
}

export const ALPHABETS = {
  'url-safe': `${UPPER}${LOWER}${DIGITS}-_`,
  alnum: `${UPPER}${LOWER}${DIGITS}`,
  hex: `${DIGITS}abcdef`,
  'ascii-printable-no-quotes': printableNoQuotes(),
} as const

export type AlphabetName = keyof typeof ALPHABETS

export const ALPHABET_NAMES = Object.keys(ALPHABETS) as AlphabetName[]
export const DEFAULT_LENGTH = 32
export const MIN_LENGTH = 8
export const MAX_LENGTH = 4096

export function generateSecret(length: number, alphabet: AlphabetName = 'url-safe'): string {
  if (!Number.isInteger(length) || length < MIN_LENGTH || length > MAX_LENGTH)
    throw new RangeError(`length must be an integer from ${MIN_LENGTH} to ${MAX_LENGTH}`)
  const chars = ALPHABETS[alphabet]
  const n = chars.length
  const limit = 256 - (256 % n)
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(Math.max(16, (length - out.length) * 2))) {
      if (byte >= limit) continue
      out += chars[byte % n]
      if (out.length === length) break
    }
  }
  return out
}
