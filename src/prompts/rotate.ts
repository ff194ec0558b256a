import {Writable} from 'node:stream'

import type {select as selectPrompt} from '@inquirer/prompts'

import type {CredentialItem, CredentialSource} from '../services/rotate/inventory.js'
import type {RotateChoice} from '../services/rotate/rotate.js'

/** The streams and signal a prompt runs with (process.stderr in the CLI; mock streams in tests). */
export type PromptContext = NonNullable<Parameters<typeof selectPrompt>[1]>

const PROMPT_TIMEOUT_MS = 30 * 60 * 1000

export interface RotationPromptConfig {
  item: CredentialItem
  index: number
  total: number
}

export function describeSource(s: CredentialSource): string {
  const at = s.file ? `${s.file}${s.line ? `:${s.line}` : ''}` : ''
  const svc = s.service ? ` (service ${s.service})` : ''
  const via = s.via ? ` as ${s.via}` : ''
  switch (s.type) {
    case 'dotenv':
      return `.env file ${at}`
    case 'env-file':
      return `env_file ${at}${svc}`
    case 'compose-environment':
      return `environment in ${at}${svc}`
    case 'compose-interpolation':
      return `interpolated in ${at}${svc}${via}`
    case 'compose-secret':
      return `compose secret${s.composeName ? ` "${s.composeName}"` : ''} ${at}${svc}${s.path ? ` file ${s.path}` : ''}${via}`
    case 'container-env':
      return `environment of container ${s.container}${via}`
    case 'container-mount':
      return `mounted in container ${s.container}${s.mountedAt ? ` at ${s.mountedAt}` : ''}${s.path ? ` (host ${s.path})` : ''}`
    case 'swarm':
      return 'swarm (docker secret/config ls)'
    default:
      return at || s.type
  }
}

/** The lines shown above the choice: where the credential is used, why it was flagged, notes. */
export function describeItem(item: CredentialItem): string {
  const lines = [
    `${item.name}  [${item.kind}]${item.seenByCompromised ? '  SEEN BY A COMPROMISED CONTAINER' : ''}`,
    ...item.sources.map((s) => `    used in: ${describeSource(s)}`),
    `    flagged: ${item.reasons.join(', ')}`,
    ...(item.services.length ? [`    services: ${item.services.join(', ')}`] : []),
    ...item.notes.map((n) => `    note: ${n}`),
  ]
  return lines.join('\n')
}

/**
 * Inquirer ends its output stream when a prompt is done. The process's own stderr/stdout are never
 * closed that way, but any other stream (a log, a test's buffer) would be after the first of our
 * chained prompts: give each prompt a view of it that forwards writes and ignores the end.
 */
function keepOpen(out: NodeJS.WritableStream): NodeJS.WritableStream {
  if (out === process.stderr || out === process.stdout) return out
  const view = new Writable({
    write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void) {
      out.write(chunk, callback)
    },
  })
  for (const prop of ['columns', 'rows', 'isTTY'])
    Object.defineProperty(view, prop, {get: () => (out as unknown as Record<string, unknown>)[prop]})
  return view
}

async function loadPrompts(): Promise<typeof import('@inquirer/prompts')> {
  return import('@inquirer/prompts')
}

/**
 * Ask what to do with one credential: generate a new value now, mark it rotated elsewhere, skip it
 * (a reason is required), or leave (stop here; the next run resumes at this credential).
 * Ctrl-C counts as leaving. Prompts write to stderr so stdout stays for results.
 */
export async function askRotation(config: RotationPromptConfig, context: PromptContext = {}): Promise<RotateChoice> {
  const {select, input} = await loadPrompts()
  const base: PromptContext = {
    output: process.stderr,
    ...context,
    ...(context.signal ? {} : {signal: AbortSignal.timeout(PROMPT_TIMEOUT_MS)}),
  }
  const ctx = (): PromptContext => ({...base, output: keepOpen(base.output ?? process.stderr)})
  const {item, index, total} = config
  try {
    const action = await select<'generate' | 'mark-rotated' | 'skip' | 'leave'>(
      {
        message: `Credential ${index} of ${total}: ${describeItem(item)}\n  What now?`,
        choices: [
          {
            value: 'generate',
            name: 'Generate a new value now',
            description: item.canGenerate
              ? `Written into ${item.editableFiles.join(', ')} (a backup is kept next to it)`
              : undefined,
            disabled: item.canGenerate ? false : '(not in a .env file ir can edit)',
          },
          {value: 'mark-rotated', name: 'Mark as rotated elsewhere (e.g. at the provider)'},
          {value: 'skip', name: 'Skip (a reason is required)'},
          {value: 'leave', name: 'Leave: stop for now (run again to resume here)'},
        ],
        default: item.canGenerate ? 'generate' : 'mark-rotated',
      },
      ctx(),
    )
    if (action === 'leave') return {action: 'leave'}
    if (action === 'skip') {
      const reason = await input(
        {
          message: `Why is ${item.name} not rotated? (required)`,
          validate: (v) => (v.trim() ? true : 'A reason is required to skip a credential.'),
        },
        ctx(),
      )
      return {action: 'skip', reason: reason.trim()}
    }
    return {action}
  } catch (error) {
    const name = (error as Error).name
    if (name === 'ExitPromptError') return {action: 'leave', interrupted: true}
    if (name === 'AbortPromptError') return {action: 'leave'}
    throw error
  }
}
