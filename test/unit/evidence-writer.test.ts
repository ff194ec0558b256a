import {createHash} from 'node:crypto'
import {readFile, readdir, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
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
    expect(createHash('sha256').update(await readFile(join(kase.dir, a1.path))).digest('hex')).toBe(expected)
    const v = await verifyCase(kase)
    expect(v.ok).toBe(true)
    expect(v.artifacts).toHaveLength(2)
  })

  it('keeps a failed transfer as .partial and adds nothing to the manifest', async () => {
    const store = new CaseStore(await tempDir())
    const {kase} = await store.open({id: 'EV-2'})
    async function* broken() {
      yield Buffer.from('some bytes')
      throw new Error('engine connection lost')
    }
    await expect(kase.addEvidence({name: 'x/export.tar', type: 'test', content: broken()})).rejects.toThrow(/connection lost/)
    expect(await readdir(join(kase.dir, 'evidence', 'x'))).toEqual(['export.tar.partial'])
    expect((await kase.manifest.read()).artifacts).toEqual([])
  })
})
