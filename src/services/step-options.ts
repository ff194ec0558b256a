import type {Case, CaseStore} from '../case/case-store.js'
import type {HostSet} from '../docker/hosts.js'
import type {ErrorInfo} from '../errors.js'
import type {CollectOptions} from './evidence/collect.js'
import type {SnapshotOptions} from './evidence/snapshot.js'
import type {RebuildOptions} from './rebuild/rebuild.js'
import type {RotateOptions} from './rotate/rotate.js'
import type {HostOutcome} from './fanout.js'
import type {IsolateOptions} from './isolate.js'
import type {ReleaseOptions} from './release.js'
import {parseFilters, type Selection} from './targets.js'
import type {IsolateMode} from './containment-state.js'

/**
 * The options of each response step, built the same way from a command's flags and from a playbook step's
 * params: references, `--filter` selectors (docker ps syntax) and swarm services become one Selection, and each
 * step's own settings are added to the host set it works on.
 */
export interface StepInput {
  /** From selectionOf: what the references, selectors and services of the flags or params select. */
  selection: Selection
  maxHosts?: number | undefined
  signal?: AbortSignal | undefined
  progress?: ((line: string) => void) | undefined
}

/** References, `--filter` selectors (`label=app=web`: an unknown key is a usage error) and swarm services. */
export function selectionOf(i: {
  refs: readonly string[]
  filter?: readonly string[] | undefined
  service?: readonly string[] | undefined
}): Selection {
  const filters = parseFilters(i.filter)
  return {
    refs: [...i.refs],
    ...(filters ? {filters} : {}),
    ...(i.service?.length ? {services: [...i.service]} : {}),
  }
}

export function selectsNothing(sel: Selection): boolean {
  return sel.refs.length === 0 && !sel.filters && !sel.services?.length
}

/** The selection as a confirmation question names it: `web-1, every container with label=app=web, ...`. */
export function selectionText(sel: Selection): string {
  return [
    ...sel.refs,
    ...Object.entries(sel.filters ?? {}).flatMap(([k, vs]) => vs.map((v) => `every container with ${k}=${v}`)),
    ...(sel.services ?? []).map((s) => `every task of service ${s}`),
  ].join(', ')
}

function common(hosts: HostSet, i: StepInput) {
  return {
    hosts,
    selection: i.selection,
    ...(i.maxHosts === undefined ? {} : {maxHosts: i.maxHosts}),
    ...(i.signal ? {signal: i.signal} : {}),
    ...(i.progress ? {progress: i.progress} : {}),
  }
}

export function isolateOptions(
  hosts: HostSet,
  i: StepInput & {
    mode: IsolateMode
    dryRun: boolean
    kase?: Case | undefined
    concurrency?: number | undefined
    stopTimeoutSeconds?: number | undefined
    capture?: boolean | undefined
    memory?: boolean | undefined
  },
): IsolateOptions {
  return {
    ...common(hosts, i),
    ...(i.kase ? {kase: i.kase} : {}),
    mode: i.mode,
    dryRun: i.dryRun,
    ...(i.concurrency === undefined ? {} : {concurrency: i.concurrency}),
    ...(i.stopTimeoutSeconds === undefined ? {} : {stopTimeoutSeconds: i.stopTimeoutSeconds}),
    ...(i.capture || i.memory ? {capture: true} : {}),
    ...(i.memory ? {memory: true} : {}),
  }
}

export function releaseOptions(
  hosts: HostSet,
  i: StepInput & {store: CaseStore; kase?: Case | undefined; dryRun: boolean; concurrency?: number | undefined},
): ReleaseOptions {
  return {
    ...common(hosts, i),
    store: i.store,
    ...(i.kase ? {kase: i.kase} : {}),
    dryRun: i.dryRun,
    ...(i.concurrency === undefined ? {} : {concurrency: i.concurrency}),
  }
}

type TransferProgress = SnapshotOptions['transferProgress']

export function snapshotOptions(
  hosts: HostSet,
  i: StepInput & {
    kase: Case
    export: boolean
    volumes: boolean
    live?: boolean | undefined
    memory?: boolean | undefined
    transferProgress?: TransferProgress
  },
): SnapshotOptions {
  return {
    ...common(hosts, i),
    kase: i.kase,
    export: i.export,
    volumes: i.volumes,
    ...(i.live === undefined ? {} : {live: i.live}),
    ...(i.memory === undefined ? {} : {memory: i.memory}),
    ...(i.transferProgress ? {transferProgress: i.transferProgress} : {}),
  }
}

export function collectOptions(
  hosts: HostSet,
  i: StepInput & {
    kase: Case
    since?: number | undefined
    until?: number | undefined
    transferProgress?: TransferProgress
  },
): CollectOptions {
  return {
    ...common(hosts, i),
    kase: i.kase,
    ...(i.since === undefined ? {} : {since: i.since}),
    ...(i.until === undefined ? {} : {until: i.until}),
    ...(i.transferProgress ? {transferProgress: i.transferProgress} : {}),
  }
}

/**
 * What `ir rotate`'s flags and a rotate step's params both name: the project, its files and the decisions.
 * The caller adds what only it has (the engine, the walkthrough, the confirmation, --show).
 */
export interface RotateInput {
  cwd: string
  files?: readonly string[] | undefined
  projectDirectory?: string | undefined
  envFiles?: readonly string[] | undefined
  containers?: readonly string[] | undefined
  generate?: readonly string[] | undefined
  markRotated?: readonly string[] | undefined
  skip?: readonly string[] | undefined
  answersFile?: string | undefined
  length: number
  alphabet: RotateOptions['alphabet']
}

type RotateContext = Omit<RotateOptions, keyof RotateInput | 'composeFiles'>

/** Whether the input carries decisions of its own (then no walkthrough is asked). */
export function rotateHasDecisions(i: RotateInput): boolean {
  return Boolean(i.generate?.length || i.markRotated?.length || i.skip?.length || i.answersFile)
}

export function rotateOptions(i: RotateInput, ctx: RotateContext): RotateOptions {
  const list = (v: readonly string[] | undefined) => (v?.length ? v : undefined)
  const opts: RotateOptions = {...ctx, cwd: i.cwd, length: i.length, alphabet: i.alphabet}
  const files = list(i.files)
  if (files) opts.composeFiles = files
  if (i.projectDirectory) opts.projectDirectory = i.projectDirectory
  for (const [key, value] of [
    ['envFiles', list(i.envFiles)],
    ['containers', list(i.containers)],
    ['generate', list(i.generate)],
    ['markRotated', list(i.markRotated)],
    ['skip', list(i.skip)],
  ] as const)
    if (value) opts[key] = value
  if (i.answersFile) opts.answersFile = i.answersFile
  return opts
}

/** The compose project `ir rebuild`'s flags and a rebuild step's params name (for resolveProject). */
export function composeProjectInput(i: {
  files?: readonly string[] | undefined
  projectDirectory?: string | undefined
  projectName?: string | undefined
}): {files?: string[]; projectDirectory?: string; name?: string} {
  return {
    ...(i.files?.length ? {files: [...i.files]} : {}),
    ...(i.projectDirectory ? {projectDirectory: i.projectDirectory} : {}),
    ...(i.projectName ? {name: i.projectName} : {}),
  }
}

/** The rebuild settings both name; the caller adds the engine, compose client, project and case. */
export interface RebuildInput {
  dryRun: boolean
  volumes: boolean
  pruneHost: boolean
  offline: boolean
  saveEvidence: boolean
  forceReason?: string | undefined
  waitTimeoutSeconds: number
  graceSeconds: number
  audit: boolean
}

export function rebuildOptions(
  i: RebuildInput,
  ctx: Pick<
    RebuildOptions,
    'engine' | 'compose' | 'project' | 'signal' | 'progress' | 'onComposeLine' | 'composeFold'
  > & {
    kase?: Case | undefined
  },
): RebuildOptions {
  const {kase, ...rest} = ctx
  return {
    ...rest,
    ...(kase ? {kase} : {}),
    dryRun: i.dryRun,
    removeVolumes: i.volumes,
    pruneHost: i.pruneHost,
    offline: i.offline,
    ...(i.forceReason === undefined ? {} : {force: {reason: i.forceReason}}),
    saveEvidence: i.saveEvidence,
    waitTimeoutSeconds: i.waitTimeoutSeconds,
    graceSeconds: i.graceSeconds,
    audit: i.audit,
  }
}

/** The exit code a step's result calls for: the first failed container's, else a failed host's, else 0. */
export function stepExitCode(r: {containers: Array<{error?: ErrorInfo | undefined}>; hosts?: HostOutcome[]}): number {
  const failure = r.containers.find((c) => c.error)
  if (failure?.error) return failure.error.exitCode
  const host = r.hosts?.find((h) => h.status === 'failed')
  return host ? (host.error?.exitCode ?? 1) : 0
}
