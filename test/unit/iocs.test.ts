import {describe, expect, it} from 'vitest'

import {iocsToStix, renderIocsCsv, uuidv5} from '../../src/services/report/iocs.js'

const IOCS = [
  {container: 'web', type: 'file', value: '/tmp/.x/sleep', sha256: 'ab'.repeat(32)},
  {container: 'web', type: 'file', value: '/tmp/.x/miner.sh'},
  {container: 'web', type: 'address', value: '203.0.113.9:4444'},
  {container: 'web', type: 'address', value: '2001:db8::1:443'},
  {container: 'web', type: 'process', value: 'nc'},
  {container: 'db', type: 'file', value: '/tmp/a,"b"', sha256: 'ab'.repeat(32)},
]

// STIX 2.1 (OASIS, 2021): the required properties of each object type used here.
const REQUIRED: Record<string, string[]> = {
  identity: ['type', 'spec_version', 'id', 'created', 'modified', 'name'],
  indicator: ['type', 'spec_version', 'id', 'created', 'modified', 'pattern', 'pattern_type', 'valid_from'],
  file: ['type', 'id'],
  'ipv4-addr': ['type', 'id', 'value'],
  'ipv6-addr': ['type', 'id', 'value'],
  'network-traffic': ['type', 'id', 'protocols'],
  process: ['type', 'id'],
}
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/

describe('IOC export', () => {
  it('makes RFC 4122 version 5 identifiers (the DNS namespace vector)', () => {
    expect(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    )
  })

  it('writes a STIX 2.1 bundle whose every object has the required properties of its type', () => {
    const b = iocsToStix('IR-1', IOCS)
    expect(b.type).toBe('bundle')
    expect(b.id).toMatch(/^bundle--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const ids = new Set(b.objects.map((o) => o.id))
    expect(ids.size).toBe(b.objects.length)
    for (const o of b.objects) {
      const type = String(o.type)
      expect(REQUIRED[type], type).toBeDefined()
      for (const p of REQUIRED[type]!) expect(o[p], `${type}.${p}`).toBeDefined()
      expect(o.spec_version).toBe('2.1')
      expect(String(o.id)).toMatch(
        new RegExp(`^${type}--[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`),
      )
      for (const k of ['created', 'modified', 'valid_from'])
        if (o[k] !== undefined) expect(String(o[k])).toMatch(TIMESTAMP)
      // Every reference points at an object of the bundle; custom properties are x_ prefixed.
      for (const [k, v] of Object.entries(o)) if (k.endsWith('_ref')) expect(ids.has(v as string), k).toBe(true)
      for (const k of Object.keys(o)) expect(k).toMatch(/^(?:[a-z][a-z0-9_]*)$/)
    }
    const files = b.objects.filter((o) => o.type === 'file')
    // One file object per hash (deterministic id): the same binary in two containers is one observable.
    expect(
      files.filter((f) => (f.hashes as Record<string, string> | undefined)?.['SHA-256'] === 'ab'.repeat(32)),
    ).toHaveLength(1)
    const patterns = b.objects.filter((o) => o.type === 'indicator').map((o) => o.pattern)
    expect(patterns).toContain(`[file:hashes.'SHA-256' = '${'ab'.repeat(32)}']`)
    expect(patterns).toContain(`[network-traffic:dst_ref.value = '203.0.113.9' AND network-traffic:dst_port = 4444]`)
    expect(b.objects.find((o) => o.type === 'ipv6-addr')?.value).toBe('2001:db8::1')
    expect(b.objects.find((o) => o.type === 'process')?.x_ir_name).toBe('nc')
  })

  it('writes RFC 4180 CSV, quoting what needs it', () => {
    const csv = renderIocsCsv('IR-1', IOCS)
    const lines = csv.split('\r\n')
    expect(lines[0]).toBe('case_id,container,type,value,sha256')
    expect(lines).toContain(`IR-1,db,file,"/tmp/a,""b""",${'ab'.repeat(32)}`)
    expect(lines).toContain('IR-1,web,address,203.0.113.9:4444,')
    expect(lines.at(-1)).toBe('')
    expect(lines).toHaveLength(IOCS.length + 2)
  })
})
