import {z} from 'zod/v4'

import type {Case, CaseStore} from '../../case/case-store.js'
import type {Clients} from '../../docker/engine-factory.js'
import type {ComposeClient} from '../../docker/compose.js'
import type {Engine} from '../../docker/types.js'
import type {HostSet} from '../../docker/hosts.js'
import {resolveContainers} from '../../services/targets.js'
import type {Logger} from '../../util/logger.js'
import type {OutputFold} from '../../util/output-fold.js'
import type {ActionName} from '../schema.js'
import type {HumanInterface, StepPlan} from '../types.js'

/**
 * What every playbook action is made of: its params schema, a description, a plan (dry run) and a run, each
 * given the clients the command layer wired (engines, host sets, compose, prompts). One file per action beside
 * this one; index.ts lists them.
 */

export type Phase = 'containment' | 'evidence' | 'eradication' | 'recovery' | 'lessons' | 'gate'

export interface StepContext {
  kase: Case
  store: CaseStore
  engine: () => Promise<Engine>
  compose: () => Promise<ComposeClient>
  hosts: Clients['hosts']
  cwd: string
  yes: boolean
  human: HumanInterface
  signal: AbortSignal
  progress: (line: string) => void
  /** Fold a long external command's output (compose) into one progress line; without it, lines go to progress. */
  fold?: (label: string) => OutputFold
  log: Logger
  /** When this step (attempt) started: used to recognise work a crashed attempt already finished. */
  stepStartedAt: string
}

export interface PlanContext {
  kase?: Case
  engine: () => Promise<Engine>
  compose: () => Promise<ComposeClient>
  hosts: Clients['hosts']
  cwd: string
}

export type Outputs = Record<string, unknown>

export interface ActionDef<P = Record<string, unknown>> {
  name: ActionName
  phase: Phase
  /** Changes or removes something that cannot simply be undone: needs approval. */
  destructive: boolean
  params: z.ZodType<P>
  describe(p: P): string
  plan(p: P, ctx: PlanContext): Promise<StepPlan>
  run(p: P, ctx: StepContext): Promise<Outputs>
  /** After a crash mid-step: the outputs if the step's work is already done (so it is not repeated). */
  recheck?(p: P, ctx: StepContext): Promise<Outputs | undefined>
}

/**
 * Define an action: its params type is the output of its schema, so describe, plan, run and recheck are checked
 * against what the runner parsed with that very schema (no cast in the registry).
 */
export function defineAction<P>(def: ActionDef<P>): ActionDef<P> {
  return def
}

/** The hosts a step names (`hosts`, `inventory` params), or the default engine as a set of one. */
export async function stepHosts(
  ctx: {hosts: Clients['hosts']},
  p: {hosts?: string[]; inventory?: string | undefined} = {},
): Promise<HostSet> {
  return ctx.hosts({host: p.hosts ?? [], ...(p.inventory ? {hosts: p.inventory} : {})})
}

/** `a, b` or [a, 'b,c'] -> [a, b, c] (what an interpolated input gives); anything else is left to the schema. */
function commaList(v: unknown): unknown {
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  if (Array.isArray(v))
    return v
      .flatMap((x) => String(x).split(','))
      .map((s) => s.trim())
      .filter(Boolean)
  return v
}

export const containerList = z.preprocess(commaList, z.array(z.string()).min(1, 'at least one container'))
export const stringList = z.preprocess(
  (v) => (typeof v === 'string' ? (v ? v.split(',').map((s) => s.trim()) : []) : v),
  z.array(z.string()),
)
export const bool = z.preprocess(
  (v) => (typeof v === 'string' ? !['false', '0', 'no', ''].includes(v.toLowerCase()) : v),
  z.boolean(),
)
export const optionalString = z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string().optional())

export async function resolvedNames(ctx: PlanContext, refs: string[]): Promise<string[]> {
  const engine = await ctx.engine()
  const {resolved, failed} = await resolveContainers(engine.containers, refs)
  return [...resolved.map((r) => `${r.name} (${r.id.slice(0, 12)})`), ...failed.map((f) => `${f.ref}: NOT FOUND`)]
}

export function caseFiles(kase: Case | undefined, files: string[]): string[] {
  return files.map((f) => `${kase ? kase.dir : 'incidents/<case>'}/${f}`)
}

export const optionalContainers = z.preprocess((v) => commaList(v ?? []), z.array(z.string()))

/**
 * After a crash mid-step: the artifacts of `type` recorded for every container of `refs` since the step started,
 * or undefined when one is missing (or a reference no longer resolves), so the step runs again.
 */
export async function artifactsSince(
  ctx: StepContext,
  refs: string[],
  type: string,
): Promise<Array<{id: string; path: string; sha256: string; containerId?: string}> | undefined> {
  const engine = await ctx.engine()
  const {resolved, failed} = await resolveContainers(engine.containers, refs)
  if (failed.length > 0) return undefined
  const arts = (await ctx.kase.manifest.read()).artifacts.filter(
    (a) => a.type === type && a.collectedAt >= ctx.stepStartedAt,
  )
  const found = resolved.map((r) => arts.find((a) => a.source?.containerId === r.id))
  if (found.some((a) => !a)) return undefined
  return found.map((a) => ({
    id: a!.id,
    path: a!.path,
    sha256: a!.sha256,
    ...(a!.source?.containerId ? {containerId: a!.source.containerId} : {}),
  }))
}
