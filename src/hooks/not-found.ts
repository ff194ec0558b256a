import type {Hook} from '@oclif/core'
import {toConfiguredId} from '@oclif/core'

import {ExitCode} from '../errors.js'
import {terminalSafe} from '../util/controls.js'

/** Exit code of an unknown command (the code @oclif/plugin-not-found uses, like a shell's "command not found"). */
export const UNKNOWN_COMMAND_EXIT = ExitCode.UNKNOWN_COMMAND

/**
 * A mistyped command. On a terminal, @oclif/plugin-not-found asks "Did you mean isolate?" and runs it with
 * the same arguments when the answer is yes (its prompt gives up after 10 s). Without a terminal it would name
 * no command, so ir says the closest one in its own error format (one line, then a hint) and exits 127.
 */
const hook: Hook.CommandNotFound = async function (opts) {
  if (process.stdin.isTTY && process.stderr.isTTY) {
    const {default: pluginHook} = await import('@oclif/plugin-not-found')
    return pluginHook.call(this, opts)
  }
  const {default: levenshtein} = await import('fast-levenshtein')
  const hidden = new Set(opts.config.commands.filter((c) => c.hidden).map((c) => c.id))
  const ids = [...opts.config.commandIDs, ...opts.config.commands.flatMap((c) => c.aliases)].filter(
    (id) => !hidden.has(id),
  )
  const typed = toConfiguredId(opts.id, opts.config)
  const bin = opts.config.bin
  // Closest to the whole typed id, and to its first words (`isolat web` is the command `isolat` and an argument).
  const words = opts.id.split(':')
  let best: {id: string; distance: number} | undefined
  for (let n = words.length; n >= 1; n--) {
    const prefix = words.slice(0, n).join(':')
    for (const id of ids) {
      const distance = levenshtein.get(prefix, id)
      if (best === undefined || distance < best.distance) best = {id, distance}
    }
  }
  const near =
    best && best.distance <= Math.max(2, Math.floor(best.id.length / 3))
      ? toConfiguredId(best.id, opts.config)
      : undefined
  process.stderr.write(`Error: ${terminalSafe(`"${bin} ${typed}" is not an ${bin} command.`, false)}\n`)
  process.stderr.write(
    `Hint: ${terminalSafe(near ? `Did you mean "${bin} ${near}"? Run "${bin} help" for the list of commands.` : `Run "${bin} help" for the list of commands.`, false)}\n`,
  )
  this.exit(UNKNOWN_COMMAND_EXIT)
}

export default hook
