import {z} from 'zod/v4'

import {AbortError} from '../../errors.js'
import {artifactsSince, bool, caseFiles, containerList, defineAction, resolvedNames, stepHosts} from './define.js'

export const snapshot = defineAction({
  name: 'snapshot',
  phase: 'evidence',
  destructive: false,
  params: z.object({
    containers: containerList,
    export: bool.default(true),
    volumes: bool.default(false),
    live: bool.default(true),
    memory: bool.default(false),
  }),
  describe: (p) =>
    `Preserve a forensic snapshot of ${p.containers.join(', ')}: commit it to a labelled evidence image ir never deletes, save that image${p.export ? ' and the whole filesystem (indexed, every file hashed)' : ''} into the case, with the diff and the process list.`,
  async plan(p, ctx) {
    return {
      summary: 'snapshot',
      containers: await resolvedNames(ctx, p.containers),
      operations: [
        ...(p.live
          ? [`live state from /proc while frozen (processes, sockets, executables${p.memory ? ', memory' : ''})`]
          : []),
        'docker commit (paused during the commit) -> ir-evidence/<case>:<container>-<time>, labelled ir.evidence=true',
        'docker save of that image (config secrets redacted) -> the case',
        'docker diff, docker top, list of mounts -> the case',
        ...(p.export ? ['docker export -> the case, indexed while it streams'] : []),
        ...(p.volumes ? ['archive each mounted volume and bind mount'] : []),
      ],
      files: caseFiles(ctx.kase, [
        'evidence/<container>/image-<time>.tar',
        'evidence/<container>/diff-<time>.json',
        'evidence/<container>/processes-<time>.json',
        'evidence/<container>/mounts-<time>.json',
        ...(p.export
          ? ['evidence/<container>/export-<time>.tar', 'evidence/<container>/export-index-<time>.jsonl']
          : []),
      ]),
    }
  },
  async run(p, ctx) {
    const {snapshotOnHosts} = await import('../../services/evidence/snapshot.js')
    const {selectionOf, snapshotOptions} = await import('../../services/step-options.js')
    const r = await snapshotOnHosts(
      snapshotOptions(await stepHosts(ctx), {
        selection: selectionOf({refs: p.containers}),
        kase: ctx.kase,
        export: p.export,
        volumes: p.volumes,
        live: p.live,
        memory: p.memory,
        signal: ctx.signal,
        progress: ctx.progress,
      }),
    )
    const bad = r.containers.filter((c) => c.status !== 'snapshotted')
    if (bad.length > 0)
      throw new AbortError(
        `snapshot failed for ${bad.map((b) => `${b.name ?? b.ref}: ${b.error?.message ?? b.failures.map((f) => `${f.step}: ${f.error.message}`).join(', ')}`).join('; ')}`,
        {exit: bad[0]?.error?.code ?? 'FAILURE'},
      )
    return {
      containers: r.containers.map((c) => ({
        name: c.name,
        id: c.id,
        image: c.image?.tag,
        artifacts: c.artifacts.map((a) => ({id: a.id, path: a.path, sha256: a.sha256})),
      })),
    }
  },
  async recheck(p, ctx) {
    const arts = await artifactsSince(ctx, p.containers, 'image-tar')
    return arts
      ? {
          containers: arts.map((a) => ({id: a.containerId, artifacts: [{id: a.id, path: a.path, sha256: a.sha256}]})),
          recovered: true,
        }
      : undefined
  },
})
