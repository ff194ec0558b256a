/**
 * `${{ inputs.name }}` substitution and `when` conditions. Deliberately tiny: inputs only,
 * truthiness, `!`, `==` and `!=` against a quoted literal. No code runs.
 */

import type {InputValues} from '../case/journal.js'

const EXPR = /\$\{\{\s*([^}]*?)\s*\}\}/g
const REF = /^inputs\.([a-z][a-z0-9_-]*)$/

export function referencedInputs(text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(EXPR)) {
    for (const ref of m[1]!.matchAll(/inputs\.([a-z][a-z0-9_-]*)/g)) out.push(ref[1]!)
  }
  return out
}

function valueOf(ref: string, inputs: InputValues): string | number | boolean | string[] | undefined {
  const m = REF.exec(ref.trim())
  if (!m) throw new Error(`unsupported expression "${ref}": use inputs.<name>`)
  return inputs[m[1]!]
}

/** Substitute in a string. A string that is exactly one expression keeps the value's type (lists stay lists). */
export function interpolate(value: unknown, inputs: InputValues): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{\{\s*([^}]*?)\s*\}\}$/.exec(value)
    if (whole) return valueOf(whole[1]!, inputs)
    return value.replace(EXPR, (_m, ref: string) => {
      const v = valueOf(ref, inputs)
      return Array.isArray(v) ? v.join(',') : String(v ?? '')
    })
  }
  if (Array.isArray(value))
    return value.flatMap((v) => {
      const r = interpolate(v, inputs)
      return Array.isArray(r) && typeof v === 'string' && /^\$\{\{/.test(v) ? (r as unknown[]) : [r]
    })
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, inputs)]))
  return value
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0
  if (typeof v === 'string') return v !== '' && v.toLowerCase() !== 'false' && v !== '0' && v.toLowerCase() !== 'no'
  return Boolean(v)
}

/** Evaluate a `when`. */
export function evaluateWhen(when: string | boolean | undefined, inputs: InputValues): boolean {
  if (when === undefined) return true
  if (typeof when === 'boolean') return when
  const m = /^\$\{\{\s*(.*?)\s*\}\}$/.exec(when.trim())
  if (!m) return truthy(when)
  const expr = m[1]!
  const cmp = /^(inputs\.[a-z][a-z0-9_-]*)\s*(==|!=)\s*(['"])(.*)\3$/.exec(expr)
  if (cmp) {
    const v = valueOf(cmp[1]!, inputs)
    const eq = (Array.isArray(v) ? v.join(',') : String(v ?? '')) === cmp[4]
    return cmp[2] === '==' ? eq : !eq
  }
  if (expr.startsWith('!')) return !truthy(valueOf(expr.slice(1), inputs))
  return truthy(valueOf(expr, inputs))
}
