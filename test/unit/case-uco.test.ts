import jsonld from 'jsonld'
import {describe, expect, it} from 'vitest'

import type {AuditLine} from '../../src/case/audit-log.js'
import type {CaseMeta} from '../../src/case/case-store.js'
import type {Artifact} from '../../src/case/manifest.js'
import {acquisitions, caseJsonLd} from '../../src/services/case-uco.js'

const meta: CaseMeta = {
  schema: 1,
  id: 'IR-UNIT-1',
  title: 'Breach; DB_PASSWORD=hunter2hunter2 was in the compose file',
  created: '2026-12-01T10:00:00.000Z',
  examiner: {user: 'alice', host: 'h'},
  tool: {name: 'ir', version: '0.0.9'},
  auditHead: {seq: 0, hash: '0'.repeat(64)},
}

function artifact(id: string, path: string, at: string, version = '0.0.9'): Artifact {
  return {
    id,
    path,
    type: 'container-inspect',
    sha256: id
      .padEnd(64, 'a')
      .slice(0, 64)
      .replace(/[^0-9a-f]/g, 'b'),
    size: 12,
    source: {containerId: 'c0ffee', containerName: 'web-1', image: 'nginx:1.25'},
    collectedAt: at,
    collectedBy: 'alice@h',
    tool: {name: 'ir', version},
  }
}

function line(seq: number, action: string, time: string, details: Record<string, unknown>): AuditLine {
  return {
    level: 'info',
    time,
    seq,
    prev: '0'.repeat(64),
    caseId: meta.id,
    actor: 'bob@h',
    tool: 'ir/0.0.8',
    action,
    outcome: 'success',
    msg: `${action} of web-1`,
    details,
  }
}

describe('CASE/UCO export model', () => {
  const arts = [
    artifact('A-0001', 'evidence/web-1/inspect.json', '2026-12-01T10:01:00.000Z'),
    artifact('A-0002', 'evidence/web-1/fs.tar', '2026-12-01T10:02:00.000Z'),
    artifact('A-0003', 'evidence/web-1/logs.tar.gz', '2026-12-01T10:03:30.000Z', '0.1.0'),
  ]
  const lines = [
    // An old line: no startedAt, so the first artifact's commit bounds the start.
    line(5, 'snapshot', '2026-12-01T10:02:10.000Z', {artifacts: [{id: 'A-0002'}]}),
    line(7, 'collect', '2026-12-01T10:03:40.000Z', {startedAt: '2026-12-01T10:03:00.000Z', archive: {id: 'A-0003'}}),
  ]

  it('one action per acquisition line, and one for each artifact no acquisition names', () => {
    const acq = acquisitions(lines, arts)
    expect(acq.map((a) => [a.name, a.startTime, a.endTime, a.performer, a.toolVersion])).toEqual([
      ['preserve container-inspect', '2026-12-01T10:01:00.000Z', '2026-12-01T10:01:00.000Z', 'alice@h', '0.0.9'],
      ['snapshot', '2026-12-01T10:02:00.000Z', '2026-12-01T10:02:10.000Z', 'bob@h', '0.0.8'],
      ['collect', '2026-12-01T10:03:00.000Z', '2026-12-01T10:03:40.000Z', 'bob@h', '0.0.8'],
    ])
  })

  it('is stable, redacted, and expands in safe mode with each tool version once', async () => {
    const doc = caseJsonLd(meta, lines, arts)
    expect(JSON.stringify(caseJsonLd(meta, lines, arts))).toBe(JSON.stringify(doc))
    const text = JSON.stringify(doc)
    expect(text).not.toContain('hunter2hunter2')
    const graph = doc['@graph'] as Record<string, unknown>[]
    const tools = graph.filter((n) => n['@type'] === 'uco-tool:Tool').map((n) => n['uco-tool:version'])
    expect(tools.sort()).toEqual(['0.0.8', '0.0.9'])
    expect(graph.filter((n) => n['@type'] === 'uco-observable:ObservableObject')).toHaveLength(1)
    // UCO's ActionStatusTypeVocab, not ir's own words.
    const statuses = graph
      .filter((n) => n['@type'] === 'case-investigation:InvestigativeAction')
      .map((n) => n['uco-action:actionStatus'])
    expect(statuses).toEqual(['Success', 'Success', 'Success'])
    const expanded = await jsonld.expand(doc, {safe: true})
    expect(JSON.stringify(expanded)).toContain(
      'https://ontology.caseontology.org/case/investigation/InvestigativeAction',
    )
    for (const a of arts) expect(text).toContain(a.sha256)
  })
})
