import {z} from 'zod/v4'

import {AbortError} from '../../errors.js'
import {defineAction} from './define.js'

export const note = defineAction({
  name: 'note',
  phase: 'gate',
  destructive: false,
  params: z.object({text: z.string().min(1)}),
  describe: (p) => `Checklist item: ${p.text}`,
  async plan(p) {
    return {summary: 'checklist item', containers: [], operations: [`tick: ${p.text}`], files: []}
  },
  async run(p, ctx) {
    if (ctx.human.confirm) {
      const done = await ctx.human.confirm(`Done? ${p.text}`)
      if (!done) throw new AbortError(`Checklist item not done: ${p.text}`, {exit: 'CONFIRMATION_REQUIRED'})
      return {ticked: 'responder'}
    }
    ctx.progress(`  checklist: ${p.text}`)
    return {ticked: ctx.yes ? '--yes' : 'listed'}
  },
})
