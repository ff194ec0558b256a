import {createHash} from 'node:crypto'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {beforeEach, describe, expect, it} from 'vitest'

import {type Case, CaseStore} from '../../src/case/case-store.js'
import {IrError} from '../../src/errors.js'
import {rotateCredentials, type RotateOptions} from '../../src/services/rotate/rotate.js'
import {readRotation} from '../../src/services/rotate/state.js'
import {tempDir} from '../helpers/cli.js'

let project: string
let kase: Case
const DOTENV = 'API_KEY=apikey-plan-old-value-1\nDB_PASSWORD=dbpass-plan-old-value-2\n'

beforeEach(async () => {
  project = await tempDir('ir-rotate-plan-')
  await writeFile(join(project, '.env'), DOTENV)
  await writeFile(
    join(project, 'compose.yaml'),
    'services:\n  app:\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n      ADMIN_TOKEN: literal-admin-token-Xy12\n',
  )
  kase = (await new CaseStore(await tempDir('ir-rotate-plan-cases-')).open({id: 'PLAN-1'})).kase
})

function run(over: Partial<RotateOptions>): ReturnType<typeof rotateCredentials> {
  return rotateCredentials({kase, cwd: project, length: 32, alphabet: 'url-safe', ...over})
}

async function exitOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (error) {
    if (error instanceof IrError) return `${error.exitName}: ${error.message}`
    throw error
  }
  return 'OK'
}

describe('non-interactive rotation decisions', () => {
  it('names every unknown credential at once (NOT_FOUND) and writes nothing', async () => {
    const r = await exitOf(run({generate: ['NOPE_ONE'], markRotated: ['API_KEY', 'NOPE_TWO']}))
    expect(r).toMatch(/^NOT_FOUND: .*"NOPE_ONE", "NOPE_TWO"/)
    expect(await readFile(join(project, '.env'), 'utf8')).toBe(DOTENV)
    expect((await readRotation(kase)).decisions).toEqual([])
  })

  it('refuses to generate what is not in a .env file, a skip without reason, and two decisions for one name', async () => {
    expect(await exitOf(run({generate: ['ADMIN_TOKEN']}))).toMatch(/^USAGE: ADMIN_TOKEN cannot be generated here/)
    expect(await exitOf(run({skip: ['API_KEY']}))).toMatch(/^USAGE: --skip API_KEY: a skip needs a reason/)
    expect(await exitOf(run({skip: ['API_KEY=  ']}))).toMatch(/^USAGE/)
    expect(await exitOf(run({generate: ['API_KEY'], markRotated: ['API_KEY']}))).toMatch(
      /^USAGE: API_KEY is given two different decisions/,
    )
    expect(await readFile(join(project, '.env'), 'utf8')).toBe(DOTENV)
  })

  it('asks for confirmation before writing, and writes nothing when refused', async () => {
    const asked: string[] = []
    const refused = run({
      generate: ['API_KEY'],
      confirm: async (q) => {
        asked.push(q)
        throw new IrError('no', 'abort', {exit: 'CONFIRMATION_REQUIRED'})
      },
    })
    expect(await exitOf(refused)).toMatch(/^CONFIRMATION_REQUIRED/)
    expect(asked[0]).toMatch(/generate a new API_KEY \(writes .*\.env\)/)
    expect(await readFile(join(project, '.env'), 'utf8')).toBe(DOTENV)
  })

  it('applies an answers file: generate, mark rotated and skip with reason; services to restart', async () => {
    const answers = join(project, 'answers.yml')
    await writeFile(
      answers,
      'DB_PASSWORD: {action: generate}\nADMIN_TOKEN: mark-rotated\nAPI_KEY:\n  action: skip\n  reason: not used in production\n',
    )
    const r = await run({answersFile: answers})
    expect(r.applied.map((d) => [d.name, d.decision])).toEqual([
      ['DB_PASSWORD', 'generated'],
      ['ADMIN_TOKEN', 'marked-rotated'],
      ['API_KEY', 'skipped'],
    ])
    expect(r.summary).toMatchObject({generated: 1, markedRotated: 1, skipped: 1, remaining: 0, restart: ['app']})
    const text = await readFile(join(project, '.env'), 'utf8')
    expect(text.split('\n')[0]).toBe('API_KEY=apikey-plan-old-value-1')
    expect(text).toMatch(/^DB_PASSWORD=[A-Za-z0-9_-]{32}$/m)
  })

  it('rotation.json and the audit log keep no value, hash or length of the generated credential', async () => {
    const r = await run({generate: ['API_KEY'], length: 43})
    expect(r.applied.map((d) => d.decision)).toEqual(['generated'])
    const value = /^API_KEY=(.*)$/m.exec(await readFile(join(project, '.env'), 'utf8'))![1]!
    expect(value).toHaveLength(43)
    const state = await readFile(join(kase.dir, 'state', 'rotation.json'), 'utf8')
    const decision = JSON.parse(state).decisions.find((d: {name: string}) => d.name === 'API_KEY')
    expect(decision).toMatchObject({decision: 'generated', alphabet: 'url-safe'})
    expect(Object.keys(decision)).not.toContain('length')
    const audit = await readFile(join(kase.dir, 'audit.log'), 'utf8')
    const sha = createHash('sha256').update(value).digest('hex')
    for (const [what, text] of [
      ['rotation.json', state],
      ['audit.log', audit],
    ] as const) {
      expect(text, what).not.toMatch(/"length"\s*:/)
      expect(text, what).not.toContain(value)
      expect(text, what).not.toContain(sha)
    }
  })

  it('rejects a malformed answers file with USAGE, and a missing one with NOT_FOUND', async () => {
    const bad = join(project, 'bad.yml')
    await writeFile(bad, 'API_KEY: {action: destroy}\n')
    expect(await exitOf(run({answersFile: bad}))).toMatch(/^USAGE: Answers file .*bad\.yml: API_KEY/)
    await writeFile(bad, 'API_KEY: {action: skip}\n')
    expect(await exitOf(run({answersFile: bad}))).toMatch(/^USAGE: .*a skip needs a reason/)
    expect(await exitOf(run({answersFile: join(project, 'none.yml')}))).toMatch(/^NOT_FOUND/)
  })

  it('a dry run resolves the plan and writes nothing, not even to the case', async () => {
    const before = await readFile(join(kase.dir, 'audit.log'), 'utf8')
    const r = await run({dryRun: true, generate: ['API_KEY'], skip: ['DB_PASSWORD=later']})
    expect(r.planned).toEqual([
      {name: 'API_KEY', id: 'env/API_KEY', action: 'generate', files: [join(project, '.env')]},
      {name: 'DB_PASSWORD', id: 'env/DB_PASSWORD', action: 'skip', reason: 'later'},
    ])
    expect(await readFile(join(project, '.env'), 'utf8')).toBe(DOTENV)
    expect(await readFile(join(kase.dir, 'audit.log'), 'utf8')).toBe(before)
  })
})
