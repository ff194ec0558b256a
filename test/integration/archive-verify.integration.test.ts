import {randomBytes} from 'node:crypto'
import {mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
import {BIN, runIr, tempDir} from '../helpers/cli.js'

/**
 * `ir case verify --archive` reads the export as a stream and never extracts it: a clean export
 * passes; one byte changed in the archive fails (exit 6) naming the member; and, traced with strace,
 * no file is written but the few seal records that ssh-keygen reads, in a private temporary folder
 * that is gone afterwards.
 */
const CASE = 'ARCH-1'
let work: string
let trusted: string
let archive: string
/** Incompressible, so gzip stores it as it is and a byte of it can be found in the archive. */
const random = randomBytes(1024 * 1024)

beforeAll(async () => {
  work = await tempDir('ir-archive-verify-')
  const root = join(work, 'incidents')
  const store = new CaseStore(root)
  const {kase} = await store.open({id: CASE, title: 'Archive verify'})
  await kase.addEvidence({name: 'web/random.bin', type: 'file', content: random})
  await kase.addEvidence({name: 'web/logs.txt', type: 'logs', content: 'hello from web\n'})
  const key = join(work, 'id_ed25519')
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key])
  trusted = join(work, 'trusted_signers')
  await writeFile(trusted, `alice@example.org namespaces="ir-case" ${(await readFile(`${key}.pub`, 'utf8')).trim()}\n`)
  const env = {IR_INCIDENTS_DIR: root}
  const s = await runIr(['case', 'seal', CASE, '--key', key, '--signer', 'alice@example.org'], {env})
  expect(s.exitCode, s.stderr).toBe(0)
  archive = join(work, `${CASE}.tar.gz`)
  const e = await runIr(['case', 'export', CASE, '--output', archive], {env})
  expect(e.exitCode, e.stderr).toBe(0)
})

afterAll(async () => {
  await rm(work, {recursive: true, force: true})
})

/** Files opened for writing (O_WRONLY, O_RDWR or O_CREAT) by ir and its children, from an strace log. */
function writtenPaths(trace: string): string[] {
  const out: string[] = []
  for (const line of trace.split('\n')) {
    const m = /\b(?:openat|open|creat)\((?:[^,]*, )?"([^"]*)", ([A-Z_|]+)/.exec(line)
    if (m && /O_WRONLY|O_RDWR|O_CREAT/.test(m[2]!) && !/= -1 /.test(line)) out.push(m[1]!)
    const r = /\b(?:rename|renameat2?|link|linkat|mkdir|mkdirat)\(.*"([^"]+)"[^"]*\) = 0/.exec(line)
    if (r) out.push(r[1]!)
  }
  return out
}

describe('ir case verify --archive', () => {
  it('a clean export passes, and nothing of the evidence is written to disk (strace)', async () => {
    const tmp = join(work, 'tmp')
    await mkdir(tmp)
    const traceFile = join(work, 'verify.strace')
    const r = await execa(
      'strace',
      [
        '-f',
        '-qq',
        '-e',
        'trace=open,openat,creat,rename,renameat,renameat2,link,linkat,mkdir,mkdirat',
        '-o',
        traceFile,
        'node',
        BIN,
        'case',
        'verify',
        '--archive',
        archive,
        '--allowed-signers',
        trusted,
        '--json',
      ],
      {env: {TMPDIR: tmp, FORCE_COLOR: '0'}, reject: false, stdin: 'ignore'},
    )
    expect(r.exitCode, r.stdout + r.stderr).toBe(0)
    const res = JSON.parse(r.stdout) as {ok: boolean; artifacts: Array<{path: string; status: string}>}
    expect(res.ok).toBe(true)
    expect(res.artifacts.map((a) => [a.path, a.status])).toEqual([
      ['evidence/web/random.bin', 'ok'],
      ['evidence/web/logs.txt', 'ok'],
    ])
    const written = writtenPaths(await readFile(traceFile, 'utf8')).filter((p) => !p.startsWith('/dev/'))
    // The trace does see writes: the signature and allowed_signers copies made for ssh-keygen.
    expect(
      written.some((p) => p.endsWith('-SHA256SUMS.sig')),
      written.join('\n'),
    ).toBe(true)
    for (const p of written) {
      expect(p.startsWith(`${tmp}/ir-verify-`), `written outside the private temp folder: ${p}`).toBe(true)
      expect(p, 'only seal records are copied').toMatch(
        /\/ir-verify-[^/]+(\/\d+-(SHA256SUMS|SHA256SUMS\.sig|SHA256SUMS\.tsr|allowed_signers))?$/,
      )
    }
    expect(await readdir(tmp)).toEqual([])
  })

  it('one byte changed in the archive: exit 6 naming the member', async () => {
    const bytes = await readFile(archive)
    const at = bytes.indexOf(random.subarray(300_000, 300_064))
    expect(at, 'the random evidence is stored verbatim in the archive').toBeGreaterThan(0)
    bytes[at + 10] = bytes[at + 10]! ^ 0x01
    const bad = join(work, 'bad.tar.gz')
    await writeFile(bad, bytes)
    const r = await runIr(['case', 'verify', '--archive', bad, '--allowed-signers', trusted, '--json'])
    expect(r.exitCode, r.stderr).toBe(6)
    const res = JSON.parse(r.stdout) as {
      ok: boolean
      problems: Array<{kind: string; path?: string; message: string}>
      artifacts: Array<{path: string; status: string}>
    }
    expect(res.ok).toBe(false)
    expect(res.artifacts.find((a) => a.path === 'evidence/web/random.bin')?.status).toBe('modified')
    expect(res.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({kind: 'artifact', path: 'evidence/web/random.bin'}),
        expect.objectContaining({kind: 'archive', message: expect.stringContaining('gzip CRC-32 does not match')}),
        expect.objectContaining({
          kind: 'seal',
          message: expect.stringContaining('evidence/web/random.bin changed after the seal'),
        }),
      ]),
    )
    const human = await runIr(['case', 'verify', '--archive', bad, '--allowed-signers', trusted])
    expect(human.exitCode).toBe(6)
    expect(human.stdout).toContain('evidence/web/random.bin was modified')
  })
})
