/**
 * Compose-file variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
 * `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}`, `$VAR`, `$$` (a literal dollar), nested defaults.
 */

export type InterpolationOperator = ':-' | '-' | ':?' | '?' | ':+' | '+'

export interface VarRef {
  name: string
  operator?: InterpolationOperator
  /** The raw text after the operator (a default, an error message or an alternative). */
  argument?: string
  /** Offsets of the whole reference in the string. */
  start: number
  end: number
  /** References inside the argument (nested defaults). */
  nested: VarRef[]
}

export interface InterpolationResult {
  refs: VarRef[]
  errors: Array<{offset: number; message: string}>
}

const NAME_START = /[A-Za-z_]/
const NAME_CHAR = /[A-Za-z0-9_]/
const OPERATORS: InterpolationOperator[] = [':-', ':?', ':+', '-', '?', '+']

export function parseInterpolation(s: string, base = 0): InterpolationResult {
  const refs: VarRef[] = []
  const errors: InterpolationResult['errors'] = []
  let i = 0
  while (i < s.length) {
    if (s[i] !== '$') {
      i++
      continue
    }
    const next = s[i + 1]
    if (next === '$') {
      i += 2
      continue
    }
    if (next === '{') {
      const close = matchingBrace(s, i + 1)
      if (close < 0) {
        errors.push({offset: base + i, message: 'unterminated ${'})
        break
      }
      const body = s.slice(i + 2, close)
      let n = 0
      while (n < body.length && (n === 0 ? NAME_START : NAME_CHAR).test(body[n]!)) n++
      const name = body.slice(0, n)
      if (!name) {
        errors.push({offset: base + i, message: 'invalid variable name in ${...}'})
        i = close + 1
        continue
      }
      const rest = body.slice(n)
      if (rest === '') {
        refs.push({name, start: base + i, end: base + close + 1, nested: []})
      } else {
        const op = OPERATORS.find((o) => rest.startsWith(o))
        if (!op) {
          errors.push({offset: base + i + 2 + n, message: `invalid interpolation format for \${${name}...}`})
        } else {
          const argument = rest.slice(op.length)
          const inner = parseInterpolation(argument, base + i + 2 + n + op.length)
          errors.push(...inner.errors)
          refs.push({name, operator: op, argument, start: base + i, end: base + close + 1, nested: inner.refs})
        }
      }
      i = close + 1
      continue
    }
    if (next !== undefined && NAME_START.test(next)) {
      let j = i + 2
      while (j < s.length && NAME_CHAR.test(s[j]!)) j++
      refs.push({name: s.slice(i + 1, j), start: base + i, end: base + j, nested: []})
      i = j
      continue
    }
    i++
  }
  return {refs, errors}
}

function matchingBrace(s: string, open: number): number {
  let depth = 0
  for (let i = open; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++
      continue
    }
    if (s[i] === '$' && s[i + 1] === '{') {
      depth++
      i++
      continue
    }
    if (s[i] === '{' && i === open) {
      depth++
      continue
    }
    if (s[i] === '}') {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

/** Every variable a string refers to, nested defaults included, in order. */
export function referencedNames(s: string): string[] {
  const out: string[] = []
  const visit = (refs: VarRef[]): void => {
    for (const r of refs) {
      out.push(r.name)
      visit(r.nested)
    }
  }
  visit(parseInterpolation(s).refs)
  return out
}

/** Substitute variables the way compose does; unknown variables become empty strings. */
export function substitute(s: string, lookup: (name: string) => string | undefined): string {
  const {refs} = parseInterpolation(s)
  let out = ''
  let last = 0
  for (const r of refs) {
    out += unescapeDollars(s.slice(last, r.start))
    out += resolveRef(r, lookup)
    last = r.end
  }
  return out + unescapeDollars(s.slice(last))
}

function unescapeDollars(s: string): string {
  return s.replace(/\$\$/g, '$')
}

function resolveRef(r: VarRef, lookup: (name: string) => string | undefined): string {
  const v = lookup(r.name)
  const arg = (): string => substitute(r.argument ?? '', lookup)
  switch (r.operator) {
    case ':-':
      return v === undefined || v === '' ? arg() : v
    case '-':
      return v === undefined ? arg() : v
    case ':+':
      return v === undefined || v === '' ? '' : arg()
    case '+':
      return v === undefined ? '' : arg()
    default:
      return v ?? ''
  }
}

/** Whether a string is exactly one reference (`${VAR}`, `${VAR:-x}`, `$VAR`), so the value IS that variable. */
export function soleReference(s: string): VarRef | undefined {
  const {refs} = parseInterpolation(s)
  if (refs.length !== 1) return undefined
  const r = refs[0]!
  if (r.start !== 0 || r.end !== s.length) return undefined
  if (r.operator === ':+' || r.operator === '+') return undefined
  return r
}
