import {createHash} from 'node:crypto'
import {Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import tar from 'tar-stream'
import {describe, expect, it} from 'vitest'

import {createTarIndexer, type TarIndexEntry} from '../../src/services/evidence/tar-index.js'

async function tarOf(
  entries: Array<{name: string; body?: string; type?: 'file' | 'symlink' | 'directory'; linkname?: string}>,
): Promise<Buffer> {
  const pack = tar.pack()
  for (const e of entries) {
    if (e.type === 'symlink') pack.entry({name: e.name, type: 'symlink', linkname: e.linkname})
    else if (e.type === 'directory') pack.entry({name: e.name, type: 'directory'})
    else pack.entry({name: e.name, mode: 0o644, uid: 1000, gid: 1000}, e.body ?? '')
  }
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const c of pack) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

describe('tar indexer', () => {
  it('indexes every member with file hashes, flags unsafe paths, and passes the bytes unchanged', async () => {
    const buf = await tarOf([
      {name: 'etc/', type: 'directory'},
      {name: 'etc/passwd', body: 'root:x:0:0'},
      {name: '../escape', body: 'outside'},
      {name: '/abs/file', body: 'abs'},
      {name: 'bin/sh', type: 'symlink', linkname: 'busybox'},
    ])
    const seen: TarIndexEntry[] = []
    const {stage, done} = createTarIndexer((e) => {
      seen.push(e)
    })
    const out: Buffer[] = []
    await pipeline(
      Readable.from([buf.subarray(0, 700), buf.subarray(700)]),
      stage,
      new Writable({
        write(c, _e, cb) {
          out.push(c)
          cb()
        },
      }),
    )
    const summary = await done
    expect(Buffer.concat(out).equals(buf)).toBe(true)
    expect(summary).toMatchObject({entries: 5, files: 3, unsafePaths: 2})
    const passwd = seen.find((e) => e.path === 'etc/passwd')!
    expect(passwd).toMatchObject({
      type: 'file',
      size: 10,
      uid: 1000,
      mode: '0644',
      sha256: createHash('sha256').update('root:x:0:0').digest('hex'),
    })
    expect(seen.find((e) => e.path === '../escape')?.unsafePath).toBe(true)
    expect(seen.find((e) => e.path === 'bin/sh')).toMatchObject({type: 'symlink', linkTarget: 'busybox'})
  })

  it('keeps copying when the tar is malformed, and reports the index error', async () => {
    const {stage, done} = createTarIndexer(() => undefined)
    const garbage = Buffer.alloc(4096, 0x41)
    const out: Buffer[] = []
    await pipeline(
      Readable.from([garbage]),
      stage,
      new Writable({
        write(c, _e, cb) {
          out.push(c)
          cb()
        },
      }),
    )
    expect(Buffer.concat(out).length).toBe(4096)
    expect((await done).error).toBeTruthy()
  })
})
