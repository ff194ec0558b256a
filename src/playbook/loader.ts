import {readFile, stat} from 'node:fs/promises'
import {createHash} from 'node:crypto'

import {isMap, isNode, isScalar, LineCounter, parseDocument, type Document} from 'yaml'

import {AbortError} from '../errors.js'
import {referencedInputs} from './expressions.js'
import {ACTIONS, type Playbook, PlaybookSchema} from './schema.js'

export interface PlaybookProblem {
  file: string
  line: number
  column: number
  message: string
}

export interface LoadedPlaybook {
  file: string
  sha256: string
  playbook: Playbook
  /** Where each step starts in the file, by step id. */
  stepLines: Record<string, number>
  /** Where each input is declared. */
  inputLines: Record<string, {line: number; column: number}>
}

export class PlaybookInvalidError extends AbortError {
  constructor(readonly problems: PlaybookProblem[]) {
    super(
      `Playbook ${problems[0]?.file ?? ''} is invalid: ${problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('; ')}`,
      {
        exit: 'USAGE',
        hint: 'Check it with `ir playbook validate <file>`; the JSON Schema for editors is schemas/playbook.schema.json.',
      },
    )
    this.name = 'PlaybookInvalidError'
  }
}

/** Parse and check a playbook: YAML syntax, the schema, then references (ids, requires, inputs, cycles). */
export function parsePlaybook(
  text: string,
  file: string,
): {
  playbook?: Playbook
  problems: PlaybookProblem[]
  stepLines: Record<string, number>
  inputLines: Record<string, {line: number; column: number}>
} {
  if (Buffer.byteLength(text) > MAX_PLAYBOOK_BYTES) {
    return {
      problems: [
        {
          file,
          line: 1,
          column: 1,
          message: `the file is ${Buffer.byteLength(text)} bytes; a playbook may hold at most ${MAX_PLAYBOOK_BYTES} bytes`,
        },
      ],
      stepLines: {},
      inputLines: {},
    }
  }
  const lc = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lc, prettyErrors: false, uniqueKeys: true})
  const problems: PlaybookProblem[] = []
  const at = (offset: number | undefined, message: string): void => {
    const pos = lc.linePos(offset ?? 0)
    problems.push({file, line: pos.line, column: pos.col, message})
  }
  for (const e of doc.errors) at(e.pos[0], `YAML syntax: ${e.message.split('\n')[0]}`)
  if (problems.length > 0) return {problems, stepLines: {}, inputLines: {}}

  const nodeAt = (path: ReadonlyArray<PropertyKey>): {offset: number; keyOffset?: number} => {
    // Walk up the path until a node exists (a missing key is reported at its parent).
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true)
      if (isNode(node) && node.range) return {offset: node.range[0]}
    }
    return {offset: 0}
  }
  let data: unknown
  try {
    // An alias bomb (aliases of aliases) would expand to gigabytes: the expansion is bounded.
    data = doc.toJS({maxAliasCount: MAX_ALIASES}) as unknown
  } catch (error) {
    at(0, `YAML: ${(error as Error).message.split('\n')[0]} (at most ${MAX_ALIASES} alias expansions)`)
    return {problems, stepLines: {}, inputLines: {}}
  }
  const parsed = PlaybookSchema.safeParse(data)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const where = issue.path.length ? issue.path.join('.') : 'the document'
      let message = issue.message
      if (issue.code === 'invalid_value' && issue.path.at(-1) === 'action')
        message = `unknown action; expected one of ${ACTIONS.join(', ')}`
      if (issue.code === 'unrecognized_keys')
        message = `unknown key(s) ${(issue as {keys: string[]}).keys.map((k) => `"${k}"`).join(', ')}`
      at(nodeAt(issue.path).offset, `${where}: ${message}`)
    }
    return {problems, stepLines: {}, inputLines: {}}
  }
  const playbook = parsed.data
  const inputLines: Record<string, {line: number; column: number}> = {}
  const inputsNode = doc.get('inputs', true)
  for (const name of Object.keys(playbook.inputs ?? {})) {
    // Point at the input's name (the key), not at its value.
    const pair = isMap(inputsNode)
      ? inputsNode.items.find((it) => isScalar(it.key) && it.key.value === name)
      : undefined
    const offset = pair && isScalar(pair.key) && pair.key.range ? pair.key.range[0] : nodeAt(['inputs', name]).offset
    const pos = lc.linePos(offset)
    inputLines[name] = {line: pos.line, column: pos.col}
  }
  const stepLines: Record<string, number> = {}
  const ids = new Map<string, number>()
  playbook.steps.forEach((s, i) => {
    const off = nodeAt(['steps', i]).offset
    stepLines[s.id] = lc.linePos(off).line
    if (ids.has(s.id)) at(nodeAt(['steps', i, 'id']).offset, `steps.${i}.id: duplicate step id "${s.id}"`)
    ids.set(s.id, i)
  })
  const inputs = playbook.inputs ?? {}
  playbook.steps.forEach((s, i) => {
    for (const [j, r] of (s.requires ?? []).entries()) {
      if (!ids.has(r)) at(nodeAt(['steps', i, 'requires', j]).offset, `steps.${i}.requires: no step with id "${r}"`)
      else if (r === s.id)
        at(nodeAt(['steps', i, 'requires', j]).offset, `steps.${i}.requires: a step cannot require itself`)
    }
    const texts = [JSON.stringify(s.with ?? {}), typeof s.when === 'string' ? s.when : '']
    for (const name of texts.flatMap(referencedInputs)) {
      if (!(name in inputs))
        at(
          nodeAt(['steps', i, typeof s.when === 'string' && s.when.includes(name) ? 'when' : 'with']).offset,
          `steps.${i}: refers to undeclared input "${name}"`,
        )
    }
  })
  // Cycles in requires (a step may only require steps that can finish before it).
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (sid: string, trail: string[]): void => {
    if (state.get(sid) === 'done') return
    if (state.get(sid) === 'visiting') {
      const i = ids.get(sid)!
      at(
        nodeAt(['steps', i, 'requires']).offset,
        `steps.${i}.requires: cycle ${[...trail.slice(trail.indexOf(sid)), sid].join(' -> ')}`,
      )
      return
    }
    state.set(sid, 'visiting')
    const step = playbook.steps[ids.get(sid)!]
    for (const r of step?.requires ?? []) if (ids.has(r) && r !== sid) visit(r, [...trail, sid])
    state.set(sid, 'done')
  }
  for (const s of playbook.steps) visit(s.id, [])
  // A step may only require steps listed before it: the runner goes in order.
  playbook.steps.forEach((s, i) => {
    for (const [j, r] of (s.requires ?? []).entries()) {
      const ri = ids.get(r)
      if (ri !== undefined && ri > i && !problems.some((p) => p.message.includes('cycle')))
        at(
          nodeAt(['steps', i, 'requires', j]).offset,
          `steps.${i}.requires: "${r}" comes later in the playbook; steps run in order`,
        )
    }
  })
  return {...(problems.length === 0 ? {playbook} : {}), problems, stepLines, inputLines}
}

/** Bounds that keep a hostile playbook from taking the machine's memory. */
export const MAX_PLAYBOOK_BYTES = 1024 * 1024
export const MAX_ALIASES = 100

/** Read a playbook file, refusing one over the size bound before reading it (exit 2). */
export async function readPlaybookText(file: string): Promise<string> {
  const st = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw new AbortError(`Playbook not found: ${file}`, {
        exit: 'NOT_FOUND',
        hint: 'List playbooks with `ir playbook list`.',
      })
    throw error
  })
  if (!st.isFile()) throw new AbortError(`Playbook ${file} is not a file`, {exit: 'USAGE'})
  if (st.size > MAX_PLAYBOOK_BYTES)
    throw new PlaybookInvalidError([
      {
        file,
        line: 1,
        column: 1,
        message: `the file is ${st.size} bytes; a playbook may hold at most ${MAX_PLAYBOOK_BYTES} bytes`,
      },
    ])
  return readFile(file, 'utf8')
}

export async function loadPlaybook(file: string): Promise<LoadedPlaybook> {
  let text: string
  try {
    text = await readPlaybookText(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AbortError(`Playbook not found: ${file}`, {
        exit: 'NOT_FOUND',
        hint: 'List playbooks with `ir playbook list`.',
      })
    throw error
  }
  const {playbook, problems, stepLines, inputLines} = parsePlaybook(text, file)
  if (!playbook) throw new PlaybookInvalidError(problems)
  return {file, sha256: createHash('sha256').update(text).digest('hex'), playbook, stepLines, inputLines}
}

export type {Document}
