import {z} from 'zod/v4'

import {AbortError} from '../../errors.js'
import {caseFiles, containerList, defineAction, resolvedNames, stepHosts} from './define.js'

export const release = defineAction({
  name: 'release',
  phase: 'recovery',
  destructive: true,
  params: z.object({containers: containerList}),
  describe: (p) =>
    `Undo the isolation of ${p.containers.join(', ')}: reconnect their recorded networks and resume their processes. Only do this once the container is trusted again.`,
  async plan(p, ctx) {
    return {
      summary: 'release',
      containers: await resolvedNames(ctx, p.containers),
      operations: [
        'reconnect every recorded network endpoint (aliases, static IPs)',
        'unpause (or start) each container',
      ],
      files: caseFiles(ctx.kase, ['state/containment.json']),
    }
  },
  async run(p, ctx) {
    const {releaseOnHosts} = await import('../../services/release.js')
    const {releaseOptions, selectionOf} = await import('../../services/step-options.js')
    const r = await releaseOnHosts(
      releaseOptions(await stepHosts(ctx), {
        selection: selectionOf({refs: p.containers}),
        store: ctx.store,
        kase: ctx.kase,
        dryRun: false,
        signal: ctx.signal,
        progress: ctx.progress,
      }),
    )
    const failed = r.containers.filter((c) => c.status === 'failed' || c.status === 'partial')
    if (failed.length > 0)
      throw new AbortError(
        `release failed for ${failed.map((f) => `${f.name ?? f.ref}: ${f.error?.message}`).join('; ')}`,
      )
    return {containers: r.containers.map((c) => ({name: c.name, status: c.status, state: c.stateAfter}))}
  },
})
