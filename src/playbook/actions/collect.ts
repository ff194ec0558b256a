import {z} from 'zod/v4'

import {AbortError} from '../../errors.js'
import {parseTimePoint} from '../../util/time.js'
import {
  artifactsSince,
  caseFiles,
  containerList,
  defineAction,
  optionalString,
  resolvedNames,
  stepHosts,
} from './define.js'

export const collect = defineAction({
  name: 'collect',
  phase: 'evidence',
  destructive: false,
  params: z.object({containers: containerList, since: optionalString, until: optionalString}),
  describe: (p) =>
    `Preserve the logs of ${p.containers.join(', ')} (stdout and stderr, timestamped) with the inspect, processes, diff, a stats sample and the engine events, in one hashed archive each. Reading only: nothing changes on the container.`,
  async plan(p, ctx) {
    return {
      summary: 'collect',
      containers: await resolvedNames(ctx, p.containers),
      operations: [
        'docker logs --timestamps (stdout and stderr separately)',
        'docker inspect, top, diff, stats, events -> one .tar.gz with SHA256SUMS',
      ],
      files: caseFiles(ctx.kase, ['evidence/<container>/collect-<time>.tar.gz']),
    }
  },
  async run(p, ctx) {
    const {collectOnHosts} = await import('../../services/evidence/collect.js')
    const {collectOptions, selectionOf} = await import('../../services/step-options.js')
    const r = await collectOnHosts(
      collectOptions(await stepHosts(ctx), {
        selection: selectionOf({refs: p.containers}),
        kase: ctx.kase,
        since: p.since ? parseTimePoint(p.since, 'since') : undefined,
        until: p.until ? parseTimePoint(p.until, 'until') : undefined,
        signal: ctx.signal,
        progress: ctx.progress,
      }),
    )
    const bad = r.containers.filter((c) => c.status === 'failed')
    if (bad.length > 0)
      throw new AbortError(
        `collection failed for ${bad.map((b) => `${b.name ?? b.ref}: ${b.error?.message}`).join('; ')}`,
        {exit: bad[0]?.error?.code ?? 'FAILURE'},
      )
    return {
      containers: r.containers.map((c) => ({
        name: c.name,
        logs: c.logs,
        archive: c.archive?.path,
        sha256: c.archive?.sha256,
      })),
    }
  },
  async recheck(p, ctx) {
    const arts = await artifactsSince(ctx, p.containers, 'log-archive')
    return arts
      ? {containers: arts.map((a) => ({id: a.containerId, archive: a.path, sha256: a.sha256})), recovered: true}
      : undefined
  },
})
