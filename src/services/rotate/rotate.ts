import type {Case} from '../../case/case-store.js'
import {resolveContainers} from '../targets.js'
import type {Engine} from '../../docker/types.js'
import {
  hasComposeFile,
  type RecordedComposeFolder,
  recordedComposeFolder,
  recordedFolderLine,
} from '../../docker/compose.js'
import {AbortError, errorMessage, normalizeError} from '../../errors.js'
import {readContainment} from '../containment-state.js'
import {loadAnswers, parseSkip, type PlannedDecision, type RotateAction} from './answers.js'
import type {ContainerScan} from './containers.js'
import {writeEnvValues, type EnvWriteResult} from './env-writer.js'
import {type AlphabetName, generateSecret} from './generate.js'
import {
  buildInventory,
  type CredentialItem,
  type InventoryContainer,
  type InventoryWarning,
  type ProjectInfo,
} from './inventory.js'
import {
  type DecisionKind,
  type DecisionRecord,
  decisionsById,
  readRotation,
  saveDecision,
  saveInventory,
} from './state.js'

export type {PlannedDecision, RotateAction} from './answers.js'
export type {DecisionKind, DecisionRecord} from './state.js'

/** What the responder chose for one credential in the walkthrough. */
export type RotateChoice =
  | {action: 'generate'}
  | {action: 'mark-rotated'}
  | {action: 'skip'; reason: string}
  | {action: 'leave'; interrupted?: boolean}

export interface RotateOptions {
  /** Undefined only for a dry run, which writes nothing. */
  kase?: Case
  /** Validate and show the decisions; write nothing (no .env file, no case record). */
  dryRun?: boolean
  engine?: Engine
  /** Why there is no engine; raised only when containers have to be read. */
  engineError?: unknown
  cwd: string
  composeFiles?: readonly string[]
  projectDirectory?: string
  envFiles?: readonly string[]
  /** --container references. */
  containers?: readonly string[]
  /** Non-interactive decisions. */
  generate?: readonly string[]
  markRotated?: readonly string[]
  skip?: readonly string[]
  answersFile?: string
  /** The interactive walkthrough: asked for each undecided credential, in inventory order. */
  decide?: (item: CredentialItem, position: {index: number; total: number}) => Promise<RotateChoice>
  length: number
  alphabet: AlphabetName
  /** Called before non-interactive decisions are applied (refuses without a TTY unless --yes). */
  confirm?: (question: string) => Promise<void>
  /** Shows a new value; only given with --show on a TTY. */
  reveal?: (name: string, value: string) => void
  progress?: (line: string) => void
}

export interface InventoryEntry extends CredentialItem {
  decision?: DecisionKind
  decisionReason?: string
}

export interface RotateFailure {
  name: string
  message: string
}

export interface RotateSummary {
  total: number
  generated: number
  markedRotated: number
  skipped: number
  remaining: number
  /** Undecided credentials, in inventory order. */
  remainingNames: string[]
  skippedNames: string[]
  /** Compose services using a credential that was given a new value (generated or rotated elsewhere). */
  restart: string[]
}

export interface PlannedAction {
  name: string
  id: string
  action: RotateAction
  reason?: string
  /** For generate: the files that would be written. */
  files?: string[]
}

export interface RotateResult {
  caseId?: string
  dryRun: boolean
  /** The decisions a dry run would apply. */
  planned: PlannedAction[]
  project: ProjectInfo
  containers: ContainerScan[]
  inventory: InventoryEntry[]
  /** Decisions made in this run. */
  applied: DecisionRecord[]
  failures: RotateFailure[]
  summary: RotateSummary
  /** The walkthrough was left before every credential was decided. */
  left: boolean
  interrupted: boolean
  warnings: InventoryWarning[]
}

const PAST: Record<RotateAction, DecisionKind> = {
  generate: 'generated',
  'mark-rotated': 'marked-rotated',
  skip: 'skipped',
}

export async function rotateCredentials(opts: RotateOptions): Promise<RotateResult> {
  const containers = await containersInScope(opts)
  const recorded = await recordedFolderFor(opts, containers.list)
  if (recorded) opts.progress?.(recordedFolderLine(recorded))
  const composeFiles = opts.composeFiles ?? (recorded?.files.length ? recorded.files : undefined)
  const projectDirectory = opts.projectDirectory ?? recorded?.projectDirectory
  const inv = await buildInventory({
    cwd: opts.cwd,
    ...(composeFiles ? {composeFiles} : {}),
    ...(projectDirectory ? {projectDirectory} : {}),
    ...(opts.envFiles ? {envFiles: opts.envFiles} : {}),
    containers: containers.list,
    ...(opts.engine ? {engine: opts.engine} : {}),
  })
  if (recorded) inv.project.recordedOn = recorded.container
  const warnings = [...containers.warnings, ...inv.warnings]
  if (!opts.engine)
    warnings.push({
      message: `the Docker engine is not reachable${opts.engineError ? ` (${errorMessage(opts.engineError)})` : ''}: swarm secrets and configs were not listed`,
    })
  for (const w of warnings) opts.progress?.(`Warning: ${w.message}`)

  const plan = await buildPlan(opts)
  const resolved = resolvePlan(plan, inv.items, inv.project.dir)
  const planned: PlannedAction[] = resolved.map((d) => ({
    name: d.item.name,
    id: d.item.id,
    action: d.action,
    ...(d.reason ? {reason: d.reason} : {}),
    ...(d.action === 'generate' ? {files: d.item.editableFiles} : {}),
  }))
  const {kase} = opts
  if (opts.dryRun || !kase) {
    const inventory: InventoryEntry[] = inv.items.map((item) => ({...item}))
    const decided = kase ? decisionsById(await readRotation(kase)) : new Map<string, DecisionRecord>()
    for (const entry of inventory) {
      const d = decided.get(entry.id)
      if (d) Object.assign(entry, {decision: d.decision, ...(d.reason ? {decisionReason: d.reason} : {})})
    }
    return {
      ...(kase ? {caseId: kase.id} : {}),
      dryRun: true,
      planned,
      project: inv.project,
      containers: inv.containers,
      inventory,
      applied: [],
      failures: [],
      summary: summarize(inventory, decided),
      left: false,
      interrupted: false,
      warnings,
    }
  }
  await saveInventory(kase, {at: new Date().toISOString(), project: inv.project, items: inv.items})

  const applied: DecisionRecord[] = []
  const failures: RotateFailure[] = []
  let left = false
  let interrupted = false
  const withCase = {...opts, kase}

  if (resolved.length > 0) {
    await opts.confirm?.(describePlan(resolved))
    await applyPlan(withCase, resolved, applied, failures)
  } else if (opts.decide) {
    const decided = decisionsById(await readRotation(kase))
    const total = inv.items.length
    for (const [index, item] of inv.items.entries()) {
      if (decided.has(item.id)) continue
      const choice = await opts.decide(item, {index: index + 1, total})
      if (choice.action === 'leave') {
        left = true
        interrupted = Boolean(choice.interrupted)
        break
      }
      try {
        if (choice.action === 'generate') applied.push(await generateOne(withCase, item))
        else
          applied.push(
            await recordDecision(
              kase,
              item,
              choice.action === 'skip' ? {decision: 'skipped', reason: choice.reason} : {decision: 'marked-rotated'},
            ),
          )
      } catch (error) {
        const message = normalizeError(error).message
        failures.push({name: item.name, message})
        opts.progress?.(`✗ ${item.name}: ${message}`)
        await kase.record({
          action: 'rotate.decision',
          target: item.name,
          outcome: 'failure',
          msg: `Rotation of ${item.name} failed: ${message}`,
          details: {id: item.id, name: item.name, kind: item.kind, decision: PAST[choice.action], error: message},
        })
      }
    }
  }

  const state = decisionsById(await readRotation(kase))
  const inventory: InventoryEntry[] = inv.items.map((item) => {
    const d = state.get(item.id)
    return {...item, ...(d ? {decision: d.decision, ...(d.reason ? {decisionReason: d.reason} : {})} : {})}
  })
  const summary = summarize(inventory, state)
  await kase.record({
    action: 'rotate.summary',
    outcome: failures.length > 0 ? 'partial' : 'info',
    msg: `Credential rotation: ${summary.generated} generated, ${summary.markedRotated} rotated elsewhere, ${summary.skipped} skipped, ${summary.remaining} remaining of ${summary.total}${summary.restart.length ? `; restart ${summary.restart.join(', ')}` : ''}`,
    details: {
      total: summary.total,
      rotated: summary.generated,
      marked: summary.markedRotated,
      skipped: summary.skipped,
      remaining: summary.remaining,
      remainingNames: summary.remainingNames,
      skippedNames: summary.skippedNames,
      restart: summary.restart,
      decidedThisRun: applied.length,
      failures: failures.map((f) => f.name),
      left,
      warnings: warnings.length,
    },
  })
  return {
    caseId: kase.id,
    dryRun: false,
    planned,
    project: inv.project,
    containers: inv.containers,
    inventory,
    applied,
    failures,
    summary,
    left,
    interrupted,
    warnings,
  }
}

/**
 * Run outside the compose folder (no -f, no --project-directory, no compose file here): the folder
 * compose recorded on the first container in scope that has one (`ir respond` does the same).
 */
async function recordedFolderFor(
  opts: RotateOptions,
  list: readonly InventoryContainer[],
): Promise<RecordedComposeFolder | undefined> {
  if (opts.projectDirectory || opts.composeFiles?.length) return undefined
  if (await hasComposeFile(opts.cwd)) return undefined
  for (const c of list) {
    const f = recordedComposeFolder(c.details)
    if (f) return f
  }
  return undefined
}

async function containersInScope(
  opts: RotateOptions,
): Promise<{list: InventoryContainer[]; warnings: InventoryWarning[]}> {
  const warnings: InventoryWarning[] = []
  const isolated = (opts.kase ? Object.values((await readContainment(opts.kase)).containers) : []).filter(
    (r) => r.status === 'isolated',
  )
  const named = opts.containers ?? []
  if (isolated.length === 0 && named.length === 0) return {list: [], warnings}
  if (!opts.engine) {
    // The engine's own error, passed on as it came; without one, why the engine is needed.
    const cause: unknown =
      opts.engineError ??
      new AbortError('The Docker engine is needed to read the containers in the case', {exit: 'ENGINE_UNREACHABLE'})
    throw cause
  }
  const engine = opts.engine
  const list: InventoryContainer[] = []
  const seen = new Set<string>()
  if (named.length > 0) {
    const {resolved, failed} = await resolveContainers(engine.containers, named)
    if (failed.length > 0) throw failed[0]!.error
    for (const r of resolved) {
      seen.add(r.id)
      list.push({details: await engine.containers.inspect(r.id), why: 'named'})
    }
  }
  for (const rec of isolated) {
    if (seen.has(rec.containerId)) continue
    try {
      list.push({details: await engine.containers.inspect(rec.containerId), why: 'isolated'})
    } catch (error) {
      warnings.push({
        message: `isolated container ${rec.name} (${rec.containerId.slice(0, 12)}) could not be inspected: ${errorMessage(error)}; its environment and mounts were not checked`,
      })
    }
  }
  return {list, warnings}
}

async function buildPlan(opts: RotateOptions): Promise<PlannedDecision[]> {
  const plan: PlannedDecision[] = [
    ...(opts.generate ?? []).map((name) => ({name, action: 'generate' as const, from: '--generate'})),
    ...(opts.markRotated ?? []).map((name) => ({name, action: 'mark-rotated' as const, from: '--mark-rotated'})),
    ...(opts.skip ?? []).map(parseSkip),
  ]
  if (opts.answersFile) plan.push(...(await loadAnswers(opts.answersFile)))
  return plan
}

interface ResolvedDecision {
  item: CredentialItem
  action: RotateAction
  reason?: string
}

/** Match every planned name to the inventory before anything is written; name every problem at once. */
function resolvePlan(
  plan: readonly PlannedDecision[],
  items: readonly CredentialItem[],
  projectDir: string,
): ResolvedDecision[] {
  const unknown = plan.filter((p) => !items.some((i) => i.name === p.name || i.id === p.name))
  if (unknown.length > 0) {
    const names = [...new Set(unknown.map((u) => u.name))]
    throw new AbortError(
      `Not in the credential inventory: ${names.map((n) => `"${n}"`).join(', ')} (from ${[...new Set(unknown.map((u) => u.from))].join(', ')})`,
      {
        exit: 'NOT_FOUND',
        hint: 'Names are case-sensitive. List the inventory with `ir rotate --list` (or --json).',
      },
    )
  }
  const out: ResolvedDecision[] = []
  for (const p of plan) {
    let matches = items.filter((i) => i.id === p.name)
    if (matches.length === 0) matches = items.filter((i) => i.name === p.name)
    if (p.action === 'generate') {
      const editable = matches.filter((i) => i.canGenerate)
      if (editable.length === 0) {
        const where = matches[0]!.sources
          .map((s) => s.file ?? s.container ?? s.type)
          .filter((v, i, a) => a.indexOf(v) === i)
          .join(', ')
        throw new AbortError(
          `${p.name} cannot be generated here: it is not defined in a .env file ir can edit (seen in ${where})`,
          {
            exit: 'USAGE',
            hint: `Looked in the project folder ${projectDir}. If ${p.name} sits in the .env of another folder, run \`ir rotate --project-directory <that folder> --generate ${p.name}\`; otherwise rotate it where it is set and record it with \`ir rotate --project-directory ${projectDir} --mark-rotated ${p.name}\`.`,
          },
        )
      }
      matches = editable
    }
    for (const item of matches) {
      const clash = out.find((o) => o.item.id === item.id)
      if (clash) {
        if (clash.action === p.action && clash.reason === p.reason) continue
        throw new AbortError(`${item.name} is given two different decisions (${clash.action} and ${p.action})`, {
          exit: 'USAGE',
        })
      }
      out.push({item, action: p.action, ...(p.reason ? {reason: p.reason} : {})})
    }
  }
  return out
}

function describePlan(plan: readonly ResolvedDecision[]): string {
  const parts = plan.map((d) =>
    d.action === 'generate'
      ? `generate a new ${d.item.name} (writes ${d.item.editableFiles.join(', ')})`
      : d.action === 'mark-rotated'
        ? `mark ${d.item.name} as rotated elsewhere`
        : `skip ${d.item.name}`,
  )
  return `Rotate credentials: ${parts.join('; ')}?`
}

type WithCase = RotateOptions & {kase: Case}

async function applyPlan(
  opts: WithCase,
  plan: readonly ResolvedDecision[],
  applied: DecisionRecord[],
  failures: RotateFailure[],
): Promise<void> {
  const generate = plan.filter((d) => d.action === 'generate')
  if (generate.length > 0) {
    // One new value per credential, one backup and one atomic write per file.
    const values = new Map<string, string>(generate.map((d) => [d.item.id, generateSecret(opts.length, opts.alphabet)]))
    const byFile = new Map<string, ResolvedDecision[]>()
    for (const d of generate) for (const f of d.item.editableFiles) byFile.set(f, [...(byFile.get(f) ?? []), d])
    const written = new Map<string, EnvWriteResult[]>()
    const failed = new Map<string, string>()
    for (const [file, ds] of byFile) {
      try {
        const w = await writeEnvValues(file, new Map(ds.map((d) => [d.item.name, values.get(d.item.id)!])))
        opts.progress?.(
          `✓ wrote ${ds.map((d) => d.item.name).join(', ')} into ${file} (backup ${w.backup}, mode ${w.modeAfter})`,
        )
        for (const d of ds) written.set(d.item.id, [...(written.get(d.item.id) ?? []), w])
      } catch (error) {
        const message = `${file}: ${normalizeError(error).message}`
        opts.progress?.(`✗ ${message}`)
        for (const d of ds)
          failed.set(d.item.id, failed.has(d.item.id) ? `${failed.get(d.item.id)}; ${message}` : message)
      }
    }
    for (const d of generate) {
      const writes = written.get(d.item.id) ?? []
      const error = failed.get(d.item.id)
      if (writes.length > 0) {
        opts.reveal?.(d.item.name, values.get(d.item.id)!)
        applied.push(
          await recordDecision(
            opts.kase,
            d.item,
            {decision: 'generated', writes, length: opts.length, alphabet: opts.alphabet},
            error,
          ),
        )
      }
      if (error) {
        failures.push({name: d.item.name, message: error})
        if (writes.length === 0) {
          await opts.kase.record({
            action: 'rotate.decision',
            target: d.item.name,
            outcome: 'failure',
            msg: `Could not write a new ${d.item.name}: ${error}`,
            details: {id: d.item.id, name: d.item.name, kind: d.item.kind, decision: 'generated', error},
          })
        }
      }
    }
    values.clear()
  }
  for (const d of plan) {
    if (d.action === 'generate') continue
    applied.push(
      await recordDecision(
        opts.kase,
        d.item,
        d.action === 'skip' ? {decision: 'skipped', reason: d.reason ?? ''} : {decision: 'marked-rotated'},
      ),
    )
  }
}

async function generateOne(opts: WithCase, item: CredentialItem): Promise<DecisionRecord> {
  if (!item.canGenerate) throw new AbortError(`${item.name} is not defined in a .env file ir can edit`, {exit: 'USAGE'})
  let value: string | undefined = generateSecret(opts.length, opts.alphabet)
  const writes: EnvWriteResult[] = []
  const errors: string[] = []
  for (const file of item.editableFiles) {
    try {
      const w = await writeEnvValues(file, new Map([[item.name, value]]))
      writes.push(w)
      opts.progress?.(`✓ wrote ${item.name} into ${file} (backup ${w.backup}, mode ${w.modeAfter})`)
    } catch (error) {
      errors.push(`${file}: ${normalizeError(error).message}`)
    }
  }
  if (writes.length > 0) opts.reveal?.(item.name, value)
  value = undefined
  if (writes.length === 0) throw new AbortError(errors.join('; '))
  return recordDecision(
    opts.kase,
    item,
    {decision: 'generated', writes, length: opts.length, alphabet: opts.alphabet},
    errors.length ? errors.join('; ') : undefined,
  )
}

async function recordDecision(
  kase: Case,
  item: CredentialItem,
  what:
    | {decision: 'generated'; writes: EnvWriteResult[]; length: number; alphabet: string}
    | {decision: 'marked-rotated'}
    | {decision: 'skipped'; reason: string},
  partialError?: string,
): Promise<DecisionRecord> {
  const record: DecisionRecord = {
    id: item.id,
    name: item.name,
    kind: item.kind,
    decision: what.decision,
    ...(what.decision === 'skipped' ? {reason: what.reason} : {}),
    at: new Date().toISOString(),
    actor: kase.actor,
    seenByCompromised: item.seenByCompromised,
    sources: item.sources,
    services: item.services,
    ...(what.decision === 'generated'
      ? {
          files: what.writes.map((w) => w.file),
          backups: what.writes.map((w) => w.backup),
          // The alphabet only: the README promises neither a hash nor a length of any value.
          alphabet: what.alphabet,
        }
      : {}),
  }
  await saveDecision(kase, record)
  const text =
    what.decision === 'generated'
      ? `given a new generated value in ${record.files!.join(', ')}`
      : what.decision === 'marked-rotated'
        ? 'marked as rotated elsewhere'
        : `skipped (reason given)`
  await kase.record({
    action: 'rotate.decision',
    target: item.name,
    outcome: partialError ? 'partial' : 'success',
    msg: `Credential ${item.name} ${text}`,
    details: {...record, ...(partialError ? {error: partialError} : {})},
  })
  return record
}

function summarize(inventory: readonly InventoryEntry[], state: ReadonlyMap<string, DecisionRecord>): RotateSummary {
  const count = (k: DecisionKind): number => inventory.filter((i) => i.decision === k).length
  const restart = new Set<string>()
  for (const i of inventory)
    if (i.decision === 'generated' || i.decision === 'marked-rotated')
      for (const s of state.get(i.id)?.services ?? i.services) restart.add(s)
  return {
    total: inventory.length,
    generated: count('generated'),
    markedRotated: count('marked-rotated'),
    skipped: count('skipped'),
    remaining: inventory.filter((i) => !i.decision).length,
    remainingNames: inventory.filter((i) => !i.decision).map((i) => i.name),
    skippedNames: inventory.filter((i) => i.decision === 'skipped').map((i) => i.name),
    restart: [...restart].sort(),
  }
}
