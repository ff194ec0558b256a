import {describe, expect, it} from 'vitest'

import {askReportAnswers, hasEditor, type ReportPrompts} from '../../src/prompts/report-answers.js'
import type {ReportAnswers} from '../../src/services/report/types.js'

/** Scripted prompts: each call takes the next answer and records what was asked, with its default. */
function scripted(answers: unknown[]): {
  prompts: ReportPrompts
  asked: Array<{kind: string; message: string; default?: unknown}>
} {
  const asked: Array<{kind: string; message: string; default?: unknown}> = []
  const next = <T>(kind: string, c: {message: string; default?: unknown}): Promise<T> => {
    asked.push({kind, message: c.message, ...(c.default === undefined ? {} : {default: c.default})})
    if (answers.length === 0) throw new Error(`unexpected prompt: ${c.message}`)
    return Promise.resolve(answers.shift() as T)
  }
  return {
    asked,
    prompts: {
      input: (c) => next('input', c),
      editor: (c) => next('editor', c),
      select: (c) => next('select', c),
      checkbox: (c) => {
        asked.push({
          kind: 'checkbox',
          message: c.message,
          default: c.choices.filter((x) => x.checked).map((x) => x.value),
        })
        return Promise.resolve(answers.shift() as never)
      },
      confirm: (c) => next('confirm', c),
    },
  }
}

describe('report prompts (TTY)', () => {
  it('offers the unanswered sections, uses the editor when there is one, and saves after each answer', async () => {
    const current: ReportAnswers = {summary: 'Old summary', action_items: [{action: 'Keep me', type: 'detect'}]}
    const {prompts, asked} = scripted([
      ['summary', 'trigger', 'action_items', 'data_exposure'],
      'New summary\nsecond line\n',
      '  ',
      'confirmed',
      true, // keep the existing action item
      true, // add another
      'Patch the plugin',
      'prevent',
      'web team',
      '2026-12-01',
      false, // no more
    ])
    const saves: ReportAnswers[] = []
    const result = await askReportAnswers(current, {
      prompts,
      useEditor: true,
      save: async (a) => void saves.push(structuredClone(a)),
    })
    // Unanswered sections are pre-selected; written ones are not.
    const preselected = asked[0]!.default as string[]
    expect(preselected).not.toContain('summary')
    expect(preselected).not.toContain('action_items')
    expect(preselected).toContain('trigger')
    expect(preselected).toContain('data_exposure')
    // The editor opens with the saved text as its default.
    expect(asked[1]).toMatchObject({kind: 'editor', default: 'Old summary'})
    expect(result).toEqual({
      summary: 'New summary\nsecond line',
      data_exposure: 'confirmed',
      action_items: [
        {action: 'Keep me', type: 'detect'},
        {action: 'Patch the plugin', type: 'prevent', owner: 'web team', due: '2026-12-01'},
      ],
    })
    expect(saves[0]).toMatchObject({summary: 'New summary\nsecond line'})
    expect(saves.at(-1)).toEqual(result)
  })

  it('falls back to a one-line input without $EDITOR/$VISUAL', async () => {
    expect(hasEditor({})).toBe(false)
    expect(hasEditor({EDITOR: 'vim'})).toBe(true)
    expect(hasEditor({VISUAL: 'code -w'})).toBe(true)
    const {prompts, asked} = scripted([['impact'], 'Checkout down 20 minutes'])
    const result = await askReportAnswers({}, {prompts, useEditor: false, save: async () => undefined})
    expect(asked[1]?.kind).toBe('input')
    expect(result).toEqual({impact: 'Checkout down 20 minutes'})
  })

  it('turns Ctrl-C into a clear interruption, keeping what was saved', async () => {
    const saves: ReportAnswers[] = []
    const prompts: ReportPrompts = {
      ...scripted([]).prompts,
      checkbox: async () => ['summary', 'impact'] as never,
      editor: async (c) => {
        if (c.message.startsWith('Impact'))
          throw Object.assign(new Error('User force closed the prompt'), {name: 'ExitPromptError'})
        return 'Written before Ctrl-C'
      },
    }
    await expect(
      askReportAnswers({}, {prompts, useEditor: true, save: async (a) => void saves.push(a)}),
    ).rejects.toThrow(/answers given so far are saved/)
    expect(saves.at(-1)).toEqual({summary: 'Written before Ctrl-C'})
  })
})
