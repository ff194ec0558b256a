import {AbortError} from '../errors.js'
import {
  ACTION_ITEM_TYPES,
  type ActionItem,
  type ActionItemType,
  DATA_EXPOSURES,
  type DataExposure,
  NARRATIVE_SECTIONS,
  type ReportAnswers,
} from '../services/report/types.js'

const PROMPT_TIMEOUT_MS = 30 * 60 * 1000

/** The prompt functions used (the subset of @inquirer/prompts), injectable for tests. */
export interface ReportPrompts {
  input(config: {message: string; default?: string; validate?: (v: string) => boolean | string}): Promise<string>
  editor(config: {message: string; default?: string; postfix?: string; waitForUserInput?: boolean}): Promise<string>
  select<T extends string>(config: {
    message: string
    choices: Array<{value: T; name?: string}>
    default?: T
  }): Promise<T>
  checkbox<T extends string>(config: {
    message: string
    choices: Array<{value: T; name?: string; checked?: boolean}>
  }): Promise<T[]>
  confirm(config: {message: string; default?: boolean}): Promise<boolean>
}

/** A long-text editor only when the user has one configured; otherwise a one-line input. */
export function hasEditor(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.VISUAL?.trim() || env.EDITOR?.trim())
}

/** Inquirer's prompts writing to stderr, each with a timeout so an abandoned terminal does not hang. */
export async function inquirerPrompts(): Promise<ReportPrompts> {
  const p = await import('@inquirer/prompts')
  const ctx = (): {output: NodeJS.WritableStream; signal: AbortSignal} => ({
    output: process.stderr,
    signal: AbortSignal.timeout(PROMPT_TIMEOUT_MS),
  })
  return {
    input: (c) => p.input(c, ctx()),
    editor: (c) => p.editor(c, ctx()),
    select: (c) => p.select(c, ctx()),
    checkbox: (c) => p.checkbox(c, ctx()),
    confirm: (c) => p.confirm(c, ctx()),
  }
}

type Choice = (typeof NARRATIVE_SECTIONS)[number]['key'] | 'action_items' | 'data_exposure' | 'authors'

/**
 * Ask for the narrative sections on a TTY. The current answers are the defaults; after each answer
 * `save` is called, so what was typed is kept even if the session is interrupted.
 */
export async function askReportAnswers(
  current: ReportAnswers,
  opts: {prompts: ReportPrompts; useEditor: boolean; save: (answers: ReportAnswers) => Promise<void>},
): Promise<ReportAnswers> {
  const {prompts} = opts
  let answers: ReportAnswers = {...current}
  const set = async (patch: ReportAnswers, clear: Array<keyof ReportAnswers> = []): Promise<void> => {
    const next: ReportAnswers = {...answers, ...patch}
    for (const k of clear) delete next[k]
    answers = next
    await opts.save(answers)
  }
  try {
    const choices: Array<{value: Choice; name: string; checked: boolean}> = [
      ...NARRATIVE_SECTIONS.map((s) => ({
        value: s.key,
        name: `${s.title}${answers[s.key] ? ' (written)' : ''}`,
        checked: !answers[s.key],
      })),
      {
        value: 'action_items',
        name: `Action items${answers.action_items?.length ? ` (${answers.action_items.length})` : ''}`,
        checked: !answers.action_items?.length,
      },
      {
        value: 'data_exposure',
        name: `Data exposure (${answers.data_exposure ?? 'unknown'})`,
        checked: !answers.data_exposure,
      },
      {
        value: 'authors',
        name: `Authors${answers.authors?.length ? ` (${answers.authors.join(', ')})` : ''}`,
        checked: false,
      },
    ]
    const selected = new Set(
      await prompts.checkbox<Choice>({
        message: 'Sections to write or revise (space to toggle, enter to continue); the rest stay as they are',
        choices,
      }),
    )

    for (const s of NARRATIVE_SECTIONS) {
      if (!selected.has(s.key)) continue
      const previous = answers[s.key]
      const text = opts.useEditor
        ? await prompts.editor({
            message: s.prompt,
            ...(previous ? {default: previous} : {}),
            postfix: '.md',
            waitForUserInput: true,
          })
        : await prompts.input({
            message: `${s.prompt} (one line; longer text: set $EDITOR, or use --answers)`,
            ...(previous ? {default: previous} : {}),
          })
      const trimmed = text.replace(/\r\n?/g, '\n').trim()
      await (trimmed ? set({[s.key]: trimmed}) : set({}, [s.key]))
    }

    if (selected.has('data_exposure')) {
      const exposure = await prompts.select<DataExposure>({
        message: 'Data exposure',
        choices: DATA_EXPOSURES.map((d) => ({value: d, name: d})),
        default: answers.data_exposure ?? 'unknown',
      })
      await set({data_exposure: exposure})
    }

    if (selected.has('authors')) {
      const text = await prompts.input({
        message: 'Authors (comma-separated)',
        ...(answers.authors?.length ? {default: answers.authors.join(', ')} : {}),
      })
      const authors = text
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean)
      await (authors.length ? set({authors}) : set({}, ['authors']))
    }

    if (selected.has('action_items')) {
      let items: ActionItem[] = [...(answers.action_items ?? [])]
      if (
        items.length > 0 &&
        !(await prompts.confirm({message: `Keep the ${items.length} action item(s) already written?`, default: true}))
      )
        items = []
      while (
        await prompts.confirm({
          message: items.length === 0 ? 'Add an action item?' : 'Add another action item?',
          default: items.length === 0,
        })
      ) {
        const action = (
          await prompts.input({message: 'Action', validate: (v) => (v.trim() ? true : 'Describe the action')})
        ).trim()
        const type = await prompts.select<ActionItemType>({
          message: 'Type',
          choices: ACTION_ITEM_TYPES.map((t) => ({value: t, name: t})),
          default: 'prevent',
        })
        const owner = (await prompts.input({message: 'Owner (optional)'})).trim()
        const due = (
          await prompts.input({
            message: 'Due date, YYYY-MM-DD (optional)',
            validate: (v) =>
              v.trim() === '' || /^\d{4}-\d{2}-\d{2}$/.test(v.trim()) ? true : 'Use YYYY-MM-DD, or leave empty',
          })
        ).trim()
        items = [...items, {action, type, ...(owner ? {owner} : {}), ...(due ? {due} : {})}]
        await set({action_items: items})
      }
      await (items.length ? set({action_items: items}) : set({}, ['action_items']))
    }
  } catch (error) {
    const name = (error as Error).name
    if (name === 'ExitPromptError')
      throw new AbortError('Cancelled at the prompt; the answers given so far are saved in the case.', {
        exit: 'INTERRUPTED',
      })
    if (name === 'AbortPromptError')
      throw new AbortError('No answer at the prompt in 30 minutes; the answers given so far are saved in the case.', {
        exit: 'INTERRUPTED',
      })
    throw error
  }
  return answers
}
