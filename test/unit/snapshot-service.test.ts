import {mkdir, readdir, readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {Readable} from 'node:stream'

import tar from 'tar-stream'
import {describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
import {verifyCase} from '../../src/case/verify.js'
import {singleHost} from '../../src/docker/hosts.js'
import {renderSnapshot} from '../../src/render/evidence.js'
import {snapshotOnHosts} from '../../src/services/evidence/snapshot.js'
import {tempDir} from '../helpers/cli.js'
import {FakeEngine, fakeContainer} from '../helpers/fake-engine.js'

function maliciousTar(): Readable {
  const pack = tar.pack()
  pack.entry({name: 'etc/hosts'}, '127.0.0.1 localhost\n')
  pack.entry({name: '../escape'}, 'I should never land outside the case')
  pack.entry({name: '/etc/cron.d/evil'}, '* * * * * root sh')
  pack.entry({name: 'a/../../b'}, 'nested escape')
  pack.finalize()
  return pack as unknown as Readable
}

describe('snapshot service with a malicious export', () => {
  it('indexes ../ and absolute entries as unsafe and writes nothing outside the case', async () => {
    // The parent is private too (never the shared tmpdir, which other processes write to): its entry count is ours.
    const root = join(await tempDir('ir-escape-'), 'root')
    await mkdir(root)
    const incidents = join(root, 'incidents')
    const store = new CaseStore(incidents)
    const {kase} = await store.open({id: 'ESC-1'})
    const engine = new FakeEngine([fakeContainer({name: 'victim'})])
    engine.exportTar = maliciousTar
    const before = (await readdir(root)).sort()
    const beforeParent = (await readdir(dirname(root))).length

    const result = await snapshotOnHosts({
      hosts: await singleHost(engine),
      kase,
      selection: {refs: ['victim']},
      export: true,
      volumes: false,
    })
    expect(result.containers[0]?.failures).toEqual([])
    expect(result.containers[0]?.export).toMatchObject({entries: 4, unsafePaths: 3})

    const manifest = await kase.manifest.read()
    const index = manifest.artifacts.find((a) => a.type === 'export-index')!
    const lines = (await readFile(join(kase.dir, index.path), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(
      lines
        .filter((l) => l.unsafePath)
        .map((l) => l.path)
        .sort(),
    ).toEqual(['../escape', '/etc/cron.d/evil', 'a/../../b'])
    expect((await readdir(root)).sort()).toEqual(before)
    expect((await readdir(dirname(root))).length).toBe(beforeParent)
    expect((await readdir(join(kase.dir, 'evidence', 'victim'))).some((f) => f.includes('escape'))).toBe(false)
    expect((await verifyCase(kase)).ok).toBe(true)
  })
})

describe('evidence image names and the case id', () => {
  it('says so when the image name lower-cases the case id, in the result and in the human view', async () => {
    const store = new CaseStore(await tempDir('ir-tag-'))
    for (const [id, note] of [
      ['CASE-Upper_1', true],
      ['case-lower-1', false],
    ] as const) {
      const {kase} = await store.open({id})
      const engine = new FakeEngine([fakeContainer({name: `victim-${id}`})])
      const r = await snapshotOnHosts({
        hosts: await singleHost(engine),
        kase,
        selection: {refs: [`victim-${id}`]},
        export: false,
        volumes: false,
      })
      const image = r.containers[0]!.image!
      expect(image.tag.split(':')[0]).toBe(`ir-evidence/${id.toLowerCase()}`)
      const text = renderSnapshot(r)
      if (note) {
        expect(image.note).toBe(
          `image names must be lower case: case ${id} is named ir-evidence/case-upper_1; its label ir.case keeps the id as typed`,
        )
        expect(text).toContain(`  note: ${image.note}`)
      } else {
        expect(image.note).toBeUndefined()
        expect(text).not.toContain('note:')
      }
    }
  })
})
