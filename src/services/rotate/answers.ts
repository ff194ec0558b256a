import {readFile} from 'node:fs/promises'

import {z} from 'zod'

import {AbortError} from '../../errors.js'

export type RotateAction = 'generate' | 'mark-rotated' | 'skip'

export interface PlannedDecision {
  /** A credential's name (or its id, e.g. file//etc/ssl/private/site.key). */
  name: string
  action: RotateAction
  reason?: string
  /** Where it was asked for, for error messages: --generate, --skip, answers file. */
  from: string
}

const ACTION = z.enum(['generate', 'mark-rotated', 'skip'])
const ANSWER = z.union([ACTION, z.object({action: ACTION, reason: z.string().optional()}).strict()])
const ANSWERS = z.record(z.string().min(1), ANSWER)

/** Parse `--skip NAME=reason`. */
export function parseSkip(arg: string): PlannedDecision {
  const eq = arg.indexOf('=')
  const name = eq < 0 ? arg : arg.slice(0, eq)
  const reason = eq < 0 ? '' : arg.slice(eq + 1).trim()
  if (!name || !reason) {
    throw new AbortError(`--skip ${arg}: a skip needs a reason, as NAME=reason`, {
      exit: 'USAGE',
      hint: 'e.g. --skip "LEGACY_TOKEN=revoked by the vendor on 2026-11-27"',
    })
  }
  return {name, action: 'skip', reason, from: '--skip'}
}

/** Read an answers file: a YAML map NAME -> {action: generate|mark-rotated|skip, reason?} (or just the action). */
export async function loadAnswers(path: string): Promise<PlannedDecision[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new AbortError(`Answers file ${path} ${code === 'ENOENT' ? 'not found' : `cannot be read (${code})`}`, {
      exit: code === 'ENOENT' ? 'NOT_FOUND' : 'USAGE',
    })
  }
  const {parse} = await import('yaml')
  let data: unknown
  try {
    data = parse(text)
  } catch (error) {
    const line = (error as {linePos?: Array<{line: number}>}).linePos?.[0]?.line
    throw new AbortError(`Answers file ${path} is not valid YAML${line ? ` (line ${line})` : ''}`, {exit: 'USAGE'})
  }
  const parsed = ANSWERS.safeParse(data ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new AbortError(
      `Answers file ${path}: ${issue ? `${issue.path.join('.') || '(top)'}: ${issue.message}` : 'invalid'}`,
      {
        exit: 'USAGE',
        hint: 'Expected a map NAME: {action: generate | mark-rotated | skip, reason: "..."} (a skip needs a reason).',
      },
    )
  }
  const out: PlannedDecision[] = []
  for (const [name, answer] of Object.entries(parsed.data)) {
    const action = typeof answer === 'string' ? answer : answer.action
    const reason = typeof answer === 'string' ? undefined : answer.reason?.trim()
    if (action === 'skip' && !reason)
      throw new AbortError(`Answers file ${path}: ${name}: a skip needs a reason`, {exit: 'USAGE'})
    out.push({name, action, ...(reason ? {reason} : {}), from: path})
  }
  return out
}
