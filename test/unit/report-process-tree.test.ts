import {describe, expect, it} from 'vitest'

import type {AuditLine} from '../../src/case/audit-log.js'
import type {CaseMeta} from '../../src/case/case-store.js'
import type {VerifyResult} from '../../src/case/verify.js'
import type {AuditEntry} from '../../src/services/report/audit-entries.js'
import {renderReport} from '../../src/services/report/generate.js'
import {buildReportModel, processTree, type TreeProcess} from '../../src/services/report/model.js'

import {auditEntry} from '../helpers/report-fixture.js'

const META: CaseMeta = {
  schema: 1,
  id: 'CASE-TREE',
  title: 'tree',
  created: '2026-11-27T10:00:00.000Z',
  examiner: {user: 'alex', host: 'ir-box'},
  tool: {name: 'ir', version: '0.1.0'},
  auditHead: {seq: 0, hash: ''},
}
const LIVE = 'evidence/web/live-20261127T100500Z/processes.json'
// Host pids 900.., container pids 1..; pid 1's parent is the engine's shim (not in the table); 30 is a docker exec.
const PROCS: TreeProcess[] = [
  {pid: 905, nspid: 12, ppid: 901, name: 'nc', cmdline: ['nc', '-ll', '-p', '4444']},
  {pid: 901, nspid: 1, ppid: 800, name: 'sh', cmdline: ['sh', '-c', 'boot']},
  {pid: 903, nspid: 7, ppid: 901, name: 'sh', cmdline: ['sh', '/tmp/.x/miner.sh']},
  {pid: 904, nspid: 8, ppid: 903, name: 'sleep', cmdline: ['sleep', '3600']},
  {pid: 930, nspid: 30, ppid: 850, name: 'sh', cmdline: ['sh', '--password=[REDACTED]']},
]

function entries(): AuditEntry[] {
  const line = (seq: number, action: string, extra: Partial<AuditLine>): AuditEntry =>
    auditEntry(META, seq, seq, action, extra)
  return [
    line(1, 'case.open', {}),
    line(2, 'snapshot', {
      target: 'web',
      details: {
        artifacts: [{id: 'A-0002', path: LIVE, sha256: 'cd'.repeat(32)}],
        findings: [
          {id: 'writable-path-script', severity: 'high', message: 'process 7 (sh) runs a script', pid: 7},
          {id: 'unexpected-listener', severity: 'high', message: 'listening on tcp 4444', pid: 12},
        ],
      },
    }),
  ]
}

const VERIFY: VerifyResult = {
  caseId: META.id,
  ok: true,
  artifacts: [],
  unlisted: [],
  partials: [],
  pending: [],
  problems: [],
  audit: {entries: 2, ok: true, problems: [], head: {seq: 2, hash: ''}},
  verifiedAt: '2026-11-27T11:00:00.000Z',
}

const model = (live = new Map([[LIVE, PROCS]])) =>
  buildReportModel({
    meta: META,
    entries: entries(),
    artifacts: [],
    verification: VERIFY,
    answers: {},
    status: 'draft',
    generatedAt: '2026-11-27T11:00:00.000Z',
    generatedBy: 'alex@ir-box',
    tool: 'ir/0.1.0',
    liveProcesses: live,
  })

describe("the report's process tree", () => {
  it('orders parent before child, depth-first by container pid, roots where the parent is outside', () => {
    const nodes = processTree(PROCS, new Set([7]))
    expect(nodes.map((n) => [n.pid, n.depth, n.flagged])).toEqual([
      [1, 0, false],
      [7, 1, true],
      [8, 2, false],
      [12, 1, false],
      [30, 0, false],
    ])
    expect(nodes[1]!.cmdline).toBe('sh /tmp/.x/miner.sh')
    // A cycle (a corrupt table) does not loop; every process appears once.
    const cyc = processTree(
      [
        {pid: 2, ppid: 3, name: 'a', cmdline: []},
        {pid: 3, ppid: 2, name: 'b', cmdline: []},
      ],
      new Set(),
    )
    expect(cyc.length).toBeLessThanOrEqual(2)
  })

  it('is in the model from the newest snapshot, with the processes the findings name flagged', () => {
    const t = model().impact.whatHappened.processTrees
    expect(t).toHaveLength(1)
    expect(t[0]).toMatchObject({container: 'web', artifact: LIVE})
    expect(t[0]!.nodes.filter((n) => n.flagged).map((n) => n.pid)).toEqual([7, 12])
    // Without the table the section has no tree (and does not fail).
    expect(model(new Map()).impact.whatHappened.processTrees).toEqual([])
  })

  it('renders as a nested list in Markdown and an indented table in HTML, redacted command lines only', () => {
    const md = renderReport(model(), 'md')
    expect(md).toContain('**Process tree of web** (5 processes')
    expect(md).toMatch(/^- 1 sh: sh -c boot$/m)
    expect(md).toMatch(/^ {2}- ⚑ 7 \*\*sh\*\*: sh \/tmp\/\.x\/miner\.sh$/m)
    expect(md).toMatch(/^ {4}- 8 sleep: sleep 3600$/m)
    expect(md).toMatch(/^ {2}- ⚑ 12 \*\*nc\*\*: nc -ll -p 4444$/m)
    expect(md).toContain('--password=\\[REDACTED\\]')
    const html = renderReport(model(), 'html')
    expect(html).toContain('<h4>Process tree of web</h4>')
    expect(html).toMatch(/padding-left:2\.5em">└ sleep</)
    expect(html).toMatch(/<strong class="flagged">⚑ nc<\/strong>/)
  })
})
