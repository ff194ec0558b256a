import {AbortError} from '../errors.js'

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY)
}

const PROMPT_TIMEOUT_MS = 10 * 60 * 1000

/**
 * Confirm a state-changing step. With --yes: proceed. Without a TTY: refuse (exit 7) and say how
 * to proceed. On a TTY: ask on stderr, with a timeout so an abandoned terminal does not hang.
 */
export async function confirmOrAbort(
  question: string,
  opts: {yes: boolean; what: string; hasDryRun?: boolean},
): Promise<void> {
  if (opts.yes) return
  if (!isInteractive()) {
    throw new AbortError(`Refusing to ${opts.what} without confirmation: no TTY`, {
      exit: 'CONFIRMATION_REQUIRED',
      hint:
        opts.hasDryRun === false
          ? 'Re-run with --yes to confirm.'
          : 'Re-run with --yes to confirm, or --dry-run to see the plan.',
    })
  }
  const {confirm} = await import('@inquirer/prompts')
  let ok: boolean
  try {
    ok = await confirm(
      {message: question, default: false},
      {output: process.stderr, signal: AbortSignal.timeout(PROMPT_TIMEOUT_MS)},
    )
  } catch (error) {
    const name = (error as Error).name
    if (name === 'ExitPromptError')
      throw new AbortError('Cancelled at the prompt; nothing was changed.', {exit: 'INTERRUPTED'})
    if (name === 'AbortPromptError')
      throw new AbortError('No answer at the prompt in 10 minutes; nothing was changed.', {
        exit: 'CONFIRMATION_REQUIRED',
      })
    throw error
  }
  if (!ok) throw new AbortError('Not confirmed; nothing was changed.', {exit: 'CONFIRMATION_REQUIRED'})
}
