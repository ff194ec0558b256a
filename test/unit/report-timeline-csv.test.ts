import {describe, expect, it} from 'vitest'

import {
  csvField,
  renderTimesketchCsv,
  renderTimesketchJsonl,
  toCsv,
} from '../../src/services/report/timeline-formats.js'
import {parseAuditText} from '../../src/services/report/audit-entries.js'
import {buildTimeline, parseEventTime, TIMESKETCH_COLUMNS, toTimesketch} from '../../src/services/report/timeline.js'

/** A strict RFC 4180 reader, to check that what we write reads back field for field. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let i = 0
  let quoted = false
  while (i < text.length) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i += 2
        continue
      }
      if (c === '"') {
        quoted = false
        i++
        continue
      }
      field += c
      i++
      continue
    }
    if (c === '"' && field === '') {
      quoted = true
      i++
    } else if (c === ',') {
      row.push(field)
      field = ''
      i++
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i += 2
    } else if (c === '"' || c === '\n' || c === '\r') {
      throw new Error(`bare ${JSON.stringify(c)} at ${i}`)
    } else {
      field += c
      i++
    }
  }
  if (field !== '' || row.length > 0) throw new Error('last record not terminated by CRLF')
  return rows
}

describe('CSV (RFC 4180)', () => {
  it('quotes only fields holding a comma, a quote, CR or LF, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
    expect(csvField('cr\rhere')).toBe('"cr\rhere"')
    expect(csvField(undefined)).toBe('')
    expect(csvField(42)).toBe('42')
  })

  it('writes CRLF records that read back exactly', () => {
    const rows = [
      {a: 'x,y', b: 'He said "no"\r\nthen left'},
      {a: '', b: '<script>alert(1)</script> *bold*|pipe'},
    ]
    const text = toCsv(['a', 'b'], rows)
    expect(text.endsWith('\r\n')).toBe(true)
    expect(parseCsv(text)).toEqual([
      ['a', 'b'],
      ['x,y', 'He said "no"\r\nthen left'],
      ['', '<script>alert(1)</script> *bold*|pipe'],
    ])
  })
})

describe('timeline export', () => {
  const audit = [
    {
      level: 'info',
      time: '2026-11-27T10:00:00.000Z',
      seq: 1,
      prev: '0',
      caseId: 'C-1',
      actor: 'alex@box',
      tool: 'ir/0',
      action: 'case.open',
      outcome: 'success',
      msg: 'Case C-1 opened',
    },
    {
      level: 'info',
      time: '2026-11-27T10:05:00.000Z',
      seq: 2,
      prev: 'x',
      caseId: 'C-1',
      actor: 'alex@box',
      tool: 'ir/0',
      action: 'isolate',
      target: 'web-1',
      outcome: 'success',
      msg: 'Isolated: web-1, "paused"',
    },
    {
      level: 'info',
      time: '2026-11-27T10:06:00.000Z',
      seq: 3,
      prev: 'y',
      caseId: 'C-1',
      actor: 'sam@box',
      tool: 'ir/0',
      action: 'timeline.event',
      outcome: 'info',
      details: {at: '2026-11-27T09:40:00.000Z', message: 'Alert, "CPU" high\nsecond line'},
      msg: 'Responder event',
    },
  ]
  const text = `${audit.map((l) => JSON.stringify(l)).join('\n')}\n`

  it("has Timesketch's columns and one event per audit entry plus responder events, sorted by time", () => {
    const rows = toTimesketch(buildTimeline(parseAuditText(text)), 'C-1')
    expect(rows.map((r) => [r.datetime, r.timestamp_desc, r.seq, r.action])).toEqual([
      ['2026-11-27T09:40:00.000000+00:00', 'responder event', 3, 'responder event'],
      ['2026-11-27T10:00:00.000000+00:00', 'ir audit entry', 1, 'case.open'],
      ['2026-11-27T10:05:00.000000+00:00', 'ir audit entry', 2, 'isolate'],
      ['2026-11-27T10:06:00.000000+00:00', 'ir audit entry', 3, 'timeline.event'],
    ])
    expect(rows[0]).toMatchObject({
      message: 'Alert, "CPU" high\nsecond line',
      actor: 'sam@box',
      outcome: 'info',
      case_id: 'C-1',
      target: '',
    })

    const csv = parseCsv(renderTimesketchCsv(rows))
    expect(csv[0]).toEqual([...TIMESKETCH_COLUMNS])
    expect(csv).toHaveLength(5)
    expect(csv[1]?.[0]).toBe('Alert, "CPU" high\nsecond line')
    expect(csv[3]).toEqual([
      'Isolated: web-1, "paused"',
      '2026-11-27T10:05:00.000000+00:00',
      String(Date.UTC(2026, 10, 27, 10, 5) * 1000),
      'ir audit entry',
      '2',
      'alex@box',
      'isolate',
      'web-1',
      'success',
      'C-1',
      '',
      '',
    ])

    const jsonl = renderTimesketchJsonl(rows)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(jsonl).toHaveLength(4)
    expect(Object.keys(jsonl[0])).toEqual([...TIMESKETCH_COLUMNS])
  })

  it('normalises responder times to UTC, taking a time without zone as UTC', () => {
    expect(parseEventTime('2026-11-27T23:05:00Z')).toBe('2026-11-27T23:05:00.000Z')
    expect(parseEventTime('2026-11-28T00:05:00+01:00')).toBe('2026-11-27T23:05:00.000Z')
    expect(parseEventTime('2026-11-27T23:05')).toBe('2026-11-27T23:05:00.000Z')
    expect(parseEventTime('2026-11-27 23:05:00')).toBe('2026-11-27T23:05:00.000Z')
    expect(() => parseEventTime('yesterday')).toThrow(/Not an ISO 8601 time/)
    expect(() => parseEventTime('12/01/2026')).toThrow(/Not an ISO 8601 time/)
  })
})
