import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {render} from '@inquirer/testing'
import {describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
import {askRotation, type PromptContext} from '../../src/prompts/rotate.js'
import type {CredentialItem} from '../../src/services/rotate/inventory.js'
import {type RotateResult, rotateCredentials} from '../../src/services/rotate/rotate.js'
import {readRotation} from '../../src/services/rotate/state.js'
import {allFiles, filesContaining, tempDir} from '../helpers/cli.js'

type Screen = Awaited<ReturnType<typeof render>>

/** render() takes a prompt (a function returning a cancellable promise); ours chain several prompts. */
function asPrompt<C, V>(fn: (config: C, context?: PromptContext) => Promise<V>) {
  return (config: C, context?: PromptContext) => Object.assign(fn(config, context), {cancel: () => undefined})
}

/** The prompts are imported lazily, so wait for the screen before pressing keys. */
async function waitForScreen(s: Screen, text: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const screen = s.getScreen()
    if (screen.includes(text)) return screen
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`screen never showed "${text}"; it shows:\n${s.getScreen()}`)
}

function fakeItem(over: Partial<CredentialItem> = {}): CredentialItem {
  return {
    id: 'env/API_KEY',
    name: 'API_KEY',
    kind: 'env-var',
    sources: [
      {type: 'dotenv', file: '/p/.env', line: 3},
      {type: 'container-env', container: 'web-1'},
    ],
    canGenerate: true,
    editableFiles: ['/p/.env'],
    seenByCompromised: true,
    reasons: ['by-name'],
    notes: [],
    services: ['web'],
    ...over,
  }
}

describe('rotation prompt', () => {
  it('shows progress and where the credential is used, and generates on enter', async () => {
    const s = await render(asPrompt(askRotation), {item: fakeItem(), index: 2, total: 5})
    const screen = await waitForScreen(s, 'Credential 2 of 5')
    expect(screen).toContain('API_KEY')
    expect(screen).toContain('SEEN BY A COMPROMISED CONTAINER')
    expect(screen).toContain('/p/.env:3')
    expect(screen).toContain('environment of container web-1')
    s.events.keypress('enter')
    await expect(s.answer).resolves.toEqual({action: 'generate'})
  })

  it('refuses an empty skip reason, then takes one', async () => {
    const s = await render(asPrompt(askRotation), {item: fakeItem(), index: 1, total: 1})
    await waitForScreen(s, 'Credential 1 of 1')
    s.events.keypress('down')
    s.events.keypress('down')
    s.events.keypress('enter')
    await waitForScreen(s, 'Why is API_KEY not rotated?')
    s.events.keypress('enter')
    await waitForScreen(s, 'A reason is required')
    s.events.type('owned by the payments team')
    s.events.keypress('enter')
    await expect(s.answer).resolves.toEqual({action: 'skip', reason: 'owned by the payments team'})
  })

  it('cannot generate what is not in an editable .env file', async () => {
    const s = await render(asPrompt(askRotation), {
      item: fakeItem({canGenerate: false, editableFiles: []}),
      index: 1,
      total: 1,
    })
    const screen = await waitForScreen(s, 'Credential 1 of 1')
    expect(screen).toContain('not in a .env file ir can edit')
    s.events.keypress('enter') // the default is then "mark as rotated elsewhere"
    await expect(s.answer).resolves.toEqual({action: 'mark-rotated'})
  })

  it('leaves on "leave"', async () => {
    const s = await render(asPrompt(askRotation), {item: fakeItem(), index: 1, total: 1})
    await waitForScreen(s, 'Credential 1 of 1')
    for (const k of ['down', 'down', 'down', 'enter']) s.events.keypress(k)
    await expect(s.answer).resolves.toEqual({action: 'leave'})
  })
})

describe('rotation walkthrough: choose, skip with reason, leave, resume', () => {
  it('stores each decision as it is made and resumes at the first undecided credential', async () => {
    const project = await tempDir('ir-rotate-walk-')
    const incidents = await tempDir('ir-rotate-walk-cases-')
    const OLD = {a: 'alpha-old-Tok3n-value-1', b: 'bravo-old-pass-value-2', c: 'charlie-old-secret-3'}
    const dotenv = `# walkthrough\nA_TOKEN=${OLD.a}\nB_PASSWORD=${OLD.b}\nC_SECRET=${OLD.c}\nPLAIN=1\n`
    await writeFile(join(project, '.env'), dotenv)
    const store = new CaseStore(incidents)
    const {kase} = await store.open({id: 'WALK-1'})
    const session = (ctx: PromptContext | undefined): Promise<RotateResult> =>
      rotateCredentials({
        kase,
        cwd: project,
        length: 24,
        alphabet: 'alnum',
        decide: (item, pos) => askRotation({item, ...pos}, ctx),
      })

    // Session 1: generate A_TOKEN, skip B_PASSWORD (an empty reason is refused), leave at C_SECRET.
    const s1 = await render(
      asPrompt((_: object, ctx?: PromptContext) => session(ctx)),
      {},
    )
    await waitForScreen(s1, 'Credential 1 of 3: A_TOKEN')
    s1.events.keypress('enter')
    await waitForScreen(s1, 'Credential 2 of 3: B_PASSWORD')
    for (const k of ['down', 'down', 'enter']) s1.events.keypress(k)
    await waitForScreen(s1, 'Why is B_PASSWORD not rotated?')
    s1.events.keypress('enter')
    await waitForScreen(s1, 'A reason is required')
    s1.events.type('shared with the vendor, rotated next week')
    s1.events.keypress('enter')
    await waitForScreen(s1, 'Credential 3 of 3: C_SECRET')
    for (const k of ['down', 'down', 'down', 'enter']) s1.events.keypress(k)
    const r1 = await s1.answer
    expect(r1.left).toBe(true)
    expect(r1.applied.map((d) => [d.name, d.decision])).toEqual([
      ['A_TOKEN', 'generated'],
      ['B_PASSWORD', 'skipped'],
    ])
    expect(r1.summary).toMatchObject({generated: 1, skipped: 1, remaining: 1, remainingNames: ['C_SECRET']})

    const after1 = await readFile(join(project, '.env'), 'utf8')
    const newA = /^A_TOKEN=(.*)$/m.exec(after1)![1]!
    expect(newA).toMatch(/^[A-Za-z0-9]{24}$/)
    expect(after1).toBe(dotenv.replace(OLD.a, newA))
    const state = await readRotation(kase)
    expect(state.decisions.map((d) => [d.name, d.decision, d.reason])).toEqual([
      ['A_TOKEN', 'generated', undefined],
      ['B_PASSWORD', 'skipped', 'shared with the vendor, rotated next week'],
    ])

    // Session 2 (a new run with the same case) starts at C_SECRET.
    const s2 = await render(
      asPrompt((_: object, ctx?: PromptContext) => session(ctx)),
      {},
    )
    const screen = await waitForScreen(s2, 'Credential 3 of 3: C_SECRET')
    expect(screen).not.toContain('A_TOKEN')
    s2.events.keypress('down')
    s2.events.keypress('enter')
    const r2 = await s2.answer
    expect(r2.left).toBe(false)
    expect(r2.applied.map((d) => [d.name, d.decision])).toEqual([['C_SECRET', 'marked-rotated']])
    expect(r2.summary).toMatchObject({total: 3, generated: 1, markedRotated: 1, skipped: 1, remaining: 0})

    // The case holds names and decisions, never a value.
    for (const v of [...Object.values(OLD), newA]) expect(await filesContaining(kase.dir, v)).toEqual([])
    const audit = (await readFile(join(kase.dir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {action: string; target?: string; details?: Record<string, unknown>})
    expect(audit.filter((l) => l.action === 'rotate.decision').map((l) => [l.target, l.details?.decision])).toEqual([
      ['A_TOKEN', 'generated'],
      ['B_PASSWORD', 'skipped'],
      ['C_SECRET', 'marked-rotated'],
    ])
    expect(audit.filter((l) => l.action === 'rotate.summary')).toHaveLength(2)
    expect((await allFiles(kase.dir)).some((f) => f.endsWith('rotation.json'))).toBe(true)
  })
})
