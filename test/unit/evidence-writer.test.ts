import {createHash} from 'node:crypto'
import {readFile, readdir, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
import {coveredByInFlight, evidenceExtension} from '../../src/case/inflight.js'
import {verifyCase} from '../../src/case/verify.js'
import {tempDir} from '../helpers/cli.js'

describe('evidence writer', () => {
  it('hashes while streaming, writes 0600 files, never overwrites, and verify covers them', async () => {
    const store = new CaseStore(await tempDir())
    const {kase} = await store.open({id: 'EV-1'})
    const chunks = Array.from({length: 64}, (_, i) => Buffer.alloc(16 * 1024, i))
    const expected = createHash('sha256').update(Buffer.concat(chunks)).digest('hex')
    const a1 = await kase.addEvidence({name: 'c/blob.bin', type: 'test', content: Readable.from(chunks)})
    const a2 = await kase.addEvidence({name: 'c/blob.bin', type: 'test', content: 'second'})
    expect(a1.sha256).toBe(expected)
    expect(a1.size).toBe(64 * 16 * 1024)
    expect(a2.path).not.toBe(a1.path)
    expect((await stat(join(kase.dir, a1.path))).mode & 0o777).toBe(0o600)
    expect((await stat(join(kase.dir, 'evidence', 'c'))).mode & 0o777).toBe(0o700)
    expect(
      createHash('sha256')
        .update(await readFile(join(kase.dir, a1.path)))
        .digest('hex'),
    ).toBe(expected)
    const v = await verifyCase(kase)
    expect(v.ok).toBe(true)
    expect(v.artifacts).toHaveLength(2)
  })

  it('a second file of the same name (two collects within one second) counts before a .tar.gz, not inside it', async () => {
    const store = new CaseStore(await tempDir())
    const {kase} = await store.open({id: 'EV-4'})
    const name = 'web-1/collect-20261203T114000Z.tar.gz'
    const paths = []
    for (const content of ['one', 'two', 'three'])
      paths.push((await kase.addEvidence({name, type: 'test', content})).path)
    expect(paths).toEqual([
      'evidence/web-1/collect-20261203T114000Z.tar.gz',
      'evidence/web-1/collect-20261203T114000Z-1.tar.gz',
      'evidence/web-1/collect-20261203T114000Z-2.tar.gz',
    ])
    expect((await readdir(join(kase.dir, 'evidence', 'web-1'))).sort()).toEqual(paths.map((p) => p.slice(15)).sort())
    const json = await kase.addEvidence({name: 'web-1/inspect.json', type: 'test', content: '{}'})
    const again = await kase.addEvidence({name: 'web-1/inspect.json', type: 'test', content: '{}'})
    expect([json.path, again.path]).toEqual(['evidence/web-1/inspect.json', 'evidence/web-1/inspect-1.json'])
    expect(evidenceExtension('a/image.tar')).toBe('.tar')
    expect(evidenceExtension('a/export.tar.zst')).toBe('.tar.zst')
    expect(evidenceExtension('a.tar/notes')).toBe('')
    // A live transfer's numbered name is recognised by the same rule (reconcile leaves it alone).
    const live = new Set([name])
    expect(coveredByInFlight(live, 'web-1/collect-20261203T114000Z-3.tar.gz')).toBe(true)
    expect(coveredByInFlight(live, 'web-1/collect-20261203T114000Z.tar-3.gz')).toBe(false)
    expect((await verifyCase(kase)).ok).toBe(true)
  })

  it('keeps a failed transfer as .partial and adds nothing to the manifest', async () => {
    const store = new CaseStore(await tempDir())
    const {kase} = await store.open({id: 'EV-2'})
    async function* broken() {
      yield Buffer.from('some bytes')
      throw new Error('engine connection lost')
    }
    await expect(kase.addEvidence({name: 'x/export.tar', type: 'test', content: broken()})).rejects.toThrow(
      /connection lost/,
    )
    expect(await readdir(join(kase.dir, 'evidence', 'x'))).toEqual(['export.tar.partial'])
    expect((await kase.manifest.read()).artifacts).toEqual([])
  })
})

describe('reconcile: what a kill leaves is reported or completed', () => {
  it('completes an artifact killed after the chain recorded it, and reports an orphan once', async () => {
    const store = new CaseStore(await tempDir())
    const {kase} = await store.open({id: 'EV-3'})
    const a = await kase.addEvidence({name: 'c/done.txt', type: 'test', content: 'recorded bytes\n'})
    // Simulate a kill after the audit line (and the manifest entry) but before the rename.
    const {rename, writeFile: write} = await import('node:fs/promises')
    await rename(join(kase.dir, a.path), join(kase.dir, `${a.path}.partial`))
    const doc = await kase.manifest.read()
    await write(kase.manifest.path, JSON.stringify({...doc, artifacts: []}))
    await write(join(kase.dir, 'evidence', 'c', 'orphan.tar.partial'), 'half a transfer')
    // Before the next command: the commit is pending (the chain's bytes wait in .partial), not a problem...
    const before = await verifyCase(kase)
    expect(before.pending).toEqual([a.path])
    expect(before.ok, JSON.stringify(before.problems)).toBe(true)
    // ...unless those bytes are not the ones the chain recorded.
    const {readFile: read} = await import('node:fs/promises')
    const bytes = await read(join(kase.dir, `${a.path}.partial`))
    await write(join(kase.dir, `${a.path}.partial`), 'other bytes!!!\n')
    const altered = await verifyCase(kase)
    expect(altered.pending).toEqual([])
    expect(altered.problems.map((p) => p.message)).toContain(
      `${a.path} was recorded in the audit chain but its manifest entry is gone`,
    )
    await write(join(kase.dir, `${a.path}.partial`), bytes)

    const first = await kase.reconcile()
    expect(first.recovered).toEqual([a.path])
    expect(first.partials).toEqual([{path: 'evidence/c/orphan.tar.partial', size: 15}])
    const second = await kase.reconcile()
    expect(second.recovered).toEqual([])
    const v = await verifyCase(kase)
    expect(v.ok, JSON.stringify(v.problems)).toBe(true)
    expect(v.partials.map((p) => p.path)).toEqual(['evidence/c/orphan.tar.partial'])
    const audit = (await readFile(kase.audit.path, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as {action: string})
    expect(audit.filter((l) => l.action === 'evidence.recovered')).toHaveLength(1)
    expect(audit.filter((l) => l.action === 'evidence.partial')).toHaveLength(1)
  })

  it('never gives a final name to bytes that differ from what the chain recorded', async () => {
    const store = new CaseStore(await tempDir())
    const {kase} = await store.open({id: 'EV-4'})
    const a = await kase.addEvidence({name: 'c/x.txt', type: 'test', content: 'original\n'})
    const {rename, writeFile: write} = await import('node:fs/promises')
    await rename(join(kase.dir, a.path), join(kase.dir, `${a.path}.partial`))
    await write(join(kase.dir, `${a.path}.partial`), 'tampered\n')
    const r = await kase.reconcile()
    expect(r.recovered).toEqual([])
    expect(await readdir(join(kase.dir, 'evidence', 'c'))).toEqual(['x.txt.partial'])
    expect((await verifyCase(kase)).ok).toBe(false)
  })

  it("leaves another live process's in-flight partial alone, and reports one whose writer is dead", async () => {
    const dir = await tempDir()
    const {kase} = await new CaseStore(dir).open({id: 'EV-5'})
    // A second handle on the same case, as a second process would have.
    const other = await new CaseStore(dir).open({id: 'EV-5'})
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const slow = Readable.from(
      (async function* () {
        yield Buffer.alloc(4096, 1)
        await gate
        yield Buffer.alloc(4096, 2)
      })(),
    )
    const writing = kase.addEvidence({name: 'c/big.tar', type: 'test', content: slow})
    // Wait until the transfer's partial is on disk and half written.
    const partial = join(kase.dir, 'evidence', 'c', 'big.tar.partial')
    for (
      let i = 0;
      i < 200 &&
      !(await stat(partial).then(
        (s) => s.size > 0,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 10))
    const during = await other.kase.reconcile()
    expect(during.partials).toEqual([])
    release()
    const a = await writing
    expect(a.path).toBe('evidence/c/big.tar')
    const v = await verifyCase(kase)
    expect(v.ok, JSON.stringify(v.problems)).toBe(true)

    // A writer that died (its pid no longer runs) leaves a marker and a partial: both are reported.
    const {execFileSync} = await import('node:child_process')
    const deadPid = Number(execFileSync('sh', ['-c', 'echo $$'], {encoding: 'utf8'}).trim())
    const {mkdir, writeFile: write} = await import('node:fs/promises')
    const {hostname} = await import('node:os')
    await mkdir(join(kase.dir, '.ir-inflight'), {recursive: true})
    await write(
      join(kase.dir, '.ir-inflight', `${deadPid}-x.json`),
      JSON.stringify({host: hostname(), pid: deadPid, start: '1', wanted: 'evidence/c/dead.tar'}),
    )
    await write(join(kase.dir, 'evidence', 'c', 'dead.tar.partial'), 'half')
    const after = await other.kase.reconcile()
    expect(after.partials).toEqual([{path: 'evidence/c/dead.tar.partial', size: 4}])
    expect(await readdir(join(kase.dir, '.ir-inflight'))).toEqual([])
    const audit = (await readFile(kase.audit.path, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as {action: string; details?: {path?: string}})
    expect(audit.filter((l) => l.action === 'evidence.partial').map((l) => l.details?.path)).toEqual([
      'evidence/c/dead.tar.partial',
    ])
  })
})
