import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
import {readJournal} from '../../src/case/journal.js'
import {parsePlaybook} from '../../src/playbook/loader.js'
import {runPlaybook} from '../../src/playbook/runner.js'
import {silentLogger} from '../../src/util/logger.js'
import {singleHost} from '../../src/docker/hosts.js'
import {tempDir} from '../helpers/cli.js'
import {FakeEngine} from '../helpers/fake-engine.js'

const text = `name: gates
steps:
  - id: first
    action: note
    with: {text: tick me}
  - id: gate
    action: confirm
    on_error: continue
    with: {message: approve?}
  - id: guarded
    action: note
    requires: [gate]
    with: {text: only after approval}
  - id: last
    action: note
    with: {text: done}
`

async function setup() {
  const store = new CaseStore(await tempDir())
  const {kase} = await store.open({id: 'PB-UNIT'})
  const parsed = parsePlaybook(text, 'gates.yml')
  const loaded = {
    file: 'gates.yml',
    sha256: 'x',
    playbook: parsed.playbook!,
    stepLines: parsed.stepLines,
    inputLines: parsed.inputLines,
  }
  const engine = new FakeEngine([])
  const base = {
    loaded,
    inputs: {},
    kase,
    store,
    engine: async () => engine,
    compose: async () => {
      throw new Error('no compose')
    },
    hosts: async () => singleHost(engine),
    cwd: '/',
    human: {},
    progress: () => undefined,
    log: silentLogger,
    mode: 'scripted' as const,
  }
  return {kase, base}
}

describe('playbook runner', () => {
  it('skips a step whose requirement failed, continues after on_error: continue, and journals every state', async () => {
    const {kase, base} = await setup()
    const j = await runPlaybook({...base, yes: false, signal: new AbortController().signal, resume: false})
    expect(j.steps.map((s) => [s.id, s.state])).toEqual([
      ['first', 'succeeded'],
      ['gate', 'failed'],
      ['guarded', 'skipped'],
      ['last', 'succeeded'],
    ])
    expect(j.steps[1]!.error?.code).toBe('CONFIRMATION_REQUIRED')
    expect(j.steps[2]!.skipReason).toMatch(/requires gate \(failed\)/)
    expect(j.status).toBe('failed')
    expect(await readJournal(kase)).toEqual(j)
    const audit = (await readFile(join(kase.dir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(audit.filter((e) => e.action === 'playbook.step' && e.outcome === 'success').map((e) => e.target)).toEqual([
      'first',
      'last',
    ])
  })

  it('resumes: succeeded steps are not repeated and the failed gate is retried', async () => {
    const {kase, base} = await setup()
    await runPlaybook({...base, yes: false, signal: new AbortController().signal, resume: false})
    const j = await runPlaybook({...base, yes: true, signal: new AbortController().signal, resume: true})
    expect(j.status).toBe('succeeded')
    expect(j.steps.find((s) => s.id === 'gate')).toMatchObject({
      state: 'succeeded',
      attempts: 2,
      outputs: {approvedBy: '--yes'},
    })
    // guarded was skipped in the first run and stays skipped: a skip is a decision, not a failure.
    expect(j.steps.find((s) => s.id === 'guarded')?.state).toBe('skipped')
    const audit = (await readFile(join(kase.dir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const successes = audit.filter((e) => e.action === 'playbook.step' && e.outcome === 'success').map((e) => e.target)
    expect(successes.sort()).toEqual(['first', 'gate', 'last'])
  })

  it('refuses a second run in a case with an unfinished one, and a resume of a changed playbook', async () => {
    const {base} = await setup()
    await runPlaybook({...base, yes: false, signal: new AbortController().signal, resume: false})
    await expect(
      runPlaybook({...base, yes: true, signal: new AbortController().signal, resume: false}),
    ).rejects.toThrow(/unfinished playbook run/)
    await expect(
      runPlaybook({
        ...base,
        loaded: {...base.loaded, sha256: 'changed'},
        yes: true,
        signal: new AbortController().signal,
        resume: true,
      }),
    ).rejects.toThrow(/changed since the run started/)
  })

  it('stops at an interrupt and leaves a resumable journal', async () => {
    const {base} = await setup()
    const ac = new AbortController()
    ac.abort()
    const j = await runPlaybook({...base, yes: true, signal: ac.signal, resume: false})
    expect(j.status).toBe('interrupted')
    expect(j.steps.every((s) => s.state === 'pending')).toBe(true)
  })
})
