import {z} from 'zod/v4'

import {resolveProject} from '../../docker/compose.js'
import {AbortError} from '../../errors.js'
import {composeProjectInput, type RebuildInput, rebuildOptions} from '../../services/step-options.js'
import {bool, caseFiles, defineAction, optionalString, stringList, type PlanContext} from './define.js'

type RebuildParams = {
  'project-directory'?: string | undefined
  files: string[]
  'project-name'?: string | undefined
  offline: boolean
  'save-evidence': boolean
  volumes: boolean
  'wait-timeout': number
  grace: number
  audit: boolean
}

/** The compose project a step names, its client, and the rebuild settings plan and run share. */
async function rebuildInput(p: RebuildParams, ctx: PlanContext) {
  const compose = await ctx.compose()
  const project = await resolveProject(
    compose.flavor,
    composeProjectInput({files: p.files, projectDirectory: p['project-directory'], projectName: p['project-name']}),
    ctx.cwd,
  )
  const settings = (dryRun: boolean): RebuildInput => ({
    dryRun,
    volumes: p.volumes,
    pruneHost: false,
    offline: p.offline,
    saveEvidence: p['save-evidence'],
    waitTimeoutSeconds: p['wait-timeout'],
    graceSeconds: p.grace,
    audit: p.audit,
  })
  return {compose, project, settings}
}

export const rebuild = defineAction({
  name: 'rebuild',
  phase: 'recovery',
  destructive: true,
  params: z.object({
    'project-directory': optionalString,
    files: stringList.default([]),
    'project-name': optionalString,
    offline: bool.default(false),
    'save-evidence': bool.default(true),
    volumes: bool.default(false),
    'wait-timeout': z.coerce.number().int().positive().default(120),
    grace: z.coerce.number().int().min(0).default(5),
    audit: bool.default(true),
  }),
  describe: (p) =>
    `Apply patches through a clean rebuild of the compose project${p['project-directory'] ? ` in ${p['project-directory']}` : ''}: build without cache from ${p.offline ? 'the local' : 'freshly pulled'} base images, take the old containers down, start new ones and wait until healthy. Evidence images and other projects are never touched.`,
  async plan(p, ctx) {
    const {planRebuild} = await import('../../services/rebuild/rebuild.js')
    const {compose, project, settings} = await rebuildInput(p, ctx)
    const plan = await planRebuild(
      rebuildOptions(settings(true), {engine: await ctx.engine(), compose, project, kase: ctx.kase}),
    )
    return {
      summary: `rebuild project ${project.name}`,
      containers: plan.containers.map((c) => `${c.name} (${c.id.slice(0, 12)})`),
      operations: [
        ...plan.commands,
        ...plan.imagesToRemove.map((i) => `remove the former image of ${i.service} (${i.ref})`),
        'wait for healthy services',
        ...(p.audit ? ['hardening audit of the new containers'] : []),
        ...plan.warnings.map((w) => `! ${w}`),
      ],
      files: caseFiles(ctx.kase, [
        'evidence/rebuild/compose-<project>-<time>.log',
        'evidence/rebuild/rebuild-<project>-<time>.json',
      ]),
    }
  },
  async run(p, ctx) {
    const {rebuildProject} = await import('../../services/rebuild/rebuild.js')
    const {compose, project, settings} = await rebuildInput(p, ctx)
    const r = await rebuildProject(
      rebuildOptions(settings(false), {
        engine: await ctx.engine(),
        compose,
        project,
        kase: ctx.kase,
        signal: ctx.signal,
        progress: ctx.progress,
        ...(ctx.fold ? {composeFold: ctx.fold('compose')} : {onComposeLine: (l: string) => ctx.progress(`  | ${l}`)}),
      }),
    )
    if (!r.ok)
      throw new AbortError(
        `rebuild of ${project.name} did not finish healthy: ${r.services
          .filter((s) => !s.ok)
          .map((s) => `${s.service} (${s.health})`)
          .join(', ')}`,
      )
    return {
      project: project.name,
      services: r.services.map((s) => ({service: s.service, health: s.health, image: s.image})),
      imagesBefore: r.imagesBefore,
      imagesAfter: r.imagesAfter,
    }
  },
  async recheck(_p, ctx) {
    const {readAuditEntries} = await import('../../services/report/audit-entries.js')
    const entries = await readAuditEntries(ctx.kase.audit.path)
    const done = entries.find(
      (e) => e.readable && e.action === 'rebuild' && e.outcome === 'success' && e.time >= ctx.stepStartedAt,
    )
    return done?.readable ? {recovered: true, project: done.target} : undefined
  },
})
