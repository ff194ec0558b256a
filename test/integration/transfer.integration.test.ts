import {readFile, rm, writeFile} from 'node:fs/promises'
import {hostname, userInfo} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
import {runIr, tempDir} from '../helpers/cli.js'

/**
 * `ir case transfer`: custody entries in state/custody.json and the audit chain, with the time's
 * offset and the SHA-256 of what was handed over (the seal's SHA256SUMS, or the export archive);
 * the report's chain-of-custody table; `ir case verify` (folder and archive) still passes after it,
 * and an edited custody record does not.
 */
const CASE = 'XFER-1'
let work: string
let root: string
let env: Record<string, string>
let trusted: string

interface Transfer {
  n: number
  from: string
  to: string
  reason: string
  at: string
  destination?: string
  sha256: string
  of: {kind: string; generation?: number; path: string}
  seq: number
}

beforeAll(async () => {
  work = await tempDir('ir-transfer-')
  root = join(work, 'incidents')
  env = {IR_INCIDENTS_DIR: root}
  const {kase} = await new CaseStore(root).open({id: CASE, title: 'Transfer'})
  await kase.addEvidence({name: 'web/logs.txt', type: 'logs', content: 'hello from web\n'})
  const key = join(work, 'id_ed25519')
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key])
  trusted = join(work, 'trusted_signers')
  await writeFile(trusted, `alice@example.org namespaces="ir-case" ${(await readFile(`${key}.pub`, 'utf8')).trim()}\n`)
  const s = await runIr(['case', 'seal', CASE, '--key', key, '--signer', 'alice@example.org'], {env})
  expect(s.exitCode, s.stderr).toBe(0)
})

afterAll(async () => {
  await rm(work, {recursive: true, force: true})
})

const sha256sum = async (file: string): Promise<string> => (await execa('sha256sum', [file])).stdout.split(/\s+/)[0]!

describe('ir case transfer', () => {
  it('records transfers with offset and hash, lists them in the report, and verify still passes', async () => {
    const dir = join(root, CASE)
    // Without --archive: the newest seal's SHA256SUMS; the time in the zone of TZ, with its offset.
    const a = await runIr(
      ['case', 'transfer', CASE, '--to', 'Bob Examiner, Example CERT', '--reason', 'forensic analysis', '--json'],
      {env: {...env, TZ: 'Asia/Kolkata'}},
    )
    expect(a.exitCode, a.stderr).toBe(0)
    const first = JSON.parse(a.stdout) as Transfer
    expect(first).toMatchObject({
      n: 1,
      from: `${userInfo().username}@${hostname()}`,
      to: 'Bob Examiner, Example CERT',
      reason: 'forensic analysis',
      sha256: await sha256sum(join(dir, 'seals/0001/SHA256SUMS')),
      of: {kind: 'seal', generation: 1, path: 'seals/0001/SHA256SUMS'},
    })
    expect(first.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+05:30$/)
    expect(Math.abs(Date.parse(first.at) - Date.now())).toBeLessThan(60_000)

    // With --archive: the export's SHA-256; --from and --destination kept.
    const out = join(work, `${CASE}.tar.gz`)
    const e = await runIr(['case', 'export', CASE, '--output', out], {env})
    expect(e.exitCode, e.stderr).toBe(0)
    const b = await runIr(
      [
        'case',
        'transfer',
        CASE,
        '--from',
        'Bob Examiner, Example CERT',
        '--to',
        'Carol Keeper, Example Court',
        '--reason',
        'court exhibit',
        '--destination',
        'evidence locker 3',
        '--archive',
        out,
      ],
      {env: {...env, TZ: 'America/New_York'}},
    )
    expect(b.exitCode, b.stderr).toBe(0)
    expect(b.stdout).toContain('custody transfer #2 recorded')
    expect(b.stdout).toMatch(/at: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[45]:00/)
    const archiveSum = await sha256sum(out)

    // A file that is not an export of this case is refused, and nothing is recorded.
    const other = join(work, 'other.tar.gz')
    await writeFile(other, 'not an export')
    const refused = await runIr(['case', 'transfer', CASE, '--to', 'X, Y', '--reason', 'r', '--archive', other], {env})
    expect(refused.exitCode).toBe(11)
    expect(refused.stderr).toMatch(/is not an export of case XFER-1/)

    const doc = JSON.parse(await readFile(join(dir, 'state/custody.json'), 'utf8')) as {transfers: Transfer[]}
    expect(doc.transfers.map((t) => [t.n, t.from, t.to, t.sha256, t.destination])).toEqual([
      [1, first.from, 'Bob Examiner, Example CERT', first.sha256, undefined],
      [2, 'Bob Examiner, Example CERT', 'Carol Keeper, Example Court', archiveSum, 'evidence locker 3'],
    ])
    const audit = (await readFile(join(dir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {action: string; details: Transfer})
      .filter((l) => l.action === 'case.transfer')
    expect(audit.map((l) => [l.details.to, l.details.at, l.details.sha256])).toEqual(
      doc.transfers.map((t) => [t.to, t.at, t.sha256]),
    )

    // verify: the folder and a second export still pass (custody records after the seal are allowed).
    const v = await runIr(['case', 'verify', CASE, '--allowed-signers', trusted, '--json'], {env})
    expect(v.exitCode, v.stdout).toBe(0)
    const vj = JSON.parse(v.stdout) as {seal: {afterSeal: Array<{action: string}>; addedAfterSeal: string[]}}
    expect(vj.seal.afterSeal.map((l) => l.action)).toEqual([
      'case.state',
      'case.transfer',
      'case.export',
      'case.state',
      'case.transfer',
    ])
    expect(vj.seal.addedAfterSeal).toEqual(['state/custody.json'])
    const out2 = join(work, 'second.tar.gz')
    expect((await runIr(['case', 'export', CASE, '--output', out2], {env})).exitCode).toBe(0)
    const va = await runIr(['case', 'verify', '--archive', out2, '--allowed-signers', trusted], {env})
    expect(va.exitCode, va.stdout).toBe(0)

    // The report's chain-of-custody table, Markdown and HTML.
    const outDir = join(work, 'report')
    const r = await runIr(['report', '--case', CASE, '--format', 'md,html,json', '-o', outDir, '--no-input'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const md = await readFile(join(outDir, `${CASE}-report.md`), 'utf8')
    expect(md).toContain('| When (UTC) | Event | By / from | To | What | Reason | SHA-256 / key |')
    const rows = md.split('\n').filter((l) => / \| transferred \| /.test(l))
    expect(rows).toHaveLength(2)
    expect(rows[0]).toContain(`(${first.at}) | transferred | ${first.from.replaceAll('_', '\\_')}`)
    expect(rows[0]).toMatch(/\| Bob Examiner, Example CERT \| seal generation 1 \(SHA256SUMS\) \| forensic analysis \|/)
    expect(rows[0]).toContain(`\`${first.sha256}\``)
    expect(rows[1]).toMatch(
      /\| transferred \| Bob Examiner, Example CERT \| Carol Keeper, Example Court \| archive .*XFER-1\.tar\.gz → evidence locker 3 \| court exhibit \|/,
    )
    expect(rows[1]).toContain(`\`${archiveSum}\``)
    const html = await readFile(join(outDir, `${CASE}-report.html`), 'utf8')
    const table = html.slice(html.indexOf('<h3>Chain of custody</h3>'))
    expect(table).toContain('Carol Keeper, Example Court')
    expect(table).toContain('court exhibit')
    expect(table).toContain(first.at)
    expect(table).toContain(archiveSum)
    const json = JSON.parse(await readFile(join(outDir, `${CASE}-report.json`), 'utf8')) as {
      custody: Array<{event: string; to?: string; sha256?: string}>
    }
    expect(json.custody.map((c) => c.event)).toEqual(['sealed', 'transferred', 'exported', 'transferred', 'exported'])

    // The custody record is append-only: an entry edited outside ir fails verify.
    const edited = doc.transfers.map((t) => (t.n === 1 ? {...t, to: 'Mallory, Nowhere'} : t))
    await writeFile(join(dir, 'state/custody.json'), `${JSON.stringify({...doc, transfers: edited}, null, 2)}\n`)
    const bad = await runIr(['case', 'verify', CASE, '--allowed-signers', trusted, '--json'], {env})
    expect(bad.exitCode).toBe(6)
    expect(bad.stdout).toContain('state/custody.json was edited')
  })

  it('refuses an unsealed case, an empty --to, and shows examples in --help', async () => {
    const r2 = join(work, 'unsealed')
    await new CaseStore(r2).open({id: 'XFER-2', title: 'Unsealed'})
    const u = await runIr(['case', 'transfer', 'XFER-2', '--to', 'Bob, CERT', '--reason', 'analysis'], {
      env: {IR_INCIDENTS_DIR: r2},
    })
    expect(u.exitCode).toBe(11)
    expect(u.stderr).toMatch(/XFER-2 is not sealed/)
    const empty = await runIr(['case', 'transfer', CASE, '--to', ' ', '--reason', 'analysis'], {env})
    expect(empty.exitCode).toBe(2)
    expect(empty.stderr).toMatch(/--to is empty/)
    // Under vitest oclif would load the help class from src/ (ts); the installed ir runs in production mode.
    const help = await runIr(['case', 'transfer', '--help'], {env: {NODE_ENV: 'production'}})
    expect(help.stdout, help.stderr + help.exitCode).toContain('--destination')
    expect(help.stdout).toMatch(/EXAMPLES[\s\S]*ir case transfer IR-/)
  })
})
