import {createHash} from 'node:crypto'
import {rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import tar from 'tar-stream'
import {afterAll, describe, expect, it} from 'vitest'

import {ArchiveView} from '../../src/case/case-view.js'
import {tempDir} from '../helpers/cli.js'

type Member =
  | {name: string; body: string | Buffer}
  | {name: string; type: 'symlink' | 'link'; linkname: string}
  | {name: string; type: 'directory'}

async function tarOf(members: Member[]): Promise<Buffer> {
  const pack = tar.pack()
  for (const m of members) {
    if ('body' in m) pack.entry({name: m.name, mode: 0o644}, m.body)
    else if (m.type === 'directory') pack.entry({name: m.name, type: 'directory'})
    else pack.entry({name: m.name, type: m.type, linkname: m.linkname})
  }
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const c of pack) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, {recursive: true, force: true})
})

async function open(bytes: Buffer): Promise<ArchiveView> {
  const dir = await tempDir('ir-archive-view-')
  dirs.push(dir)
  const file = join(dir, 'a.tar.gz')
  await writeFile(file, bytes)
  return ArchiveView.open(file)
}

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex')

describe('ArchiveView (an export read as one stream)', () => {
  it('hashes every member, keeps only the records in memory, and takes the archive hash in the same pass', async () => {
    const evidence = Buffer.alloc(300_000, 7)
    const gz = gzipSync(
      await tarOf([
        {name: 'C-1/', type: 'directory'},
        {name: 'C-1/case.json', body: '{"id":"C-1"}'},
        {name: 'C-1/evidence/web/blob.bin', body: evidence},
        {name: 'C-1/seals/0002/SHA256SUMS', body: 'sums'},
        {name: 'C-1/state/containment.json', body: '{}'},
      ]),
    )
    const v = await open(gz)
    expect(v.caseId).toBe('C-1')
    expect(v.problems).toEqual([])
    expect(v.sha256).toBe(sha(gz))
    expect(v.size).toBe(gz.length)
    expect((await v.entries()).map((e) => e.rel)).toEqual([
      'case.json',
      'evidence/web/blob.bin',
      'seals/0002/SHA256SUMS',
      'state/containment.json',
    ])
    expect(await v.digest('evidence/web/blob.bin')).toEqual({sha256: sha(evidence), size: evidence.length})
    expect((await v.read('case.json'))?.toString()).toBe('{"id":"C-1"}')
    await expect(v.read('evidence/web/blob.bin')).rejects.toThrow(/not a record kept/)
    expect(await v.digest('state/containment.json')).toEqual({sha256: sha('{}'), size: 2})
    expect(await v.generations()).toEqual([2])
    expect(await v.stat('missing')).toBeUndefined()
  })

  it('names unsafe names, a second top folder, a repeated name and members that are not files', async () => {
    const v = await open(
      gzipSync(
        await tarOf([
          {name: 'C-1/case.json', body: '{}'},
          {name: 'C-1/../escape', body: 'x'},
          {name: 'other/file', body: 'x'},
          {name: 'C-1/evidence/a', body: 'one'},
          {name: 'C-1/evidence/a', body: 'two'},
          {name: 'C-1/evidence/link', type: 'symlink', linkname: '/etc/passwd'},
          {name: 'C-1/evidence/hard', type: 'link', linkname: 'C-1/evidence/a'},
        ]),
      ),
    )
    expect(v.problems.map((p) => p.message)).toEqual([
      'the archive holds an unsafe name: "C-1/../escape"',
      'the archive holds more than one top folder (C-1, other)',
      'the archive holds evidence/a twice',
    ])
    expect(await v.digest('evidence/a')).toEqual({sha256: sha('two'), size: 3})
    expect(await v.stat('evidence/link')).toMatchObject({kind: 'symlink', what: 'symbolic link'})
    expect(await v.stat('evidence/hard')).toMatchObject({kind: 'other', what: 'hard link'})
    expect(await v.digest('evidence/link')).toBeUndefined()
  })

  it('a truncated archive is a problem naming the member it cut, and the hash still covers the whole file', async () => {
    const body = Buffer.from(Array.from({length: 200_000}, (_, i) => (i * 7919) % 251))
    const gz = gzipSync(
      await tarOf([
        {name: 'C-1/case.json', body: '{}'},
        {name: 'C-1/evidence/big.bin', body},
      ]),
    )
    const cut = gz.subarray(0, Math.floor(gz.length * 0.6))
    const v = await open(cut)
    expect(v.sha256).toBe(sha(cut))
    expect(v.size).toBe(cut.length)
    expect(v.problems).toEqual([
      expect.objectContaining({
        path: 'evidence/big.bin',
        message: expect.stringMatching(/damaged in evidence\/big\.bin/),
      }),
    ])
    expect(await v.stat('evidence/big.bin')).toMatchObject({kind: 'other'})
    expect(await v.digest('case.json')).toEqual({sha256: sha('{}'), size: 2})
  })

  it('a file that is not an archive holds no case (exit 6)', async () => {
    await expect(open(Buffer.from('not gzip'))).rejects.toMatchObject({exitCode: 6})
  })
})
