import {rm} from 'node:fs/promises'

import {afterAll, describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
import {renderTimesketchCsv, renderTimesketchJsonl} from '../../src/services/report/timeline-formats.js'
import {
  addResponderEvent,
  exportTimeline,
  TIMESKETCH_COLUMNS,
  timesketchTime,
  type TimesketchRow,
} from '../../src/services/report/timeline.js'
import {tempDir} from '../helpers/cli.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, {recursive: true, force: true})
})

const DATETIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})([+-]\d\d:\d\d)$/

/** Microseconds of a Timesketch datetime, computed on its own (not through timesketchTime). */
function micros(datetime: string): number {
  const m = DATETIME.exec(datetime)!
  return (Date.parse(`${m[1]}${m[3]}`) / 1000) * 1_000_000 + Number(m[2])
}

/** The rules every row must pass: Timesketch's required columns, an offset, and timestamp == datetime. */
function checkRow(r: TimesketchRow, i: number): void {
  const where = `row ${i}: ${JSON.stringify(r)}`
  expect(Object.keys(r).sort(), where).toEqual([...TIMESKETCH_COLUMNS].sort())
  expect(typeof r.message === 'string' && r.message.trim() !== '', where).toBe(true)
  expect(r.datetime, where).toMatch(DATETIME)
  expect(Number.isSafeInteger(r.timestamp), where).toBe(true)
  expect(r.timestamp, where).toBe(micros(r.datetime))
  expect(typeof r.timestamp_desc === 'string' && r.timestamp_desc.trim() !== '', where).toBe(true)
}

function index(entries: Array<Record<string, unknown>>): string {
  return entries.map((e) => `${JSON.stringify(e)}\n`).join('')
}

describe('Timesketch rows', () => {
  it('timesketchTime keeps the instant exactly, with six fraction digits and an offset', () => {
    expect(timesketchTime('2026-11-27T10:05:00.123Z')).toEqual({
      datetime: '2026-11-27T10:05:00.123000+00:00',
      timestamp: 1_795_773_900_123_000,
    })
    expect(timesketchTime('2026-11-28T00:05:00.654321+01:00')).toEqual({
      datetime: '2026-11-27T23:05:00.654321+00:00',
      timestamp: 1_795_820_700_654_321,
    })
    expect(timesketchTime('1969-12-31T23:59:59.5Z')).toEqual({
      datetime: '1969-12-31T23:59:59.500000+00:00',
      timestamp: -500_000,
    })
    expect(timesketchTime('not a time')).toBeUndefined()
  })

  it('every row of a case timeline (audit, responder, captures, file modification times) passes the rules', async () => {
    const root = await tempDir('ir-timesketch-')
    dirs.push(root)
    const {kase} = await new CaseStore(root).open({id: 'TS-1', title: 'Timesketch'})
    const files = [
      {path: 'etc/', type: 'directory', size: 0, mode: '0755', uid: 0, gid: 0, mtime: '2026-11-20T08:00:00.000Z'},
      {
        path: 'etc/pass|wd',
        type: 'file',
        size: 12,
        mode: '0644',
        uid: 0,
        gid: 0,
        mtime: '2026-11-20T08:00:01.250Z',
        sha256: 'a'.repeat(64),
      },
      {path: 'tmp/new\nline', type: 'file', size: 3, mode: '0600', uid: 1000, gid: 1000, mtime: '2026-11-27T09:59:59Z'},
      {
        path: 'bin/sh',
        type: 'symlink',
        size: 0,
        mode: '0777',
        uid: 0,
        gid: 0,
        mtime: '2026-11-20T08:00:00Z',
        linkTarget: 'busybox',
      },
      {path: 'no-time', type: 'file', size: 0, mode: '0644', uid: 0, gid: 0, mtime: null},
    ]
    const source = {containerName: 'web', containerId: 'c0ffee'}
    const idx = await kase.addEvidence({
      name: 'web/export-index-20261127T100000Z.jsonl',
      type: 'export-index',
      source,
      content: index(files),
    })
    const ps = await kase.addJsonEvidence({
      name: 'web/processes-20261127T100000Z.json',
      type: 'process-list',
      description: 'docker top of web',
      source,
      data: {Titles: ['PID'], Processes: [['1']]},
    })
    await kase.addJsonEvidence({name: 'web/inspect.json', type: 'inspect', source, data: {Id: 'c0ffee'}})
    const live = await kase.addJsonEvidence({
      name: 'web/live/processes.json',
      type: 'live-processes',
      description: 'live process table of web from /proc',
      source,
      data: {
        capturedAt: '2026-11-27T10:00:00.000Z',
        processes: [
          {
            pid: 4242,
            nspid: 1,
            name: 'sh',
            cmdline: ['sh', '-c', 'sleep 3600'],
            uid: [0, 0, 0, 0],
            startedAt: '2026-11-27T09:58:01.370Z',
            exe: {path: '/bin/busybox', deleted: false},
          },
          {pid: 4300, nspid: 7, name: 'miner', cmdline: ['/tmp/x'], uid: [1000], exe: {path: '/tmp/x', deleted: true}},
          {
            pid: 4301,
            nspid: 8,
            name: 'miner',
            cmdline: ['/tmp/x', '--pool'],
            uid: [1000],
            startedAt: '2026-11-27T09:59:00.010Z',
            exe: {path: '/tmp/x', deleted: true},
          },
        ],
      },
    })
    await addResponderEvent(kase, {at: '2026-11-27T10:30:00+01:00', message: 'Alert | fired, "high"'})

    const {rows} = await exportTimeline(kase)
    rows.forEach(checkRow)
    // Sorted by timestamp.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.timestamp).toBeGreaterThanOrEqual(rows[i - 1]!.timestamp)

    const fileRows = rows.filter((r) => r.timestamp_desc === 'Content Modification Time')
    expect(fileRows.map((r) => r.path)).toEqual(['/etc', '/bin/sh', '/etc/pass|wd', '/tmp/new\nline'])
    expect(fileRows.every((r) => r.artifact === idx.id && r.target === 'web' && r.seq === null)).toBe(true)
    expect(fileRows.find((r) => r.path === '/etc/pass|wd')).toMatchObject({
      datetime: '2026-11-20T08:00:01.250000+00:00',
      timestamp: Date.UTC(2026, 10, 20, 8, 0, 1, 250) * 1000,
      message: 'web:/etc/pass|wd modified (file, 12 bytes, mode 0644, uid 0, gid 0)',
    })
    const captures = rows.filter((r) => r.timestamp_desc === 'Live State Capture Time')
    expect(captures).toEqual([
      expect.objectContaining({artifact: ps.id, path: ps.path, action: 'process-list', target: 'web'}),
      expect.objectContaining({artifact: live.id, path: live.path, action: 'live-processes', target: 'web'}),
    ])
    expect(captures[0]!.timestamp).toBe(Date.parse(ps.collectedAt) * 1000)
    // One row per process with a start time (the one without is not guessed).
    const starts = rows.filter((r) => r.timestamp_desc === 'Process Start Time')
    expect(starts.map((r) => [r.datetime, r.path, r.actor, r.artifact])).toEqual([
      ['2026-11-27T09:58:01.370000+00:00', '/bin/busybox', 'uid 0', live.id],
      ['2026-11-27T09:59:00.010000+00:00', '/tmp/x', 'uid 1000', live.id],
    ])
    expect(starts[1]!.message).toBe('Process 8 (miner) of web started: /tmp/x --pool [executable deleted on disk]')
    const responder = rows.find((r) => r.timestamp_desc === 'responder event')!
    expect(responder.datetime).toBe('2026-11-27T09:30:00.000000+00:00')
    const audit = rows.filter((r) => r.timestamp_desc === 'ir audit entry')
    expect(audit.length).toBeGreaterThanOrEqual(5)
    expect(audit.every((r) => typeof r.seq === 'number')).toBe(true)

    // The same rules hold for what is written: JSONL parses back to the rows; CSV holds the same columns.
    const jsonl = renderTimesketchJsonl(rows)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as TimesketchRow)
    expect(jsonl).toEqual(rows)
    jsonl.forEach(checkRow)
    const csv = renderTimesketchCsv(rows)
    expect(csv.split('\r\n')[0]).toBe(TIMESKETCH_COLUMNS.join(','))
    for (const r of rows) expect(csv).toContain(`,${r.datetime},${r.timestamp},`)
  })

  it('an audit row without a time of its own takes the case opening time, never an empty datetime', async () => {
    const {toTimesketch} = await import('../../src/services/report/timeline.js')
    const rows = toTimesketch(
      [{kind: 'audit', time: '', seq: 1, actor: '', action: '(unreadable line)', outcome: 'unreadable', msg: 'x'}],
      'C',
      '2026-11-27T10:00:00.000Z',
    )
    rows.forEach(checkRow)
    expect(rows[0]!.datetime).toBe('2026-11-27T10:00:00.000000+00:00')
  })
})
