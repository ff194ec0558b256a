import {describe, expect, it} from 'vitest'

import type {Journal} from '../../src/case/journal.js'
import {renderStepResult, renderWalkthrough} from '../../src/render/playbook.js'
import {type ContainerOverview, likelyFirst} from '../../src/services/respond/overview.js'
import {readableReason, summarize} from '../../src/services/respond/respond.js'
import {colours, visibleLength} from '../../src/util/colour.js'

const ON = colours({isTTY: true}, {})
const OFF = colours({isTTY: true}, {NO_COLOR: '1'})
const SGR = /\u001b\[[0-9;]*m/
const RED = '\u001b[31m'
const GREEN = '\u001b[32m'
const YELLOW = '\u001b[33m'

describe('one line per result', () => {
  it('an audit with a critical finding: red mark, the critical count red, on one line', () => {
    const r = {
      title: 'Audit the new containers',
      ...summarize('audit', {totals: {critical: 1, high: 2, medium: 0, low: 3}, failing: ['web-1']}),
    }
    const line = renderStepResult(r, ON)
    expect(line.split('\n')).toHaveLength(1)
    expect(line.startsWith(`${RED}!`)).toBe(true)
    expect(line).toContain(`${RED}1 critical`)
    expect(line.replace(/\u001b\[[0-9;]*m/g, '')).toBe(
      '! Audit the new containers — 1 critical, 2 high, 0 medium, 3 low; not passing: web-1',
    )
    expect(renderStepResult(r, OFF)).not.toMatch(SGR)
    // With the findings in the step's outputs, each critical or high one is a line of its own, severity in red.
    const withFindings = renderStepResult(
      {
        title: 'Audit the new containers',
        ...summarize('audit', {
          totals: {critical: 1, high: 0, medium: 0, low: 0},
          findings: [{severity: 'critical', container: 'web-1', message: 'mounts the Docker socket'}],
        }),
      },
      ON,
    ).split('\n')
    expect(withFindings).toHaveLength(2)
    expect(withFindings[1]).toMatch(/^ {4}\u001b\[1m\u001b\[31mcritical/)
    expect(withFindings[1]).toContain('web-1: mounts the Docker socket')
  })

  it('a rotation that skipped a credential is a yellow warning; a snapshot is green and one line', () => {
    const rot = renderStepResult(
      {title: 'Rotate credentials', ...summarize('rotate', {summary: {generated: 2, skipped: 1, remaining: 0}})},
      ON,
    )
    expect(rot.startsWith(`${YELLOW}!`)).toBe(true)
    const snap = renderStepResult(
      {
        title: 'Preserve a forensic snapshot',
        ...summarize('snapshot', {
          containers: [{name: 'web-1', image: 'ir-evidence/x:1', artifacts: [{path: 'a', sha256: 'b'}, {}]}],
        }),
      },
      ON,
    )
    expect(snap.startsWith(`${GREEN}✓`)).toBe(true)
    expect(snap.split('\n')).toHaveLength(1)
    expect(snap).toContain('web-1: evidence image ir-evidence/x:1; 2 file(s) hashed into the case')
  })

  it('a skip reason names steps by title, not id', () => {
    expect(
      readableReason('requires approve-containment (skipped)', {'approve-containment': 'Approve containment'}),
    ).toBe('needs "Approve containment" (skipped)')
  })

  it('the summary: titles aligned, states coloured, no step id or action', () => {
    const j = {
      playbook: {name: 'breach'},
      caseId: 'IR-1',
      runId: 'run-1',
      status: 'stopped',
      mode: 'guided',
      steps: [
        {
          id: 'isolate',
          action: 'isolate',
          state: 'succeeded',
          startedAt: '2026-01-01T00:00:00Z',
          endedAt: '2026-01-01T00:00:02Z',
        },
        {id: 'approve-rotation', action: 'confirm', state: 'skipped'},
        {id: 'rebuild', action: 'rebuild', state: 'pending'},
      ],
    } as unknown as Journal
    const titles = {isolate: 'Contain', 'approve-rotation': 'Approve credential rotation', rebuild: 'Apply patches'}
    const out = renderWalkthrough(j, titles, {'approve-rotation': 'skipped by the responder: later'}, ON)
    const lines = out.split('\n')
    expect(lines[0]).toContain(`${GREEN}done`)
    expect(lines[1]).toContain(`${YELLOW}skipped`)
    const plain = renderWalkthrough(j, titles, {}, OFF)
    expect(plain).not.toMatch(SGR)
    expect(plain).not.toMatch(/approve-rotation|\(confirm\)|\bSTEP\b/)
    const cols = plain
      .split('\n')
      .slice(0, 3)
      .map((l) => l.indexOf('Contain') + l.indexOf('Approve') + l.indexOf('Apply') + 2)
    expect(new Set(cols).size).toBe(1)
    expect(visibleLength(lines[0]!)).toBe(plain.split('\n')[0]!.length)
    expect(plain).toMatch(/Playbook breach: stopped \(case IR-1, run run-1\)\./)
  })
})

describe('the container picker starts on the most likely container', () => {
  const row = (name: string, extra: Partial<ContainerOverview> = {}): ContainerOverview => ({
    id: name,
    name,
    image: 'busybox',
    status: '',
    state: 'running',
    networks: [],
    ports: [],
    hints: [],
    ...extra,
  })
  it('the lab target first, then hints, then the project of the folder ir runs in, running first', () => {
    const all = [
      row('aaa-unrelated'),
      row('db-1', {projectDirectory: '/srv/app'}),
      row('old-1', {projectDirectory: '/srv/app', state: 'exited'}),
      row('priv-1', {hints: ['privileged']}),
      row('web-1', {labTarget: true, hints: ['mounts the Docker socket']}),
    ]
    expect(likelyFirst(all, {cwd: '/srv/app'}).map((c) => c.name)).toEqual([
      'web-1',
      'priv-1',
      'db-1',
      'old-1',
      'aaa-unrelated',
    ])
    expect(all[0]!.name).toBe('aaa-unrelated')
  })
})
