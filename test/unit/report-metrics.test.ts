import {describe, expect, it} from 'vitest'

import type {AuditLine} from '../../src/case/audit-log.js'
import {computeKeyTimes, computeMetrics, detectionTime, formatDuration} from '../../src/services/report/metrics.js'

const T0 = Date.parse('2026-11-27T10:00:00.000Z')
let seq = 0
function line(
  minutes: number,
  action: string,
  outcome: AuditLine['outcome'] = 'success',
  details?: Record<string, unknown>,
): AuditLine {
  seq++
  return {
    level: 'info',
    time: new Date(T0 + minutes * 60_000).toISOString(),
    seq,
    prev: '',
    caseId: 'C',
    actor: 'a@h',
    tool: 'ir/0',
    action,
    outcome,
    msg: action,
    ...(details ? {details} : {}),
  }
}
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString()
const CREATED = {created: at(0)}

function times(
  lines: AuditLine[],
  meta: {created: string; detectedAt?: unknown} = CREATED,
): Record<string, string | undefined> {
  return Object.fromEntries(computeKeyTimes(lines, detectionTime(meta)).map((k) => [k.id, k.at]))
}

describe('key times', () => {
  it('takes detection from case.json detectedAt when present, else the case creation', () => {
    expect(detectionTime({created: at(0)})).toMatchObject({at: at(0)})
    expect(detectionTime({created: at(0), detectedAt: '2026-11-27T09:30:00+00:00'})).toMatchObject({
      at: '2026-11-27T09:30:00.000Z',
    })
    expect(detectionTime({created: at(0), detectedAt: 'not a date'})).toMatchObject({at: at(0)})
  })

  it('takes detection from the last responder event of kind detected, which overrides case.json and says so', () => {
    const lines = [
      line(0, 'case.open'),
      line(1, 'timeline.event', 'info', {at: at(-90), message: 'guess', kind: 'detected'}),
      line(2, 'timeline.event', 'info', {at: at(-120), message: 'a plain note'}),
      line(3, 'timeline.event', 'info', {at: at(-60), message: 'corrected', kind: 'detected'}),
      line(10, 'isolate'),
    ]
    const d = detectionTime({created: at(0), detectedAt: at(-5)}, lines)
    expect(d).toEqual({at: at(-60), seq: lines[3]!.seq, basis: 'detection time recorded by the responder'})
    const keyTimes = computeKeyTimes(lines, d)
    expect(keyTimes[0]).toMatchObject({id: 'detected', at: at(-60), seq: lines[3]!.seq})
    expect(keyTimes[0]!.open).toBeUndefined()
    expect(computeMetrics(keyTimes, lines).timeToContain).toEqual({ms: 70 * 60_000, display: '1h 10m 00s'})
  })

  it('without a recorded detection, says the case opening is a stand-in, in words and without internals', () => {
    const d = detectionTime({created: at(0)}, [
      line(0, 'case.open'),
      line(1, 'timeline.event', 'info', {at: at(-30), message: 'note'}),
    ])
    expect(d.at).toBe(at(0))
    expect(d.basis).toBe('when the case was opened')
    expect(d.open).toMatch(/not recorded.*ir case event <case> --kind detected/)
    expect(JSON.stringify(d)).not.toMatch(/detectedAt|case\.json/)
  })

  it('contained is the first SUCCESSFUL isolate; recovered the first successful rebuild', () => {
    const lines = [
      line(0, 'case.open'),
      line(3, 'isolate', 'failure'),
      line(5, 'isolate', 'partial'),
      line(7, 'isolate'),
      line(9, 'isolate'),
      line(50, 'rebuild', 'failure'),
      line(60, 'rebuild.step'),
      line(65, 'rebuild'),
      line(70, 'rebuild'),
    ]
    const t = times(lines)
    expect(t.contained).toBe(at(7))
    expect(t.recovered).toBe(at(65))
  })

  it('evidence secured: the later of the first snapshot and the first collect, or whichever exists', () => {
    expect(
      times([
        line(0, 'case.open'),
        line(10, 'collect'),
        line(20, 'snapshot'),
        line(30, 'collect'),
        line(40, 'snapshot'),
      ]).evidenceSecured,
    ).toBe(at(20))
    expect(
      times([line(0, 'case.open'), line(10, 'snapshot'), line(12, 'collect', 'failure'), line(25, 'collect')])
        .evidenceSecured,
    ).toBe(at(25))
    expect(times([line(0, 'case.open'), line(10, 'snapshot'), line(20, 'snapshot')]).evidenceSecured).toBe(at(10))
    expect(times([line(0, 'case.open'), line(15, 'collect')]).evidenceSecured).toBe(at(15))
    expect(times([line(0, 'case.open'), line(15, 'collect', 'failure')]).evidenceSecured).toBeUndefined()
  })

  it('credentials rotated: the last rotate.summary with remaining 0, while the latest one still says so', () => {
    expect(
      times([line(0, 'case.open'), line(10, 'rotate.summary', 'partial', {remaining: 2})]).credentialsRotated,
    ).toBeUndefined()
    const lines = [
      line(0, 'case.open'),
      line(10, 'rotate.summary', 'partial', {remaining: 2}),
      line(20, 'rotate.summary', 'success', {remaining: 0}),
      line(30, 'rotate.summary', 'success', {remaining: 0}),
      line(40, 'rotate.summary', 'partial', {remaining: 1}),
    ]
    // The latest summary counts: a credential found undecided later re-opens the milestone.
    expect(times(lines).credentialsRotated).toBeUndefined()
    expect(computeKeyTimes(lines, detectionTime(CREATED)).find((k) => k.id === 'credentialsRotated')!.open).toBe(
      '1 not decided',
    )
    expect(times(lines.slice(0, 4)).credentialsRotated).toBe(at(30))
  })

  it('credentials rotated stays open while a credential is skipped, and names what ir did not check', () => {
    const skipped = [
      line(0, 'case.open'),
      line(10, 'rotate.summary', 'info', {
        total: 3,
        rotated: 1,
        marked: 1,
        skipped: 1,
        remaining: 0,
        remainingNames: [],
        skippedNames: ['API_TOKEN'],
      }),
    ]
    const k = computeKeyTimes(skipped, detectionTime(CREATED)).find((x) => x.id === 'credentialsRotated')!
    expect(k.at).toBeUndefined()
    expect(k.open).toBe(
      '1 skipped, still holding the old value (API_TOKEN); 1 marked as rotated elsewhere, not checked by ir',
    )
    // A later run that decides it reaches the milestone; the unchecked one stays named.
    const later = [
      ...skipped,
      line(20, 'rotate.summary', 'info', {total: 3, rotated: 2, marked: 1, skipped: 0, remaining: 0}),
    ]
    const k2 = computeKeyTimes(later, detectionTime(CREATED)).find((x) => x.id === 'credentialsRotated')!
    expect(k2.at).toBe(at(20))
    expect(k2.open).toBe('1 marked as rotated elsewhere, not checked by ir')
    // Fully generated by ir: nothing open.
    const clean = [
      line(0, 'case.open'),
      line(5, 'rotate.summary', 'success', {total: 2, rotated: 2, marked: 0, skipped: 0, remaining: 0}),
    ]
    expect(
      computeKeyTimes(clean, detectionTime(CREATED)).find((x) => x.id === 'credentialsRotated'),
    ).not.toHaveProperty('open')
  })

  it('leaves what has not happened unset, and the metrics absent ("not yet")', () => {
    const lines = [line(0, 'case.open'), line(4, 'timeline.event', 'info')]
    const keyTimes = computeKeyTimes(lines, detectionTime(CREATED))
    expect(keyTimes.map((k) => [k.id, k.at])).toEqual([
      ['detected', at(0)],
      ['contained', undefined],
      ['evidenceSecured', undefined],
      ['credentialsRotated', undefined],
      ['recovered', undefined],
    ])
    const m = computeMetrics(keyTimes, lines)
    expect(m.timeToContain).toBeUndefined()
    expect(m.timeToRecover).toBeUndefined()
    expect(m.totalDuration).toEqual({ms: 4 * 60_000, display: '4m 00s'})
  })

  it('time to contain / recover and total duration are measured from detection', () => {
    const lines = [line(0, 'case.open'), line(12.5, 'isolate'), line(95, 'rebuild'), line(130, 'report')]
    const keyTimes = computeKeyTimes(lines, detectionTime({created: at(0), detectedAt: at(-30)}))
    const m = computeMetrics(keyTimes, lines)
    expect(m.timeToContain).toEqual({ms: 42.5 * 60_000, display: '42m 30s'})
    expect(m.timeToRecover).toEqual({ms: 125 * 60_000, display: '2h 05m 00s'})
    expect(m.totalDuration).toEqual({ms: 160 * 60_000, display: '2h 40m 00s'})
  })
})

describe('formatDuration', () => {
  it('formats seconds, minutes, hours and days', () => {
    expect(formatDuration(0)).toBe('0s')
    expect(formatDuration(999)).toBe('0s')
    expect(formatDuration(42_000)).toBe('42s')
    expect(formatDuration(185_000)).toBe('3m 05s')
    expect(formatDuration(7_390_000)).toBe('2h 03m 10s')
    expect(formatDuration((28 * 60 + 5) * 60_000)).toBe('1d 04h 05m')
    expect(formatDuration(-65_000)).toBe('-1m 05s')
  })
})
