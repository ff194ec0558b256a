import {readFile} from 'node:fs/promises'

import {z} from 'zod'

import type {Case} from '../../case/case-store.js'
import {AbortError} from '../../errors.js'
import {ACTION_ITEM_TYPES, type ActionItem, DATA_EXPOSURES, NARRATIVE_SECTIONS, type ReportAnswers} from './types.js'

export const ANSWERS_STATE = 'report-answers.json'

interface AnswersState {
  schema: 1
  updatedAt?: string
  answers: ReportAnswers
}

const EMPTY_STATE: AnswersState = {schema: 1, answers: {}}

/** Multi-line text; a YAML list of strings becomes one "- item" line per entry. */
const text = z
  .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])
  .transform((v) => (Array.isArray(v) ? v.map((x) => `- ${String(x)}`).join('\n') : String(v)))

const dateLike = z
  .union([z.string(), z.date(), z.number()])
  .transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v)))

const actionItem = z
  .object({
    action: z.string().trim().min(1, 'an action item needs an action'),
    type: z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .pipe(
        z.enum(ACTION_ITEM_TYPES as [string, ...string[]], {
          errorMap: () => ({message: `type must be one of ${ACTION_ITEM_TYPES.join(', ')}`}),
        }),
      ),
    owner: z.union([z.string(), z.number()]).transform(String).optional(),
    due: dateLike.optional(),
  })
  .strict()

const textShape = Object.fromEntries(NARRATIVE_SECTIONS.map((s) => [s.key, text.nullish()])) as Record<
  (typeof NARRATIVE_SECTIONS)[number]['key'],
  z.ZodOptional<z.ZodNullable<typeof text>>
>

const answersSchema = z
  .object({
    ...textShape,
    action_items: z.array(actionItem).nullish(),
    data_exposure: z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .pipe(
        z.enum(DATA_EXPOSURES as [string, ...string[]], {
          errorMap: () => ({message: `data_exposure must be one of ${DATA_EXPOSURES.join(', ')}`}),
        }),
      )
      .nullish(),
    authors: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .nullish(),
  })
  .strict()

export const ANSWER_KEYS: readonly string[] = [
  ...NARRATIVE_SECTIONS.map((s) => s.key),
  'action_items',
  'data_exposure',
  'authors',
]

/**
 * Validate answers (from a YAML file or the saved state). Keys may use dashes or underscores.
 * Unknown keys are refused (a typo would otherwise silently leave a section "to be completed").
 */
export function parseAnswers(raw: unknown, source: string): ReportAnswers {
  if (raw === null || raw === undefined) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AbortError(`${source}: expected a mapping of section names to answers`, {
      exit: 'USAGE',
      hint: `Keys: ${ANSWER_KEYS.join(', ')}`,
    })
  }
  const normalized = Object.fromEntries(
    Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k.trim().toLowerCase().replace(/[- ]/g, '_'), v]),
  )
  const parsed = answersSchema.safeParse(normalized)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const where = i.path.join('.') || '(top level)'
      return i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.join(', ')}` : `${where}: ${i.message}`
    })
    throw new AbortError(`${source}: ${issues.join('; ')}`, {
      exit: 'USAGE',
      hint: `Keys: ${ANSWER_KEYS.join(', ')}; action_items is a list of {action, type (${ACTION_ITEM_TYPES.join('|')}), owner, due}.`,
    })
  }
  return clean(parsed.data)
}

/** Drop null/empty values so "not answered" has one representation: absent. */
function clean(a: Record<string, unknown>): ReportAnswers {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(a)) {
    if (v === null || v === undefined) continue
    if (typeof v === 'string' && v.trim() === '') continue
    if (Array.isArray(v) && v.length === 0) continue
    if (k === 'action_items') {
      out[k] = (v as ActionItem[]).map((i) => ({
        action: i.action.trim(),
        type: i.type,
        ...(i.owner?.trim() ? {owner: i.owner.trim()} : {}),
        ...(i.due?.trim() ? {due: i.due.trim()} : {}),
      }))
      continue
    }
    out[k] = typeof v === 'string' ? v.replace(/\r\n?/g, '\n').trim() : v
  }
  return out
}

export async function readAnswersFile(path: string): Promise<ReportAnswers> {
  let content: string
  try {
    content = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AbortError(`Answers file not found: ${path}`, {exit: 'NOT_FOUND'})
    throw error
  }
  const {parse} = await import('yaml')
  let raw: unknown
  try {
    raw = parse(content)
  } catch (error) {
    throw new AbortError(`${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, {exit: 'USAGE'})
  }
  return parseAnswers(raw, path)
}

/** Later answers win, key by key; a key absent from `next` keeps its earlier answer. */
export function mergeAnswers(base: ReportAnswers, next: ReportAnswers): ReportAnswers {
  return {...base, ...next}
}

export async function loadSavedAnswers(kase: Case): Promise<ReportAnswers> {
  const state = await kase.readState<AnswersState>(ANSWERS_STATE, EMPTY_STATE)
  try {
    return parseAnswers(state.answers ?? {}, `${kase.statePath(ANSWERS_STATE)}`)
  } catch (error) {
    throw new AbortError(`The saved report answers are damaged: ${(error as Error).message}`, {
      exit: 'CASE_ACCESS',
      hint: `Fix or remove ${kase.statePath(ANSWERS_STATE)} (answers are lost only if removed).`,
    })
  }
}

/** Save answers in the case (redacted by updateState), so re-running `ir report` keeps them. */
export async function saveAnswers(kase: Case, answers: ReportAnswers): Promise<ReportAnswers> {
  const next = await kase.updateState<AnswersState>(ANSWERS_STATE, EMPTY_STATE, () => ({
    schema: 1,
    updatedAt: new Date().toISOString(),
    answers,
  }))
  return next.answers
}
