import {mkdir, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import Rebuild from '../../src/commands/rebuild.js'
import {rebuildProject} from '../../src/services/rebuild/rebuild.js'
import {tempDir} from '../helpers/cli.js'
import {fakeCompose, fakeEngines, runCommand} from '../helpers/command.js'
import {fakeContainer, FakeEngine} from '../helpers/fake-engine.js'

vi.mock('../../src/services/rebuild/rebuild.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/services/rebuild/rebuild.js')>()
  return {...real, rebuildProject: vi.fn(real.rebuildProject)}
})

const WEB = 'c'.repeat(64)

describe('ir rebuild: flags -> service options (fake engine and compose client, no Docker)', () => {
  let dir: string
  let project: string
  let compose: ReturnType<typeof fakeCompose>
  let engine: FakeEngine
  beforeEach(async () => {
    vi.mocked(rebuildProject).mockClear()
    dir = await tempDir('ir-cmd-rebuild-')
    project = join(dir, 'shop')
    await mkdir(project)
    await writeFile(join(project, 'compose.yaml'), 'services:\n  web:\n    image: fake:latest\n')
    compose = fakeCompose('services:\n  web:\n    image: fake:latest\n')
    engine = new FakeEngine([
      fakeContainer({
        id: WEB,
        name: 'shop-web-1',
        labels: {'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web'},
      }),
    ])
  })
  afterEach(() => rm(dir, {recursive: true, force: true}))
  const run = (argv: string[]) =>
    runCommand(Rebuild, argv, {engines: fakeEngines(engine, {}, compose), incidentsDir: join(dir, 'incidents')})
  const options = () => vi.mocked(rebuildProject).mock.calls[0]![0]

  it('--dry-run: every setting reaches the service; only `compose config` runs; the plan names the commands', async () => {
    const r = await run([
      '--project-directory',
      project,
      '--volumes',
      '--offline',
      '--save-evidence',
      '--wait-timeout',
      '9',
      '--grace',
      '1',
      '--no-audit',
      '--dry-run',
      '--json',
    ])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(rebuildProject).toHaveBeenCalledTimes(1)
    expect(options()).toMatchObject({
      dryRun: true,
      removeVolumes: true,
      pruneHost: false,
      offline: true,
      saveEvidence: true,
      waitTimeoutSeconds: 9,
      graceSeconds: 1,
      audit: false,
      project: {name: 'shop', projectDirectory: project, files: [join(project, 'compose.yaml')]},
    })
    expect(options().force).toBeUndefined()
    expect(compose.calls).toEqual([['config']])
    const plan = r.json<{dryRun: boolean; plan: {commands: string[]; containers: Array<{name: string}>}}>()
    expect(plan.dryRun).toBe(true)
    expect(plan.plan.containers.map((c) => c.name)).toEqual(['shop-web-1'])
    expect(plan.plan.commands.join('\n')).toMatch(/down --remove-orphans --volumes/)
    // Nothing was touched on the engine.
    expect(engine.calls.filter((c) => !c.startsWith('list') && !c.startsWith('inspect'))).toEqual([])
  })

  it('--force --reason reaches the service as the audited reason; --force alone is a usage error (exit 2)', async () => {
    await run(['--project-directory', project, '--force', '--reason', 'evidence kept offline', '--dry-run'])
    expect(options().force).toEqual({reason: 'evidence kept offline'})
    const r = await run(['--project-directory', project, '--force', '--dry-run'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/--force needs --reason/)
  })

  it('refuses to run without --case (exit 2) and without a TTY unless --yes (exit 7): compose never runs down', async () => {
    const noCase = await run(['--project-directory', project])
    expect(noCase.exitCode).toBe(2)
    expect(noCase.stderr).toMatch(/--case/)
    const noYes = await run(['--project-directory', project, '--case', 'RB-1'])
    expect(noYes.exitCode).toBe(7)
    expect(rebuildProject).not.toHaveBeenCalled()
    expect(compose.calls.some((c) => c[0] === 'down' || c[0] === 'build' || c[0] === 'up')).toBe(false)
  })

  it('-p names the project; -f picks the file and its folder', async () => {
    await writeFile(join(project, 'other.yaml'), 'services:\n  web:\n    image: fake:latest\n')
    await run(['-f', join(project, 'other.yaml'), '-p', 'shop', '--dry-run'])
    expect(options().project).toMatchObject({
      name: 'shop',
      projectDirectory: project,
      files: [join(project, 'other.yaml')],
    })
  })
})
