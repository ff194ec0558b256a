import {z} from 'zod/v4'

import type {ComposeClient} from '../../docker/compose.js'
import {resolveProject} from '../../docker/compose.js'
import {AbortError} from '../../errors.js'
import {caseFiles, defineAction, optionalString, resolvedNames, stringList} from './define.js'

async function auditProjectName(
  p: {project?: string | undefined; 'project-directory'?: string | undefined},
  ctx: {compose: () => Promise<ComposeClient>; cwd: string},
): Promise<string | undefined> {
  if (p.project) return p.project
  if (!p['project-directory']) return undefined
  const compose = await ctx.compose()
  return (await resolveProject(compose.flavor, {projectDirectory: p['project-directory']}, ctx.cwd)).name
}

export const audit = defineAction({
  name: 'audit',
  phase: 'recovery',
  destructive: false,
  params: z.object({
    containers: stringList.default([]),
    project: optionalString,
    'project-directory': optionalString,
    'fail-on': z.enum(['critical', 'high', 'medium', 'low']).optional(),
  }),
  describe: (p) =>
    `Check the hardening of ${p.project ? `the containers of project ${p.project}` : p['project-directory'] ? `the containers of the compose project in ${p['project-directory']}` : p.containers.join(', ')} against the CIS Docker Benchmark 1.6.0 (sections 4 and 5: non-root, capabilities, read-only, limits, no Docker socket, exposure, health checks...) and ir's own checks (PID 1's uid, log rotation, image age) and store the findings, with their CIS ids, in the case. Read-only: no exec, no pause.`,
  async plan(p, ctx) {
    const project = await auditProjectName(p, ctx)
    return {
      summary: 'hardening audit',
      containers: project ? [`every container of project ${project}`] : await resolvedNames(ctx, p.containers),
      operations: ['inspect each container and its image; read the uid of PID 1', 'no change'],
      files: caseFiles(ctx.kase, ['evidence/audit/hardening-audit-<time>.json']),
    }
  },
  async run(p, ctx) {
    const {auditContainers, hasFindingsAtOrAbove} = await import('../../services/audit.js')
    const project = await auditProjectName(p, ctx)
    if (!project && p.containers.length === 0)
      throw new AbortError('audit needs containers, a project or a project-directory', {exit: 'USAGE'})
    const r = await auditContainers({
      engine: await ctx.engine(),
      ...(project ? {project} : {targets: p.containers}),
      kase: ctx.kase,
      signal: ctx.signal,
      progress: ctx.progress,
    })
    if (!r.ok)
      throw new AbortError(`audit could not check ${r.failed.map((f) => `${f.ref}: ${f.error.message}`).join('; ')}`)
    if (p['fail-on'] && hasFindingsAtOrAbove(r, p['fail-on']))
      throw new AbortError(`hardening findings at or above ${p['fail-on']}`, {exit: 'AUDIT_FAILED'})
    // The findings themselves, most severe first (critical and high), so the walkthrough can show them, not only counts.
    const rank = {critical: 0, high: 1} as Record<string, number>
    const findings = r.containers
      .flatMap((c) =>
        c.findings
          .filter((f) => (f.kind ?? 'fail') === 'fail' && f.severity in rank)
          .map((f) => ({severity: f.severity, container: c.name, id: f.id, message: f.message})),
      )
      .sort((a, b) => rank[a.severity]! - rank[b.severity]!)
    return {
      totals: r.totals,
      evidence: r.evidence,
      failing: r.containers.filter((c) => !c.pass).map((c) => c.name),
      findings,
    }
  },
})
