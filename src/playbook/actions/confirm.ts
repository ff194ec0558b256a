import {z} from 'zod/v4'

import {AbortError} from '../../errors.js'
import {defineAction} from './define.js'

export const confirm = defineAction({
  name: 'confirm',
  phase: 'gate',
  destructive: false,
  params: z.object({message: z.string().min(1)}),
  describe: (p) => `Approval gate: ${p.message}`,
  async plan(p) {
    return {summary: 'approval gate', containers: [], operations: [`ask: ${p.message}`], files: []}
  },
  async run(p, ctx) {
    if (ctx.human.confirm) {
      const ok = await ctx.human.confirm(p.message)
      if (!ok) throw new AbortError(`Not approved: ${p.message}`, {exit: 'CONFIRMATION_REQUIRED'})
      return {approvedBy: 'responder'}
    }
    if (!ctx.yes)
      throw new AbortError(`Approval needed: ${p.message}`, {
        exit: 'CONFIRMATION_REQUIRED',
        hint: 'Run on a TTY to approve, or give --yes.',
      })
    return {approvedBy: '--yes'}
  },
})
