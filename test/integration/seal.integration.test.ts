import {cp, mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {beforeAll, describe, expect, it} from 'vitest'

import {GENESIS} from '../../src/case/audit-log.js'
import {CaseStore} from '../../src/case/case-store.js'
import {sha256} from '../../src/util/fs.js'
import {runIr, tempDir} from '../helpers/cli.js'

/**
 * `ir case seal` with a real ssh-keygen: a throwaway ed25519 key, the examiner's own allowed_signers,
 * `sha256sum -c` and `ssh-keygen -Y verify` as the receiver would run them, then tampers made after
 * the seal, each of which `ir case verify` must name as a seal problem (exit 6).
 */
let work: string
let sealedRoot: string
let key: string
let trusted: string
const CASE = 'SEAL-1'

interface VerifyJson {
  ok: boolean
  problems: Array<{kind: string; message: string}>
  seal?: {
    generation: number
    signer: string
    signature: {ok: boolean; trusted: boolean; principal?: string}
    afterSeal: Array<{action: string}>
    addedAfterSeal: string[]
    changedAfterSeal: string[]
  }
}

async function makeCase(root: string): Promise<void> {
  const store = new CaseStore(root)
  const {kase} = await store.open({id: CASE, title: 'Seal test'})
  await kase.addEvidence({name: 'web/logs.txt', type: 'logs', content: 'hello from web\nline two\n'})
  await kase.addJsonEvidence({name: 'web/inspect.json', type: 'inspect', data: {Id: 'abc', Name: '/web'}})
  await kase.updateState<{containers: Record<string, unknown>}>('containment.json', {containers: {}}, () => ({
    containers: {web: {status: 'released'}},
  }))
}

async function copyCase(name: string): Promise<{root: string; dir: string; env: Record<string, string>}> {
  const root = join(work, name)
  await mkdir(root)
  await cp(join(sealedRoot, CASE), join(root, CASE), {recursive: true})
  return {root, dir: join(root, CASE), env: {IR_INCIDENTS_DIR: root}}
}

async function verify(
  env: Record<string, string>,
  as = trusted,
): Promise<{exitCode: number; json: VerifyJson; stdout: string}> {
  const r = await runIr(['case', 'verify', CASE, '--allowed-signers', as, '--json'], {env})
  return {exitCode: r.exitCode, json: JSON.parse(r.stdout) as VerifyJson, stdout: r.stdout}
}

beforeAll(async () => {
  work = await tempDir('ir-seal-')
  sealedRoot = join(work, 'sealed')
  await makeCase(sealedRoot)
  key = join(work, 'id_ed25519')
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'examiner-key', '-f', key])
  const pub = (await readFile(`${key}.pub`, 'utf8')).trim()
  trusted = join(work, 'trusted_signers')
  await writeFile(trusted, `alice@example.org namespaces="ir-case" ${pub}\n`)
  const r = await runIr(['case', 'seal', CASE, '--key', key, '--signer', 'alice@example.org', '--json'], {
    env: {IR_INCIDENTS_DIR: sealedRoot},
  })
  expect(r.exitCode, r.stderr).toBe(0)
})

describe('ir case seal', () => {
  it('writes sums that sha256sum -c accepts and a signature that ssh-keygen -Y verify accepts', async () => {
    const dir = join(sealedRoot, CASE)
    const sums = await readFile(join(dir, 'seals/0001/SHA256SUMS'), 'utf8')
    for (const f of [
      'audit.log',
      'case.json',
      'manifest.json',
      'state/containment.json',
      'evidence/web/logs.txt',
      'evidence/web/inspect.json',
      'seals/0001/seal.json',
    ]) {
      expect(sums).toMatch(new RegExp(`^[0-9a-f]{64}  ${f.replaceAll('.', '\\.')}$`, 'm'))
    }
    expect(sums).not.toContain('.ir-reserve')
    const c = await execa('sha256sum', ['-c', '--strict', 'seals/0001/SHA256SUMS'], {cwd: dir, reject: false})
    expect(c.exitCode, c.stderr).toBe(0)
    expect(c.stdout.split('\n').filter((l) => l.endsWith(': OK'))).toHaveLength(sums.trim().split('\n').length)
    const v = await execa(
      'ssh-keygen',
      [
        '-Y',
        'verify',
        '-f',
        trusted,
        '-I',
        'alice@example.org',
        '-n',
        'ir-case',
        '-s',
        join(dir, 'seals/0001/SHA256SUMS.sig'),
      ],
      {input: sums, reject: false},
    )
    expect(v.exitCode, v.stderr).toBe(0)
    expect(v.stdout).toContain('Good "ir-case" signature for alice@example.org')
    const seal = JSON.parse(await readFile(join(dir, 'seals/0001/seal.json'), 'utf8')) as {
      signer: string
      auditHead: {seq: number}
      key: {fingerprint: string}
    }
    const fp = (await execa('ssh-keygen', ['-l', '-f', `${key}.pub`])).stdout
    expect(fp).toContain(seal.key.fingerprint)
    const log = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n')
    const last = JSON.parse(log.at(-1)!) as {action: string; seq: number}
    expect(last.action).toBe('case.seal')
    expect(seal.auditHead.seq).toBe(last.seq)
  })

  it('ir case verify checks the seal: valid against the trusted signers, invalid against another key', async () => {
    const ok = await verify({IR_INCIDENTS_DIR: sealedRoot})
    expect(ok.exitCode, ok.stdout).toBe(0)
    expect(ok.json.seal).toMatchObject({
      generation: 1,
      signer: 'alice@example.org',
      signature: {ok: true, trusted: true, principal: 'alice@example.org'},
      afterSeal: [],
    })
    const human = await runIr(['case', 'verify', CASE, '--allowed-signers', trusted], {
      env: {IR_INCIDENTS_DIR: sealedRoot},
    })
    expect(human.stdout).toMatch(/Seal: generation 1 .* sealed by alice@example.org/)
    const other = join(work, 'other')
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other])
    const otherSigners = join(work, 'other_signers')
    await writeFile(
      otherSigners,
      `alice@example.org namespaces="ir-case" ${(await readFile(`${other}.pub`, 'utf8')).trim()}\n`,
    )
    const bad = await verify({IR_INCIDENTS_DIR: sealedRoot}, otherSigners)
    expect(bad.exitCode).toBe(6)
    expect(bad.json.problems.some((p) => p.kind === 'seal' && /signature/.test(p.message))).toBe(true)
  })

  it('refuses to seal a case that does not verify (exit 6) and leaves no seal', async () => {
    const root = join(work, 'unsealed')
    await makeCase(root)
    await writeFile(join(root, CASE, 'evidence/web/logs.txt'), 'hello from web\nline 2!\n')
    const r = await runIr(['case', 'seal', CASE, '--key', key], {env: {IR_INCIDENTS_DIR: root}})
    expect(r.exitCode).toBe(6)
    expect(r.stderr).toMatch(/does not verify, so it is not sealed/)
    await expect(stat(join(root, CASE, 'seals'))).rejects.toThrow()
  })

  it('an evidence byte flipped after the seal: exit 6 naming the seal', async () => {
    const {dir, env} = await copyCase('flip')
    const p = join(dir, 'evidence/web/logs.txt')
    const b = await readFile(p)
    b[0] = b[0]! ^ 1
    await writeFile(p, b)
    const r = await verify(env)
    expect(r.exitCode).toBe(6)
    expect(
      r.json.problems.some(
        (x) => x.kind === 'seal' && x.message.includes('evidence/web/logs.txt changed after the seal'),
      ),
    ).toBe(true)
  })

  it('the audit log rewritten and re-chained with case.json fixed passes the hash checks but not the seal', async () => {
    const {dir, env} = await copyCase('rechain')
    const lines = (await readFile(join(dir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    lines[0]!.msg = 'Case opened (rewritten)'
    const out: string[] = []
    for (const l of lines) {
      l.prev = out.length === 0 ? GENESIS : sha256(out.at(-1)!)
      out.push(JSON.stringify(l))
    }
    await writeFile(join(dir, 'audit.log'), `${out.join('\n')}\n`)
    const meta = JSON.parse(await readFile(join(dir, 'case.json'), 'utf8')) as Record<string, unknown>
    meta.auditHead = {seq: lines.length, hash: sha256(out.at(-1)!)}
    await writeFile(join(dir, 'case.json'), `${JSON.stringify(meta, null, 2)}\n`)
    const r = await verify(env)
    expect(r.exitCode).toBe(6)
    // Only the seal can tell: the chain and every hash it names are consistent.
    expect(r.json.problems.length).toBeGreaterThan(0)
    expect(
      r.json.problems.every((x) => x.kind === 'seal'),
      JSON.stringify(r.json.problems),
    ).toBe(true)
    expect(
      r.json.problems.some((x) => /audit\.log: the \d+ lines sealed in generation 1 were rewritten/.test(x.message)),
    ).toBe(true)
  })

  it('a file added after the seal (outside evidence/ too): exit 6', async () => {
    const {dir, env} = await copyCase('added')
    await writeFile(join(dir, 'notes.txt'), 'planted\n')
    const r = await verify(env)
    expect(r.exitCode).toBe(6)
    expect(r.json.problems).toEqual([
      expect.objectContaining({kind: 'seal', message: expect.stringContaining('notes.txt was added after the seal')}),
    ])
  })

  it('work recorded after the seal is listed, and a second seal makes generation 2 keeping the first', async () => {
    const {root, dir, env} = await copyCase('more')
    const {kase} = await new CaseStore(root).open({id: CASE, create: false})
    await kase.addEvidence({name: 'web/late.txt', type: 'logs', content: 'later\n'})
    const r = await verify(env)
    expect(r.exitCode, r.stdout).toBe(0)
    expect(r.json.seal!.afterSeal.map((l) => l.action)).toContain('evidence.add')
    expect(r.json.seal!.addedAfterSeal).toEqual(['evidence/web/late.txt'])
    expect(r.json.seal!.changedAfterSeal).toEqual(expect.arrayContaining(['case.json', 'manifest.json']))
    const s = await runIr(['case', 'seal', CASE, '--key', key, '--signer', 'alice@example.org'], {env})
    expect(s.exitCode, s.stderr).toBe(0)
    const sums2 = await readFile(join(dir, 'seals/0002/SHA256SUMS'), 'utf8')
    expect(sums2).toContain('  seals/0001/SHA256SUMS.sig\n')
    expect(sums2).toContain('  evidence/web/late.txt\n')
    for (const g of ['0001', '0002']) await stat(join(dir, 'seals', g, 'SHA256SUMS.sig'))
    const c = await execa('sha256sum', ['-c', '--strict', 'seals/0002/SHA256SUMS'], {cwd: dir, reject: false})
    expect(c.exitCode, c.stdout + c.stderr).toBe(0)
    const v = await verify(env)
    expect(v.exitCode, v.stdout).toBe(0)
    expect(v.json.seal).toMatchObject({generation: 2, afterSeal: []})
  })
})

describe('ir case seal --tsa (RFC 3161)', () => {
  it('timestamps SHA256SUMS at a local authority; openssl ts -verify and ir case verify --tsa-ca accept it, another CA does not', async () => {
    const {startLocalTsa} = await import('../helpers/tsa.js')
    const tsa = await startLocalTsa()
    try {
      const root = join(work, 'tsa')
      await makeCase(root)
      const env = {IR_INCIDENTS_DIR: root}
      const r = await runIr(
        [
          'case',
          'seal',
          CASE,
          '--key',
          key,
          '--signer',
          'alice@example.org',
          '--tsa',
          tsa.url,
          '--tsa-ca',
          tsa.caFile,
          '--json',
        ],
        {env},
      )
      expect(r.exitCode, r.stderr).toBe(0)
      expect(tsa.requests).toBe(1)
      const gen = join(root, CASE, 'seals/0001')
      const v = await execa(
        'openssl',
        ['ts', '-verify', '-data', join(gen, 'SHA256SUMS'), '-in', join(gen, 'SHA256SUMS.tsr'), '-CAfile', tsa.caFile],
        {reject: false},
      )
      expect(v.exitCode, v.stderr).toBe(0)
      expect(v.stdout).toContain('Verification: OK')
      const ok = await runIr(['case', 'verify', CASE, '--allowed-signers', trusted, '--tsa-ca', tsa.caFile, '--json'], {
        env,
      })
      expect(ok.exitCode, ok.stdout).toBe(0)
      expect(
        (JSON.parse(ok.stdout) as {seal: {timestamp: {checked: boolean; ok: boolean; time?: string}}}).seal.timestamp,
      ).toMatchObject({checked: true, ok: true, time: expect.stringMatching(/GMT$/)})
      // Checked against a CA that did not issue the TSA certificate: refused.
      const other = await startLocalTsa()
      const bad = await runIr(
        ['case', 'verify', CASE, '--allowed-signers', trusted, '--tsa-ca', other.caFile, '--json'],
        {env},
      )
      await other.close()
      expect(bad.exitCode).toBe(6)
      expect(bad.stdout).toMatch(/RFC 3161 timestamp .* does not verify/)
      // An unreachable authority: the signed seal is kept, the command fails with one clear line.
      const late = await runIr(['case', 'seal', CASE, '--key', key, '--tsa', 'http://127.0.0.1:9/tsr'], {env})
      expect(late.exitCode).toBe(1)
      expect(late.stderr).toMatch(/is sealed \(generation 2, signed\), but the timestamp failed/)
      await stat(join(root, CASE, 'seals/0002/SHA256SUMS.sig'))
    } finally {
      await tsa.close()
    }
  })
})

describe('ir case export', () => {
  it('writes one .tar.gz whose SHA-256 it prints; extracted elsewhere, sha256sum -c and ssh-keygen -Y verify pass; ir case verify --archive accepts it and refuses one changed byte', async () => {
    const {root, env} = await copyCase('export')
    const out = join(root, 'handover', `${CASE}.tar.gz`)
    const unsealed = join(work, 'never-sealed')
    await makeCase(unsealed)
    const refused = await runIr(['case', 'export', CASE, '--output', join(work, 'x.tar.gz')], {
      env: {IR_INCIDENTS_DIR: unsealed},
    })
    expect(refused.exitCode).toBe(11)
    expect(refused.stderr).toMatch(/is not sealed/)

    const r = await runIr(['case', 'export', CASE, '--output', out, '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout) as {sha256: string; size: number; files: number}
    const sum = (await execa('sha256sum', [out])).stdout.split(/\s+/)[0]
    expect(sum).toBe(res.sha256)
    expect((await stat(out)).size).toBe(res.size)
    const list = (await execa('tar', ['-tzf', out])).stdout.split('\n')
    expect(list).toEqual(
      expect.arrayContaining([
        `${CASE}/audit.log`,
        `${CASE}/case.json`,
        `${CASE}/evidence/web/logs.txt`,
        `${CASE}/seals/0001/SHA256SUMS`,
        `${CASE}/seals/0001/SHA256SUMS.sig`,
      ]),
    )
    expect(list.some((l) => l.includes('.ir-lock') || l.includes('.ir-reserve'))).toBe(false)
    expect(list).toHaveLength(res.files)
    // Never replaced.
    const again = await runIr(['case', 'export', CASE, '--output', out], {env})
    expect(again.exitCode).toBe(2)

    const elsewhere = await tempDir('ir-receiver-')
    await execa('tar', ['-xzf', out, '-C', elsewhere])
    const dir = join(elsewhere, CASE)
    const c = await execa('sha256sum', ['-c', '--strict', 'seals/0001/SHA256SUMS'], {cwd: dir, reject: false})
    expect(c.exitCode, c.stdout + c.stderr).toBe(0)
    const sig = await execa(
      'ssh-keygen',
      ['-Y', 'verify', '-f', trusted, '-I', 'alice@example.org', '-n', 'ir-case', '-s', 'seals/0001/SHA256SUMS.sig'],
      {cwd: dir, inputFile: join(dir, 'seals/0001/SHA256SUMS'), reject: false},
    )
    expect(sig.exitCode, sig.stderr).toBe(0)

    const ok = await runIr(['case', 'verify', '--archive', out, '--allowed-signers', trusted, '--json'])
    expect(ok.exitCode, ok.stdout).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      archive: {sha256: res.sha256},
      seal: {generation: 1, signature: {ok: true}},
    })

    // The export is in the chain after the seal; a second export is still allowed (custody lines only).
    const v = await verify(env)
    expect(v.exitCode, v.stdout).toBe(0)
    expect(v.json.seal!.afterSeal.map((l) => l.action)).toEqual(['case.export'])

    for (const at of [Math.floor(res.size / 2), res.size - 12]) {
      const bad = join(work, `bad-${at}.tar.gz`)
      const bytes = await readFile(out)
      bytes[at] = bytes[at]! ^ 0xff
      await writeFile(bad, bytes)
      const b = await runIr(['case', 'verify', '--archive', bad, '--allowed-signers', trusted])
      expect(b.exitCode, b.stdout + b.stderr).toBe(6)
    }
  })

  it('a member changed inside a re-packed archive is found by the seal', async () => {
    const {root, env} = await copyCase('repack')
    const out = join(root, 'a.tar.gz')
    expect((await runIr(['case', 'export', CASE, '--output', out], {env})).exitCode).toBe(0)
    const x = await tempDir('ir-repack-')
    await execa('tar', ['-xzf', out, '-C', x])
    await writeFile(join(x, CASE, 'evidence/web/logs.txt'), 'hello from web\nline 2!\n')
    const re = join(x, 're.tar.gz')
    await execa('tar', ['-czf', re, '-C', x, CASE])
    const b = await runIr(['case', 'verify', '--archive', re, '--allowed-signers', trusted, '--json'])
    expect(b.exitCode).toBe(6)
    expect(b.stdout).toContain('evidence/web/logs.txt changed after the seal')
  })
})

describe('chain of custody in the report', () => {
  it('lists who sealed and who exported, when, with the archive SHA-256', async () => {
    const {root, env} = await copyCase('custody')
    const out = join(root, 'c.tar.gz')
    const e = await runIr(['case', 'export', CASE, '--output', out, '--json'], {env})
    expect(e.exitCode, e.stderr).toBe(0)
    const sum = (JSON.parse(e.stdout) as {sha256: string}).sha256
    const outDir = join(root, 'report')
    const r = await runIr(['report', '--case', CASE, '--format', 'md,json', '-o', outDir, '--no-input'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const md = await readFile(join(outDir, `${CASE}-report.md`), 'utf8')
    expect(md).toContain('### Chain of custody')
    expect(md).toMatch(
      /\| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d.* \| sealed \| alice@example\.org \(.+\) \| - \| seal generation 1 \| - \| SHA256:/,
    )
    expect(md).toContain(`| exported |`)
    expect(md).toContain(`\`${sum}\``)
    const json = JSON.parse(await readFile(join(outDir, `${CASE}-report.json`), 'utf8')) as {
      custody: Array<{event: string; sha256?: string}>
    }
    expect(json.custody.map((c) => c.event)).toEqual(['sealed', 'exported'])
    expect(json.custody[1]!.sha256).toBe(sum)
  })
})
