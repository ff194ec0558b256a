import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, runIr, tempDir} from '../helpers/cli.js'
import {TEST_IMAGE, TestDocker} from '../helpers/docker.js'

const t = new TestDocker('pb')
let env: Record<string, string>
let incidents: string
let dir: string
const proj = `pbp${t.runId}`
let compose: {file: string; pre: string[]}

async function composeRun(args: string[]): Promise<void> {
  await execa(compose.file, [...compose.pre, '-f', join(dir, 'compose.yml'), '-p', proj, ...args], {
    cwd: dir,
    timeout: 180_000,
  })
}

async function containers(): Promise<
  Array<{id: string; name: string; service: string; state: string; networks: string[]; imageId: string}>
> {
  const list = await t.docker.listContainers({all: true, filters: {label: [`com.docker.compose.project=${proj}`]}})
  return list
    .map((c) => ({
      id: c.Id,
      name: c.Names[0]!.replace(/^\//, ''),
      service: c.Labels['com.docker.compose.service']!,
      state: c.State,
      networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
      imageId: c.ImageID,
    }))
    .sort((a, b) => a.service.localeCompare(b.service))
}

async function auditLines(caseId: string): Promise<Array<{action: string; target?: string; outcome: string}>> {
  return (await readFile(join(incidents, caseId, 'audit.log'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
}

async function journal(
  caseId: string,
): Promise<{status: string; steps: Array<{id: string; state: string; attempts: number}>} | undefined> {
  try {
    return JSON.parse(await readFile(join(incidents, caseId, 'playbook-run.json'), 'utf8'))
  } catch {
    return undefined
  }
}

beforeAll(async () => {
  const v2 = await execa('docker', ['compose', 'version'], {reject: false})
  compose = v2.exitCode === 0 ? {file: 'docker', pre: ['compose']} : {file: 'docker-compose', pre: []}
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  dir = join(await tempDir('ir-pb-'), proj)
  await mkdir(join(dir, 'web'), {recursive: true})
  await writeFile(
    join(dir, 'web', 'Dockerfile'),
    `FROM ${TEST_IMAGE}\nRUN echo pb-${t.runId} > /www/index.html\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n`,
  )
  await writeFile(join(dir, '.env'), `API_KEY=pb-secret-${t.runId}-abcdefghijkl\n`)
  await writeFile(
    join(dir, 'compose.yml'),
    `version: "2.4"\nservices:\n  web:\n    build: ./web\n    environment:\n      API_KEY: \${API_KEY}\n    labels:\n      ir.test.run: "${t.runId}"\n    stop_grace_period: 1s\n  worker:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    labels:\n      ir.test.run: "${t.runId}"\n    stop_grace_period: 1s\n`,
  )
  await composeRun(['up', '-d', '--build'])
})

afterAll(async () => {
  await composeRun(['down', '--remove-orphans', '-t', '1']).catch(() => undefined)
  for (const sep of ['_', '-'])
    await t.docker
      .getImage(`${proj}${sep}web`)
      .remove({force: true})
      .catch(() => undefined)
  const evidence = await t.docker.listImages({filters: {label: ['ir.evidence=true']}})
  for (const img of evidence) if (String(img.Labels?.['ir.case'] ?? '').includes(t.runId)) t.trackImage(img.Id)
  await t.cleanup()
})

describe('ir playbook run / resume against the real engine', () => {
  it('breach.yml --dry-run prints the full plan and changes nothing', async () => {
    const before = await containers()
    const web = before.find((c) => c.service === 'web')!
    const r = await runIr(
      [
        'playbook',
        'run',
        'breach',
        '--input',
        `containers=${web.name}`,
        '--input',
        'offline=true',
        '--case',
        `PB-DRY-${t.runId}`,
        '--dry-run',
      ],
      {env, cwd: dir},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    for (const id of ['isolate', 'snapshot', 'collect', 'rotate', 'rebuild', 'audit', 'report'])
      expect(r.stdout).toMatch(new RegExp(`\\d+\\. ${id} — ${id}`))
    expect(r.stdout).toContain(`${web.name}: pause container ${web.name}`)
    expect(r.stdout).toMatch(/build --no-cache/)
    expect(r.stdout).toMatch(/API_KEY \(env-var\)/)
    expect(r.stdout).toMatch(/writes: .*evidence\/<container>\/image-<time>\.tar/)
    expect(r.stdout).toContain('Dry run: nothing was changed.')
    expect(await containers()).toEqual(before)
    for (const c of before) expect(c.state).toBe('running')
    // No evidence image was committed (other tests may add images to the shared engine meanwhile: count only ours).
    expect(await t.docker.listImages({filters: {label: [`ir.case=PB-DRY-${t.runId}`]}})).toEqual([])
    await expect(readFile(join(incidents, `PB-DRY-${t.runId}`, 'case.json'))).rejects.toThrow()
  })

  it('survives SIGKILL between the snapshot and the rebuild: resume completes, every step succeeds exactly once', async () => {
    const CASE = `PB-KILL-${t.runId}`
    const web = (await containers()).find((c) => c.service === 'web')!
    const child = execa(
      'node',
      [
        BIN,
        'playbook',
        'run',
        'breach',
        '--input',
        `containers=${web.name}`,
        '--input',
        'offline=true',
        '--case',
        CASE,
        '--yes',
      ],
      {cwd: dir, env: {...env, FORCE_COLOR: '0'}, reject: false, stdin: 'ignore'},
    )
    let killedAt: {status: string; steps: Array<{id: string; state: string}>} | undefined
    const deadline = Date.now() + 120_000
    while (Date.now() < deadline) {
      const j = await journal(CASE)
      if (j?.steps.find((s) => s.id === 'snapshot')?.state === 'succeeded') {
        child.kill('SIGKILL')
        killedAt = j
        break
      }
      if (child.exitCode !== null) break
      await new Promise((res) => setTimeout(res, 10))
    }
    await child
    expect(killedAt, 'the run was killed after the snapshot').toBeDefined()
    const afterKill = await journal(CASE)
    expect(afterKill!.steps.find((s) => s.id === 'rebuild')?.state).toBe('pending')
    expect(afterKill!.status).toBe('running')

    const r = await runIr(['playbook', 'resume', CASE, '--yes', '--json'], {env, cwd: dir, timeout: 170_000})
    expect(r.exitCode, r.stderr).toBe(0)
    const done = JSON.parse(r.stdout)
    expect(done.status).toBe('succeeded')
    expect(done.steps.every((s: {state: string}) => s.state === 'succeeded')).toBe(true)

    const audit = await auditLines(CASE)
    const successes = audit.filter((e) => e.action === 'playbook.step' && e.outcome === 'success').map((e) => e.target!)
    expect(successes.sort()).toEqual(done.steps.map((s: {id: string}) => s.id).sort())
    expect(audit.filter((e) => e.action === 'snapshot' && e.outcome === 'success')).toHaveLength(1)
    expect(audit.filter((e) => e.action === 'rebuild' && e.outcome === 'success')).toHaveLength(1)
    expect(audit.some((e) => e.action === 'playbook.resume')).toBe(true)
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout).toBe(0)
    const after = await containers()
    expect(after.find((c) => c.service === 'web')!.imageId).not.toBe(web.imageId)
    for (const c of after) expect(c.state).toBe('running')
  }, 400_000)

  it('a failed evidence step stops the run before the destructive step that requires it, naming the step', async () => {
    const CASE = `PB-FAIL-${t.runId}`
    const keep = await t.run('keep', {cmd: ['sleep', '3600']})
    const gone = await t.run('gone', {cmd: ['sleep', '3600']})
    await t.docker.getContainer(gone.id).remove({force: true})
    const book = join(dir, 'evidence-then-release.yml')
    await writeFile(
      book,
      `name: evidence-then-release\ninputs:\n  contain: {type: containers, required: true}\n  evidence: {type: containers, required: true}\nsteps:\n  - id: isolate\n    action: isolate\n    with: {containers: "\${{ inputs.contain }}"}\n  - id: snapshot\n    action: snapshot\n    requires: [isolate]\n    with: {containers: "\${{ inputs.evidence }}", export: false}\n  - id: release\n    action: release\n    requires: [snapshot]\n    with: {containers: "\${{ inputs.contain }}"}\n`,
    )
    const r = await runIr(
      [
        'playbook',
        'run',
        book,
        '--input',
        `contain=${keep.name}`,
        '--input',
        `evidence=${gone.name}`,
        '--case',
        CASE,
        '--yes',
        '--json',
      ],
      {env, cwd: dir},
    )
    expect(r.exitCode).toBe(4)
    const res = JSON.parse(r.stdout)
    expect(res.status).toBe('failed')
    expect(res.steps.map((s: {id: string; state: string}) => [s.id, s.state])).toEqual([
      ['isolate', 'succeeded'],
      ['snapshot', 'failed'],
      ['release', 'pending'],
    ])
    expect(r.stderr).toMatch(new RegExp(`✗ snapshot: snapshot failed for ${gone.name}`))
    expect((await auditLines(CASE)).some((e) => e.action === 'release')).toBe(false)
    // The contained container stays contained.
    expect((await t.inspect(keep.id)).State.Status).toBe('paused')
  })

  it('rejects malformed playbooks with line and column', async () => {
    const bad = join(dir, 'bad.yml')
    await writeFile(bad, 'name: bad\nsteps:\n  - id: a\n    action: shell\n    with: {cmd: "rm -rf /"}\n')
    const r = await runIr(['playbook', 'validate', bad], {env})
    expect(r.exitCode).toBe(2)
    expect(r.stdout).toMatch(/bad\.yml:4:13: steps\.0\.action: unknown action/)
    const run = await runIr(['playbook', 'run', bad, '--dry-run'], {env})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/bad\.yml:4:13/)
    const missing = await runIr(['playbook', 'run', 'contain', '--dry-run'], {env})
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toMatch(/contain\.yml:\d+:\d+: input "containers" is required/)
  })
})
