import {describe, expect, it} from 'vitest'

import {parseInterpolation, referencedNames, soleReference, substitute} from '../../src/services/rotate/interpolate.js'

describe('compose interpolation parser', () => {
  it('finds ${VAR}, $VAR and every operator with its argument and offsets', () => {
    const s = 'a ${A} $B ${C:-dflt} ${D-x} ${E:?must be set} ${F?err} ${G:+alt} ${H+alt2}'
    const {refs, errors} = parseInterpolation(s)
    expect(errors).toEqual([])
    expect(refs.map((r) => [r.name, r.operator, r.argument])).toEqual([
      ['A', undefined, undefined],
      ['B', undefined, undefined],
      ['C', ':-', 'dflt'],
      ['D', '-', 'x'],
      ['E', ':?', 'must be set'],
      ['F', '?', 'err'],
      ['G', ':+', 'alt'],
      ['H', '+', 'alt2'],
    ])
    expect(s.slice(refs[0]!.start, refs[0]!.end)).toBe('${A}')
    expect(s.slice(refs[1]!.start, refs[1]!.end)).toBe('$B')
    expect(s.slice(refs[2]!.start, refs[2]!.end)).toBe('${C:-dflt}')
  })

  it('treats $$ as a literal dollar, and a lone $ as text', () => {
    expect(referencedNames('$$NOT_A_VAR and $$ and 5$ and $1')).toEqual([])
    expect(referencedNames('$$${REAL}')).toEqual(['REAL'])
  })

  it('parses nested defaults', () => {
    const {refs} = parseInterpolation('${A:-${B:-${C}}}')
    expect(refs).toHaveLength(1)
    expect(refs[0]!.argument).toBe('${B:-${C}}')
    expect(referencedNames('${A:-${B:-${C}}}')).toEqual(['A', 'B', 'C'])
  })

  it('reports malformed references without giving up on the rest', () => {
    expect(parseInterpolation('${A').errors[0]?.message).toMatch(/unterminated/)
    const bad = parseInterpolation('${1X} ${OK} ${A*b}')
    expect(bad.errors).toHaveLength(2)
    expect(bad.refs.map((r) => r.name)).toEqual(['OK'])
  })

  it('substitutes like compose', () => {
    const vars: Record<string, string> = {SET: 'v', EMPTY: ''}
    const look = (n: string): string | undefined => vars[n]
    expect(substitute('${SET}/${UNSET}/$SET', look)).toBe('v//v')
    expect(substitute('${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d}', look)).toBe('d d  d')
    expect(substitute('${SET:+alt} ${EMPTY:+alt} ${EMPTY+alt} ${UNSET+alt}', look)).toBe('alt  alt ')
    expect(substitute('${UNSET:-${SET}}', look)).toBe('v')
    expect(substitute('cost: $$5', look)).toBe('cost: $5')
  })

  it('knows when a value is exactly one variable', () => {
    expect(soleReference('${DB_PASSWORD}')?.name).toBe('DB_PASSWORD')
    expect(soleReference('$DB_PASSWORD')?.name).toBe('DB_PASSWORD')
    expect(soleReference('${DB_PASSWORD:-x}')?.name).toBe('DB_PASSWORD')
    expect(soleReference('prefix-${DB_PASSWORD}')).toBeUndefined()
    expect(soleReference('${A}${B}')).toBeUndefined()
    expect(soleReference('${A:+x}')).toBeUndefined()
  })
})
