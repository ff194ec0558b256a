import {describe, expect, it} from 'vitest'

import {bufferToText, parseDotenv, setDotenvValue, textToBuffer} from '../../src/services/rotate/dotenv.js'

const F = '/p/.env'

describe('.env parser', () => {
  it('reads the usual forms with their lines and decoded values', () => {
    const text = [
      '# comment',
      '',
      'PLAIN=abc',
      'export EXPORTED=def',
      "SINGLE='it is $literal'",
      'DOUBLE="a\\"b\\nc"',
      'COMMENTED=value # trailing comment',
      'HASH=a#b',
      'EMPTY=',
      'SPACED = spaced value  ',
      'YAMLISH: colon',
      'BARE',
    ].join('\n')
    const {entries, warnings} = parseDotenv(text, F)
    expect(warnings).toEqual([])
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]))
    expect(byName.PLAIN).toMatchObject({line: 3, value: 'abc', quote: ''})
    expect(byName.EXPORTED).toMatchObject({line: 4, value: 'def', exported: true})
    expect(byName.SINGLE).toMatchObject({line: 5, value: 'it is $literal', quote: "'"})
    expect(byName.DOUBLE).toMatchObject({line: 6, value: 'a"b\nc', quote: '"'})
    expect(byName.COMMENTED?.value).toBe('value')
    expect(byName.HASH?.value).toBe('a#b')
    expect(byName.EMPTY?.value).toBe('')
    expect(byName.SPACED?.value).toBe('spaced value')
    expect(byName.YAMLISH?.value).toBe('colon')
    expect(byName.BARE?.value).toBeUndefined()
  })

  it('reads a multi-line double-quoted value (a private key) and counts lines after it', () => {
    const text = 'KEY="-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----"\nNEXT=1\n'
    const {entries} = parseDotenv(text, F)
    expect(entries.map((e) => [e.name, e.line])).toEqual([
      ['KEY', 1],
      ['NEXT', 4],
    ])
    expect(entries[0]!.value).toContain('MIIabc')
  })

  it('warns about malformed lines by file and line, never quoting them, and keeps reading', () => {
    const text = 'GOOD=1\nthis is not valid s3cr3t-in-line\n1BAD=x\nUNTERMINATED="abc\nLATER=2\n'
    const {entries, warnings} = parseDotenv(text, F)
    expect(entries.map((e) => e.name)).toEqual(['GOOD', 'LATER'])
    expect(warnings.map((w) => [w.file, w.line])).toEqual([
      [F, 2],
      [F, 3],
      [F, 4],
    ])
    expect(warnings[2]!.message).toMatch(/unterminated double quote/)
    expect(JSON.stringify(warnings)).not.toContain('s3cr3t-in-line')
  })
})

describe('.env editor', () => {
  const original = [
    '# Production secrets -- do not commit',
    '',
    'export API_KEY="old-api-key-value"   # rotated 2025',
    "DB_PASSWORD='old-db-pass'",
    'TOKEN=old-token # inline',
    '  INDENTED=keep-me',
    'API_KEY_ID=unrelated',
    '',
  ].join('\r\n')

  it('changes only the value bytes, keeping quotes, export, comments, CRLF and other lines', () => {
    let text = original
    text = setDotenvValue(text, F, 'API_KEY', 'NEWVALUE1').text
    text = setDotenvValue(text, F, 'DB_PASSWORD', 'NEWVALUE2').text
    text = setDotenvValue(text, F, 'TOKEN', 'NEWVALUE3').text
    expect(text).toBe(
      [
        '# Production secrets -- do not commit',
        '',
        'export API_KEY="NEWVALUE1"   # rotated 2025',
        "DB_PASSWORD='NEWVALUE2'",
        'TOKEN=NEWVALUE3 # inline',
        '  INDENTED=keep-me',
        'API_KEY_ID=unrelated',
        '',
      ].join('\r\n'),
    )
    const reparsed = Object.fromEntries(parseDotenv(text, F).entries.map((e) => [e.name, e.value]))
    expect(reparsed).toEqual({
      API_KEY: 'NEWVALUE1',
      DB_PASSWORD: 'NEWVALUE2',
      TOKEN: 'NEWVALUE3',
      INDENTED: 'keep-me',
      API_KEY_ID: 'unrelated',
    })
  })

  it('round-trips bytes that are not UTF-8 untouched', () => {
    const buf = Buffer.concat([
      Buffer.from('# caf'),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('\nK=old\nZ=\xe9\n', 'latin1'),
    ])
    const {text} = setDotenvValue(bufferToText(buf), F, 'K', 'new')
    const out = textToBuffer(text)
    expect(out.subarray(0, 7)).toEqual(buf.subarray(0, 7))
    expect(out.toString('latin1')).toBe(buf.toString('latin1').replace('K=old', 'K=new'))
  })

  it('replaces every definition of a name, fills an empty value, and leaves a multi-line value as one line', () => {
    const text = 'A=one\nB=\nA="two"\nKEY="-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"\n# end\n'
    let r = setDotenvValue(text, F, 'A', 'x1')
    expect(r.replaced).toBe(2)
    r = setDotenvValue(r.text, F, 'B', 'x2')
    r = setDotenvValue(r.text, F, 'KEY', 'x3')
    expect(r.text).toBe('A=x1\nB=x2\nA="x1"\nKEY="x3"\n# end\n')
  })

  it('refuses a value that would change meaning in its quoting style', () => {
    expect(() => setDotenvValue('A=1\n', F, 'A', 'has#hash')).toThrow(/cannot be written/)
    expect(() => setDotenvValue('A="1"\n', F, 'A', 'has$dollar')).toThrow(/cannot be written/)
    expect(setDotenvValue('A="1"\n', F, 'A', 'has#hash').text).toBe('A="has#hash"\n')
  })

  it('reports zero replacements for a name that is absent or bare', () => {
    expect(setDotenvValue('A=1\nB\n', F, 'B', 'x').replaced).toBe(0)
    expect(setDotenvValue('A=1\n', F, 'C', 'x').replaced).toBe(0)
  })
})
