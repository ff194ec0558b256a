import {chmod, lstat, readdir, readFile, stat, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {writeEnvValues} from '../../src/services/rotate/env-writer.js'
import {ALPHABETS, generateSecret} from '../../src/services/rotate/generate.js'
import {tempDir} from '../helpers/cli.js'

const ORIGINAL =
  '# keep me\r\nexport API_KEY="old-value-1"  # note\r\n\r\nOTHER=unchanged\r\nDB_PASSWORD=\'old-value-2\'\r\n'

describe('.env writer', () => {
  it('backs up (0600), writes atomically, tightens the mode to 0600 and keeps every other byte', async () => {
    const dir = await tempDir('ir-envw-')
    const file = join(dir, '.env')
    await writeFile(file, ORIGINAL)
    await chmod(file, 0o644)
    const r = await writeEnvValues(
      file,
      new Map([
        ['API_KEY', 'N3wValue'],
        ['DB_PASSWORD', 'N3wValue2'],
      ]),
      new Date('2026-11-27T23:51:34Z'),
    )
    expect(r).toMatchObject({
      file,
      backup: join(dir, '.env.ir-backup-20261127T235134Z'),
      modeBefore: '0644',
      modeAfter: '0600',
    })
    expect(await readFile(file, 'utf8')).toBe(
      ORIGINAL.replace('old-value-1', 'N3wValue').replace('old-value-2', 'N3wValue2'),
    )
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await readFile(r.backup, 'utf8')).toBe(ORIGINAL)
    expect((await stat(r.backup)).mode & 0o777).toBe(0o600)
    expect((await readdir(dir)).sort()).toEqual(['.env', '.env.ir-backup-20261127T235134Z'])
  })

  it('keeps a tighter mode, and never overwrites an earlier backup', async () => {
    const dir = await tempDir('ir-envw-')
    const file = join(dir, 'app.env')
    await writeFile(file, 'K=old\n')
    await chmod(file, 0o400)
    const when = new Date('2026-01-01T00:00:00Z')
    const a = await writeEnvValues(file, new Map([['K', 'first']]), when)
    const b = await writeEnvValues(file, new Map([['K', 'second']]), when)
    expect(a.backup).not.toBe(b.backup)
    expect(await readFile(a.backup, 'utf8')).toBe('K=old\n')
    expect(await readFile(b.backup, 'utf8')).toBe('K=first\n')
    expect((await stat(file)).mode & 0o777).toBe(0o400)
  })

  it('edits the target of a symbolic link, leaving the link', async () => {
    const dir = await tempDir('ir-envw-')
    await writeFile(join(dir, 'real.env'), 'K=old\n')
    await symlink('real.env', join(dir, '.env'))
    await writeEnvValues(join(dir, '.env'), new Map([['K', 'newvalue']]))
    expect(await readFile(join(dir, 'real.env'), 'utf8')).toBe('K=newvalue\n')
    expect((await lstat(join(dir, '.env'))).isSymbolicLink()).toBe(true)
  })

  it('writes nothing when the name is gone', async () => {
    const dir = await tempDir('ir-envw-')
    await writeFile(join(dir, '.env'), 'A=1\n')
    await expect(writeEnvValues(join(dir, '.env'), new Map([['GONE', 'x']]))).rejects.toThrow(/no longer defined/)
    expect(await readdir(dir)).toEqual(['.env'])
  })
})

describe('secret generator', () => {
  it('draws the requested length from the chosen alphabet', () => {
    for (const [name, chars] of Object.entries(ALPHABETS)) {
      const v = generateSecret(64, name as keyof typeof ALPHABETS)
      expect(v).toHaveLength(64)
      expect(
        [...v].every((c) => chars.includes(c)),
        name,
      ).toBe(true)
    }
    expect(ALPHABETS['ascii-printable-no-quotes']).not.toMatch(/["'`\\$# ]/)
    expect(generateSecret(32)).not.toBe(generateSecret(32))
    expect(() => generateSecret(4)).toThrow(RangeError)
  })

  it('uses every character of the alphabet (no modulo bias dropping any)', () => {
    const v = generateSecret(4096, 'url-safe')
    expect(new Set(v).size).toBe(64)
  })
})
