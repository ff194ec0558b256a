import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import Rotate from '../../src/commands/rotate.js'
import {rotateCredentials} from '../../src/services/rotate/rotate.js'
import {tempDir} from '../helpers/cli.js'
import {fakeEngines, runCommand} from '../helpers/command.js'
import {FakeEngine} from '../helpers/fake-engine.js'

vi.mock('../../src/services/rotate/rotate.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/services/rotate/rotate.js')>()
  return {...real, rotateCredentials: vi.fn(real.rotateCredentials)}
})

const OLD_API = 'old-api-value-0123456789'
const OLD_DB = 'old-db-value-9876543210'

describe('ir rotate: flags -> service options (fake engine, a compose project on disk, no Docker)', () => {
  let dir: string
  let project: string
  let incidents: string
  beforeEach(async () => {
    vi.mocked(rotateCredentials).mockClear()
    dir = await tempDir('ir-cmd-rotate-')
    project = join(dir, 'shop')
    incidents = join(dir, 'incidents')
    await mkdir(project)
    await writeFile(
      join(project, 'compose.yaml'),
      'services:\n  web:\n    image: fake:latest\n    environment:\n      API_KEY: ${API_KEY}\n      DB_PASSWORD: ${DB_PASSWORD}\n',
    )
    await writeFile(join(project, '.env'), `API_KEY=${OLD_API}\nDB_PASSWORD=${OLD_DB}\n`)
  })
  afterEach(() => rm(dir, {recursive: true, force: true}))
  const run = (argv: string[]) =>
    runCommand(Rotate, argv, {engines: fakeEngines(new FakeEngine([])), incidentsDir: incidents})
  const options = () => vi.mocked(rotateCredentials).mock.calls[0]![0]
  const envValue = async (name: string) =>
    (await readFile(join(project, '.env'), 'utf8')).match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1]

  it('--list: the project folder and files reach the service; the inventory names both, no value anywhere', async () => {
    const r = await run(['--project-directory', project, '--env-file', join(project, '.env'), '--list', '--json'])
    expect(r.exitCode).toBe(0)
    expect(rotateCredentials).toHaveBeenCalledTimes(1)
    const o = options()
    expect(o).toMatchObject({cwd: process.cwd(), projectDirectory: project, length: 32, alphabet: 'url-safe'})
    expect(o.envFiles).toEqual([join(project, '.env')])
    expect(o.generate).toBeUndefined()
    expect(o.decide).toBeUndefined()
    const names = r.json<{inventory: Array<{name: string}>}>().inventory.map((i) => i.name)
    expect(names).toEqual(expect.arrayContaining(['API_KEY', 'DB_PASSWORD']))
    expect(r.stdout + r.stderr).not.toContain(OLD_API)
    expect(r.stdout + r.stderr).not.toContain(OLD_DB)
  })

  it('decisions by flag with --yes: API_KEY gets a new value of --length in .env, the skipped one is untouched', async () => {
    const r = await run([
      '--project-directory',
      project,
      '--case',
      'ROT-1',
      '--generate',
      'API_KEY',
      '--skip',
      'DB_PASSWORD=the vendor revokes it',
      '--length',
      '40',
      '--alphabet',
      'alnum',
      '--yes',
      '--json',
    ])
    expect(r.exitCode, r.stderr).toBe(0)
    const o = options()
    expect(o).toMatchObject({
      generate: ['API_KEY'],
      skip: ['DB_PASSWORD=the vendor revokes it'],
      length: 40,
      alphabet: 'alnum',
      dryRun: false,
    })
    expect(o.kase?.id).toBe('ROT-1')
    const value = await envValue('API_KEY')
    expect(value).not.toBe(OLD_API)
    expect(value).toMatch(/^[A-Za-z0-9]{40}$/)
    expect(await envValue('DB_PASSWORD')).toBe(OLD_DB)
    // The new value is in the .env file only: not in the output, not in the case record.
    expect(r.stdout + r.stderr).not.toContain(value!)
    const record = await readFile(join(incidents, 'ROT-1', 'state', 'rotation.json'), 'utf8')
    expect(record).not.toContain(value!)
    expect(record).toContain('the vendor revokes it')
  })

  it('without a TTY and without --yes: exit 7 and the .env file is unchanged', async () => {
    const r = await run(['--project-directory', project, '--case', 'ROT-2', '--generate', 'API_KEY'])
    expect(r.exitCode).toBe(7)
    expect(await envValue('API_KEY')).toBe(OLD_API)
    expect(r.stderr).toMatch(/--yes/)
  })

  it('--dry-run writes nothing and creates no case', async () => {
    const r = await run(['--project-directory', project, '--case', 'ROT-3', '--generate', 'API_KEY', '--dry-run'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(options()).toMatchObject({dryRun: true, generate: ['API_KEY']})
    expect(options().kase).toBeUndefined()
    expect(await envValue('API_KEY')).toBe(OLD_API)
    await expect(readFile(join(incidents, 'ROT-3', 'case.json'))).rejects.toThrow(/ENOENT/)
  })
})
