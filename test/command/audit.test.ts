import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import Audit from '../../src/commands/audit.js'
import {auditContainers} from '../../src/services/audit.js'
import {tempDir} from '../helpers/cli.js'
import {fakeEngines, runCommand} from '../helpers/command.js'
import {fakeContainer, FakeEngine} from '../helpers/fake-engine.js'

vi.mock('../../src/services/audit.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/services/audit.js')>()
  return {...real, auditContainers: vi.fn(real.auditContainers)}
})

const WEB = 'd'.repeat(64)
const DB = 'e1'.repeat(32)

interface Result {
  containers: Array<{name: string; findings: Array<{id: string; severity: string; cis?: string}>}>
  totals: Record<string, number>
  evidence?: string
  level: number
}

describe('ir audit: flags -> service options (fake engine, no Docker)', () => {
  let engine: FakeEngine
  let dir: string
  beforeEach(async () => {
    vi.mocked(auditContainers).mockClear()
    engine = new FakeEngine([
      fakeContainer({id: WEB, name: 'web-1', labels: {'com.docker.compose.project': 'shop'}}),
      fakeContainer({id: DB, name: 'db-1', labels: {'com.docker.compose.project': 'shop'}}),
    ])
    dir = await tempDir('ir-cmd-audit-')
  })
  afterEach(() => rm(dir, {recursive: true, force: true}))
  const run = (argv: string[]) => runCommand(Audit, argv, {engines: fakeEngines(engine), incidentsDir: dir})
  const options = () => vi.mocked(auditContainers).mock.calls[0]![0]

  it('passes targets, level, --only, --exclude, image age and concurrency; audits each named container', async () => {
    const r = await run([
      'web-1',
      'db-1',
      '--level',
      '1',
      '--only',
      '5, 4.1',
      '--exclude',
      'tmp-*',
      '--max-image-age',
      '30',
      '--concurrency',
      '3',
      '--json',
    ])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(auditContainers).toHaveBeenCalledTimes(1)
    expect(options()).toMatchObject({
      targets: ['web-1', 'db-1'],
      level: 1,
      only: ['5', '4.1'],
      exclude: ['tmp-*'],
      maxImageAgeDays: 30,
      concurrency: 3,
      all: false,
      daemon: false,
    })
    expect(options().kase).toBeUndefined()
    const json = r.json<Result>()
    expect(json.level).toBe(1)
    expect(json.containers.map((c) => c.name).sort()).toEqual(['db-1', 'web-1'])
    // --only 5,4.1 keeps only checks of CIS section 5 and check 4.1.
    const cis = json.containers.flatMap((c) => c.findings.map((f) => f.cis ?? ''))
    expect(cis.length).toBeGreaterThan(0)
    for (const id of cis) expect(id === '4.1' || id.startsWith('5.')).toBe(true)
  })

  it('usage errors exit 2 before the engine is asked: a mix of names and --all, nothing to audit, --level 3', async () => {
    for (const argv of [['web-1', '--all'], [], ['--all', '--level', '3'], ['--all', '--only', ' , ']]) {
      const r = await run(argv)
      expect(r.exitCode, argv.join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^Error|^ ›|Give|Nothing|--level|--only/)
    }
    expect(auditContainers).not.toHaveBeenCalled()
  })

  it('--fail-on low exits 9 when a finding is at or above it; the same audit without it exits 0', async () => {
    const plain = await run(['--project', 'shop', '--json'])
    expect(plain.exitCode).toBe(0)
    expect(options()).toMatchObject({project: 'shop'})
    const findings = plain.json<Result>().containers.flatMap((c) => c.findings)
    expect(findings.length).toBeGreaterThan(0)
    const failing = await run(['--project', 'shop', '--fail-on', 'low'])
    expect(failing.exitCode).toBe(9)
    expect(failing.stderr).toMatch(/--fail-on/)
  })

  it('--format sarif prints SARIF 2.1.0 with one result per finding; --case stores the result as evidence', async () => {
    const r = await run(['web-1', '--format', 'sarif', '--case', 'AUD-1'])
    expect(r.exitCode, r.stderr).toBe(0)
    const sarif = JSON.parse(r.stdout) as {version: string; runs: Array<{results: unknown[]}>}
    expect(sarif.version).toBe('2.1.0')
    const again = await run(['web-1', '--json'])
    const count = again.json<Result>().containers[0]!.findings.length
    expect(sarif.runs[0]!.results).toHaveLength(count)
    const stored = vi.mocked(auditContainers).mock.results[0]!.value as Promise<Result>
    const evidence = (await stored).evidence
    expect(evidence).toBeTruthy()
    const onDisk = JSON.parse(await readFile(join(dir, 'AUD-1', evidence!), 'utf8')) as Result
    expect(onDisk.containers.map((c) => c.name)).toEqual(['web-1'])
  })
})
