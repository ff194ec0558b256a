import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {GENESIS, verifyChain} from '../../src/case/audit-log.js'
import {CaseStore} from '../../src/case/case-store.js'
import {sha256} from '../../src/util/fs.js'
import {tempDir} from '../helpers/cli.js'

async function freshCase() {
  const store = new CaseStore(await tempDir())
  const {kase} = await store.open({id: 'UNIT-1', title: 'unit'})
  return {store, kase}
}

describe('hash-chained audit log', () => {
  it('chains every line to the previous one and records the head in case.json', async () => {
    const {store, kase} = await freshCase()
    await Promise.all(
      Array.from({length: 20}, (_, i) => kase.record({action: 'test', target: `t${i}`, outcome: 'success'})),
    )
    const lines = (await readFile(kase.audit.path, 'utf8')).trimEnd().split('\n')
    expect(lines).toHaveLength(21)
    let prev = GENESIS
    for (const [i, line] of lines.entries()) {
      const parsed = JSON.parse(line)
      expect(parsed.seq).toBe(i + 1)
      expect(parsed.prev).toBe(prev)
      expect(parsed.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      prev = sha256(line)
    }
    const meta = await store.readMeta(kase.dir)
    expect(meta?.auditHead).toEqual({seq: 21, hash: prev})
    expect((await verifyChain(kase.audit.path, meta?.auditHead)).problems).toEqual([])
  })

  it('finds an edited line, a removed line, a reordering, and a truncated tail', async () => {
    const {store, kase} = await freshCase()
    for (let i = 0; i < 5; i++) await kase.record({action: 'a', outcome: 'success', details: {i}})
    const head = (await store.readMeta(kase.dir))!.auditHead
    const original = await readFile(kase.audit.path, 'utf8')
    const lines = original.trimEnd().split('\n')

    await writeFile(kase.audit.path, `${lines.map((l, i) => (i === 2 ? l.replace('"i":1', '"i":9') : l)).join('\n')}\n`)
    expect((await verifyChain(kase.audit.path, head)).problems.map((p) => p.line)).toEqual([4])

    await writeFile(kase.audit.path, `${lines.filter((_, i) => i !== 1).join('\n')}\n`)
    expect((await verifyChain(kase.audit.path, head)).problems.length).toBeGreaterThan(0)

    await writeFile(kase.audit.path, `${[lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n')}\n`)
    expect((await verifyChain(kase.audit.path, head)).problems.length).toBeGreaterThan(0)

    await writeFile(kase.audit.path, `${lines.slice(0, -1).join('\n')}\n`)
    const truncated = await verifyChain(kase.audit.path, head)
    expect(truncated.problems).toEqual([
      expect.objectContaining({problem: expect.stringMatching(/records 6 audit lines but the log has 5/)}),
    ])
  })

  it('redacts secret-looking values in details and messages', async () => {
    const {kase} = await freshCase()
    await kase.record({
      action: 'x',
      outcome: 'info',
      msg: 'connect postgres://u:pw-XYZ@db/x',
      details: {password: 'pw-XYZ', env: ['TOKEN=pw-XYZ'], nested: {apiKey: 'pw-XYZ'}},
    })
    const text = await readFile(join(kase.dir, 'audit.log'), 'utf8')
    expect(text).not.toContain('pw-XYZ')
  })
})

describe('crash leftovers', () => {
  it("keeps appending after a torn last line (and verify names it), and takes over a dead holder's lock", async () => {
    const {store, kase} = await freshCase()
    await kase.record({action: 'a', outcome: 'success'})
    const {appendFile} = await import('node:fs/promises')
    await appendFile(kase.audit.path, '{"level":"info","time":"2026-')
    await writeFile(join(kase.dir, '.lock'), '999999')
    await kase.record({action: 'after-crash', outcome: 'success'})
    const meta = await store.readMeta(kase.dir)
    const chain = await verifyChain(kase.audit.path, meta?.auditHead)
    expect(chain.problems.map((p) => p.problem)).toEqual([expect.stringMatching(/not valid JSON/)])
    expect(chain.entries).toBe(4)
  })
})
