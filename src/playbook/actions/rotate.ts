import {z} from 'zod/v4'

import type {Engine} from '../../docker/types.js'
import {AbortError} from '../../errors.js'
import {type RotateInput, rotateHasDecisions, rotateOptions} from '../../services/step-options.js'
import {bool, caseFiles, defineAction, optionalString, stringList} from './define.js'

type RotateParams = {
  'project-directory'?: string | undefined
  files: string[]
  'env-file': string[]
  containers: string[]
  generate: string[]
  'mark-rotated': string[]
  skip: string[]
  answers?: string | undefined
  'require-all': boolean
  length: number
}

/** What plan and run both give rotateCredentials: the command's own input, from the params. */
function rotateInput(p: RotateParams, cwd: string): RotateInput {
  return {
    cwd,
    files: p.files,
    projectDirectory: p['project-directory'],
    envFiles: p['env-file'],
    containers: p.containers,
    generate: p.generate,
    markRotated: p['mark-rotated'],
    skip: p.skip,
    answersFile: p.answers,
    length: p.length,
    alphabet: 'url-safe',
  }
}

export const rotate = defineAction({
  name: 'rotate',
  phase: 'eradication',
  destructive: true,
  params: z.object({
    'project-directory': optionalString,
    files: stringList.default([]),
    'env-file': stringList.default([]),
    containers: stringList.default([]),
    generate: stringList.default([]),
    'mark-rotated': stringList.default([]),
    skip: stringList.default([]),
    answers: optionalString,
    'require-all': bool.default(false),
    length: z.coerce.number().int().min(16).max(256).default(32),
  }),
  describe: () =>
    'Rotate every credential the attacker could have read: the inventory comes from the compose project, its .env files, swarm secrets and the compromised containers; each one is given a new value, marked as rotated elsewhere, or skipped with a reason. No value is ever recorded.',
  async plan(p, ctx) {
    const {rotateCredentials} = await import('../../services/rotate/rotate.js')
    let engine: Engine | undefined
    try {
      engine = await ctx.engine()
    } catch {
      engine = undefined
    }
    const r = await rotateCredentials(
      rotateOptions(rotateInput(p, ctx.cwd), {
        ...(ctx.kase ? {kase: ctx.kase} : {}),
        dryRun: true,
        ...(engine ? {engine} : {}),
      }),
    )
    return {
      summary: `rotate: ${r.inventory.length} credential(s) in scope`,
      containers: r.containers.map((c) => (c as {name?: string}).name ?? String((c as {ref?: string}).ref ?? '')),
      operations: [
        ...r.inventory.map((i) => `${i.name} (${i.kind})${i.decision ? `: already ${i.decision}` : ''}`),
        ...r.planned.map((a) => `${a.action} ${a.name}${a.files?.length ? ` -> ${a.files.join(', ')}` : ''}`),
      ],
      files: [
        ...new Set(r.planned.flatMap((a) => a.files ?? []).flatMap((f) => [f, `${f}.ir-backup-<time>`])),
        ...caseFiles(ctx.kase, ['state/rotation.json']),
      ],
    }
  },
  async run(p, ctx) {
    const {rotateCredentials} = await import('../../services/rotate/rotate.js')
    let engine: Engine | undefined
    let engineError: unknown
    try {
      engine = await ctx.engine()
    } catch (error) {
      engineError = error
    }
    const input = rotateInput(p, ctx.cwd)
    const r = await rotateCredentials(
      rotateOptions(input, {
        kase: ctx.kase,
        ...(engine ? {engine} : {engineError}),
        ...(!rotateHasDecisions(input) && ctx.human.decideRotation ? {decide: ctx.human.decideRotation} : {}),
        confirm: async () => {
          if (ctx.yes || ctx.human.confirm) return
          throw new AbortError('Refusing to write credentials without confirmation: no TTY', {
            exit: 'CONFIRMATION_REQUIRED',
            hint: 'Re-run with --yes.',
          })
        },
        progress: ctx.progress,
      }),
    )
    if (r.failures.length > 0)
      throw new AbortError(`rotation failed for ${r.failures.map((f) => `${f.name}: ${f.message}`).join('; ')}`)
    if (r.interrupted)
      throw new AbortError('Rotation walkthrough interrupted; decisions so far are kept.', {exit: 'INTERRUPTED'})
    if (p['require-all'] && r.summary.remaining + r.summary.skipped > 0) {
      throw new AbortError(
        `require-all: ${r.summary.remaining + r.summary.skipped} credential(s) not rotated: ${[...r.summary.remainingNames, ...r.summary.skippedNames].join(', ')}`,
      )
    }
    return {summary: r.summary, left: r.left}
  },
})
