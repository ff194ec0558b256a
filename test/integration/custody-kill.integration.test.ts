import {readFile, stat} from 'node:fs/promises'
import {join, relative} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {allFiles, BIN, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

/**
 * SIGKILL at five points of a snapshot and a collect (the `contain` playbook runs both): nothing may
 * sit under a final name unless the manifest holds it and it verifies; the next command reports the
 * partials; `ir playbook resume` finishes with every step done once.
 */
const t = new TestDocker('kill')
let incidents: string
let env: Record<string, string>
let big: {id: string; name: string}

beforeAll(async () => {
  incidents = await tempDir('ir-kill-')
  env = {IR_INCIDENTS_DIR: incidents}
  // 150 MB in the container's filesystem (image and export take seconds) and 40 MB of logs.
  big = await t.run('big', {
    cmd: [
      'sh',
      '-c',
      'dd if=/dev/urandom of=/blob bs=1048576 count=150 2>/dev/null; dd if=/dev/urandom bs=1048576 count=30 2>/dev/null | od -An -tx1 | head -c 40000000; touch /ready; exec sleep 3600',
    ],
  })
  for (let i = 0; i < 240; i++) {
    if ((await execa('docker', ['exec', big.name, 'test', '-f', '/ready'], {reject: false})).exitCode === 0) return
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error('the test container did not write its data')
}, 240_000)

afterAll(async () => {
  const evidence = await t.docker.listImages({filters: {label: ['ir.evidence=true']}})
  for (const i of evidence) if (String(i.Labels?.['ir.case'] ?? '').includes(t.runId)) t.trackImage(i.Id)
  await t.cleanup()
})

type Point = {name: string; reached: (caseDir: string) => Promise<boolean>}
const hasFile =
  (pred: (rel: string, size: number) => boolean) =>
  async (caseDir: string): Promise<boolean> => {
    for (const f of await allFiles(join(caseDir, 'evidence'))) {
      const size = await stat(f).then(
        (s) => s.size,
        () => 0,
      )
      if (pred(relative(caseDir, f), size)) return true
    }
    return false
  }
const auditHas =
  (re: RegExp) =>
  async (caseDir: string): Promise<boolean> =>
    re.test(await readFile(join(caseDir, 'audit.log'), 'utf8').catch(() => ''))

const POINTS: Point[] = [
  {
    name: 'while the image tar streams',
    reached: hasFile((p, size) => /image-[^/]*\.tar\.partial$/.test(p) && size > 1_000_000),
  },
  {
    name: 'while the filesystem export streams',
    reached: hasFile((p, size) => /export-[^/]*\.tar\.partial$/.test(p) && size > 1_000_000),
  },
  {
    name: 'right after the image tar was recorded',
    reached: auditHas(/"action":"evidence.add"[^\n]*image-[^\n]*\.tar"/),
  },
  {
    name: 'while the collect stages the logs',
    reached: hasFile((p, size) => /\.staging\/.*stdout\.log\.partial$/.test(p) && size > 100_000),
  },
  {
    name: 'while the collect archive is written',
    reached: hasFile((p, size) => /collect-[^/]*\.tar\.gz\.partial$/.test(p) && size > 0),
  },
]

describe('SIGKILL during snapshot and collect', () => {
  for (const [i, point] of POINTS.entries()) {
    it(`killed ${point.name}: only partials or verified artifacts, the next command reports, resume completes once`, async () => {
      const id = `KILL-${t.runId}-${i}`
      const caseDir = join(incidents, id)
      const child = execa(
        'node',
        [BIN, 'playbook', 'run', 'contain', '--input', `containers=${big.name}`, '--case', id, '--yes'],
        {env: {...env, FORCE_COLOR: '0'}, reject: false, stdin: 'ignore'},
      )
      let killed = false
      const deadline = Date.now() + 240_000
      while (Date.now() < deadline && child.exitCode === null) {
        if (await point.reached(caseDir)) {
          child.kill('SIGKILL')
          killed = true
          break
        }
        await new Promise((r) => setTimeout(r, 10))
      }
      await child
      expect(killed, `the run reached "${point.name}" and was killed`).toBe(true)

      // No file under a final name unless the manifest holds it (the commit may have been cut short
      // after the chain recorded it: then the next command completes it).
      const manifest = JSON.parse(await readFile(join(caseDir, 'manifest.json'), 'utf8')) as {
        artifacts: Array<{path: string}>
      }
      const listed = new Set(manifest.artifacts.map((a) => a.path))
      const finals = (await allFiles(join(caseDir, 'evidence')))
        .map((f) => relative(caseDir, f))
        .filter((f) => !f.endsWith('.partial'))
      for (const f of finals) expect(listed.has(f), `${f} sits under a final name without a manifest entry`).toBe(true)

      // The next command on the case reports what was left.
      const next = await runIr(['case', 'event', id, '-m', 'after the kill'], {env, timeout: 120_000})
      expect(next.exitCode, next.stderr).toBe(0)
      const partialsLeft = (await allFiles(join(caseDir, 'evidence'))).filter((f) => f.endsWith('.partial'))
      if (partialsLeft.length > 0) expect(next.stderr).toMatch(/incomplete transfer\(s\) kept as \.partial/)
      const audit = (await readFile(join(caseDir, 'audit.log'), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l))
      for (const p of partialsLeft)
        expect(audit.some((l) => l.action === 'evidence.partial' && l.details.path === relative(caseDir, p))).toBe(true)
      const v1 = await runIr(['case', 'verify', id, '--json'], {env})
      expect(v1.exitCode, v1.stdout).toBe(0)

      // Resume finishes the run; each step succeeds exactly once.
      const r = await runIr(['playbook', 'resume', id, '--yes', '--json'], {env, timeout: 300_000})
      expect(r.exitCode, r.stderr).toBe(0)
      const done = JSON.parse(r.stdout)
      expect(done.status).toBe('succeeded')
      const lines = (await readFile(join(caseDir, 'audit.log'), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l))
      const successes = lines
        .filter((l) => l.action === 'playbook.step' && l.outcome === 'success')
        .map((l) => l.target)
      expect(successes.sort()).toEqual(done.steps.map((s: {id: string}) => s.id).sort())
      const v2 = await runIr(['case', 'verify', id, '--json'], {env})
      expect(v2.exitCode, v2.stdout).toBe(0)
      const result = JSON.parse(v2.stdout)
      expect(result.artifacts.every((a: {status: string}) => a.status === 'ok')).toBe(true)
      expect(result.artifacts.some((a: {path: string}) => /image-.*\.tar$/.test(a.path))).toBe(true)
      expect(result.artifacts.some((a: {path: string}) => /collect-.*\.tar\.gz$/.test(a.path))).toBe(true)

      // Leave the container running for the next point.
      expect((await runIr(['release', big.name, '--case', id, '--yes'], {env})).exitCode).toBe(0)
    }, 600_000)
  }
})
