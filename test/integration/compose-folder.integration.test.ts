import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

/**
 * `ir rotate` and `ir rebuild` run outside the compose folder use the folder compose recorded on the
 * container (com.docker.compose.project.working_dir and config_files), say so on stderr, and name it
 * in the JSON result; --project-directory still wins.
 */
const t = new TestDocker('cfold')
const NAME = `irfold${t.runId}`.toLowerCase().replace(/[^a-z0-9]/g, '')
let project: string
let elsewhere: string
let env: Record<string, string>
let web: {id: string; name: string}

beforeAll(async () => {
  project = await tempDir('ir-fold-project-')
  elsewhere = await tempDir('ir-fold-cwd-')
  env = {IR_INCIDENTS_DIR: await tempDir('ir-fold-cases-')}
  await writeFile(join(project, '.env'), 'SESSION_SECRET=old-value-of-the-session-secret\n')
  await writeFile(
    join(project, 'compose.yaml'),
    `services:\n  web:\n    image: ${process.env.IR_TEST_IMAGE ?? 'busybox:latest'}\n    command: [sleep, "3600"]\n    environment:\n      SESSION_SECRET: \${SESSION_SECRET}\n`,
  )
  web = await t.run('web', {
    cmd: ['sleep', '3600'],
    env: ['SESSION_SECRET=old-value-of-the-session-secret'],
    labels: {
      'com.docker.compose.project': NAME,
      'com.docker.compose.service': 'web',
      'com.docker.compose.project.working_dir': project,
      'com.docker.compose.project.config_files': join(project, 'compose.yaml'),
    },
  })
})

afterAll(async () => {
  await t.cleanup()
})

describe('run from another folder', () => {
  it('ir rotate --container uses the folder recorded on the container and rotates its .env', async () => {
    const r = await runIr(
      [
        'rotate',
        '--case',
        `CASE-FOLD-${t.runId}`,
        '--container',
        web.name,
        '--generate',
        'SESSION_SECRET',
        '--yes',
        '--json',
      ],
      {cwd: elsewhere, env},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toContain(`using the compose project folder ${project} recorded on ${web.name}`)
    const out = JSON.parse(r.stdout) as {project: {dir: string; recordedOn?: string}; applied: Array<{name: string}>}
    expect(out.project.dir).toBe(project)
    expect(out.project.recordedOn).toBe(web.name)
    expect(out.applied.map((a) => a.name)).toContain('SESSION_SECRET')
    const dotenv = await readFile(join(project, '.env'), 'utf8')
    expect(dotenv).toMatch(/^SESSION_SECRET=/m)
    expect(dotenv).not.toContain('old-value-of-the-session-secret')
    expect(r.stdout + r.stderr).not.toContain(dotenv.split('=')[1]!.trim())
  })

  it('--project-directory wins over the recorded folder, and the hint names the folder it looked in', async () => {
    const r = await runIr(
      [
        'rotate',
        '--container',
        web.name,
        '--project-directory',
        elsewhere,
        '--generate',
        'SESSION_SECRET',
        '--dry-run',
      ],
      {cwd: elsewhere, env},
    )
    expect(r.stderr).not.toContain('using the compose project folder')
    expect(r.exitCode).not.toBe(0)
    expect(r.stderr).toContain(`Looked in the project folder ${elsewhere}`)
  })

  it('ir rebuild -p uses the folder recorded on the project container', async () => {
    const r = await runIr(['rebuild', '-p', NAME, '--dry-run', '--json'], {cwd: elsewhere, env})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toMatch(new RegExp(`using the compose project folder ${project} recorded on ${web.name}`))
    const out = JSON.parse(r.stdout) as {
      plan: {project: {projectDirectory: string; files: string[]; name: string; recordedOn?: string}}
    }
    expect(out.plan.project).toMatchObject({
      projectDirectory: project,
      files: [join(project, 'compose.yaml')],
      name: NAME,
      recordedOn: web.name,
    })
  })
})
