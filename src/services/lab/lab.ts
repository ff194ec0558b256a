import {randomBytes} from 'node:crypto'
import {createServer} from 'node:net'
import {isAbsolute, relative, resolve, sep} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {type ComposeClient, resolveProject} from '../../docker/compose.js'
import {isEvidenceImage, LABEL} from '../../docker/labels.js'
import type {ContainerSummary, Engine} from '../../docker/types.js'
import {AbortError, type ErrorInfo, ExternalCommandError, toErrorInfo} from '../../errors.js'
import {COMPOSE_PROJECT_LABEL} from '../audit.js'
import {sharedNetworkNote} from '../containment-state.js'
import {type BaseImageResult, ensureBaseImage} from './base-image.js'
import {LAB_CREDENTIALS, materialiseLab, readLabMarker, removeLabDir, validateProjectName} from './files.js'

export const DEFAULT_LAB_PROJECT = 'ir-lab'
export const DEFAULT_LAB_PORT = 18080
export const DEFAULT_LAB_DIR = 'ir-lab'
export const LAB_SERVICES = ['web', 'worker', 'db'] as const
/** The service with the planted compromise. */
export const LAB_TARGET_SERVICE = 'web'
const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service'
const POLL_MS = 500

export interface LabContainer {
  project: string
  service: string
  name: string
  id: string
  image: string
  state: string
  networks: string[]
  /** Frozen by `ir isolate` (or docker pause). */
  paused: boolean
  /** Cut from every network, as `ir isolate` leaves it. */
  isolated: boolean
}

export interface NextStep {
  command: string
  why: string
}

export interface LabUpOptions {
  engine: Engine
  compose: ComposeClient
  dir: string
  project: string
  port: number
  baseImage: string
  busyboxPath?: string
  waitTimeoutSeconds: number
  /** For the commands printed: the folder is shown relative to it when inside it. */
  cwd?: string
  now?: Date
  signal?: AbortSignal
  progress?: (line: string) => void
  onComposeLine?: (line: string) => void
}

export interface LabUpResult {
  project: string
  dir: string
  composeFlavor: string
  port: number
  url: string
  baseImage: BaseImageResult
  /** Names and where they are set: the values stay in the lab folder, never printed. */
  credentials: Array<{name: string; where: string}>
  containers: LabContainer[]
  /** The container with the planted compromise. */
  target: string
  suggestedCaseId: string
  next: NextStep[]
}

const labFilters = (project?: string): Record<string, string[]> => ({label: [`${LABEL.lab}=true`, ...(project ? [`${LABEL.labProject}=${project}`] : [])]})

/** LAB-20261127-235134-a1b2: a case id that says it is practice. */
export function labCaseId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `LAB-${stamp}-${randomBytes(2).toString('hex')}`
}

/** A path as the user should type it: ./ir-lab when under the current folder, else absolute; quoted when needed. */
export function displayPath(dir: string, cwd: string): string {
  const rel = relative(cwd, dir)
  const shown = rel === '' ? '.' : !rel.startsWith('..') && !isAbsolute(rel) ? `.${sep}${rel}` : dir
  return /^[\w./@%+=:,-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`
}

/** Exactly what to run next on this lab, in order. */
export function nextSteps(o: {target: string; caseId: string; dir: string; project: string; cwd: string}): NextStep[] {
  const d = displayPath(o.dir, o.cwd)
  const c = o.caseId
  return [
    {command: 'ir respond', why: `the guided walkthrough: pick ${o.target}, approve each step`},
    {command: `ir isolate --case ${c} ${o.target} --yes`, why: 'freeze it and cut its networks'},
    {command: `ir snapshot --case ${c} ${o.target} --yes`, why: 'commit, save and export it into the case'},
    {command: `ir collect --case ${c} ${o.target}`, why: 'logs, processes, changed files'},
    {command: `ir rotate --case ${c} --project-directory ${d}`, why: 'rotate the credentials it could read'},
    {command: `ir rebuild --case ${c} --project-directory ${d} --project-name ${o.project} --offline`, why: 'rebuild clean from the local base image'},
    {command: `ir report --case ${c}`, why: 'the lessons-learned report'},
    {command: `ir lab down --dir ${d} --yes`, why: 'remove everything the lab created (the case stays)'},
  ]
}

async function describeContainers(engine: Engine, rows: ContainerSummary[]): Promise<LabContainer[]> {
  const out: LabContainer[] = []
  for (const r of rows) {
    const d = await engine.containers.inspect(r.id).catch(() => undefined)
    const networks = d?.endpoints.map((e) => e.networkName) ?? []
    const shared = d ? sharedNetworkNote(d.networkMode) : undefined
    out.push({
      project: r.labels[LABEL.labProject] ?? r.labels[COMPOSE_PROJECT_LABEL] ?? '',
      service: r.labels[COMPOSE_SERVICE_LABEL] ?? '',
      name: d?.name ?? r.names[0] ?? r.id.slice(0, 12),
      id: r.id,
      image: r.image,
      state: d?.state ?? r.state,
      networks,
      paused: (d?.state ?? r.state) === 'paused',
      isolated: Boolean(d) && !shared && networks.length === 0,
    })
  }
  const order = (s: string): number => {
    const i = (LAB_SERVICES as readonly string[]).indexOf(s)
    return i < 0 ? LAB_SERVICES.length : i
  }
  return out.sort((a, b) => a.project.localeCompare(b.project) || order(a.service) - order(b.service) || a.name.localeCompare(b.name))
}

/** Whether 127.0.0.1:port can be bound here (meaningful when the engine runs on this host). */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => resolvePort(err.code === 'EADDRINUSE'))
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(false)))
  })
}

/** Until every lab service runs, and still runs one poll later; a service that exits is an error. */
async function waitForServices(opts: LabUpOptions): Promise<ContainerSummary[]> {
  const deadline = Date.now() + opts.waitTimeoutSeconds * 1000
  let stableSince: number | undefined
  for (;;) {
    opts.signal?.throwIfAborted()
    const rows = await opts.engine.containers.list({all: true, filters: {label: [`${COMPOSE_PROJECT_LABEL}=${opts.project}`]}})
    const byService = new Map(rows.map((r) => [r.labels[COMPOSE_SERVICE_LABEL] ?? '', r]))
    const dead = LAB_SERVICES.map((s) => byService.get(s)).find((r) => r && (r.state === 'exited' || r.state === 'dead'))
    if (dead) {
      throw new AbortError(`Lab service container ${dead.names[0] ?? dead.id.slice(0, 12)} stopped right after starting (${dead.status})`, {hint: `See why with \`docker logs ${dead.names[0] ?? dead.id}\`; remove the lab with \`ir lab down --yes\`.`})
    }
    const running = LAB_SERVICES.every((s) => byService.get(s)?.state === 'running')
    if (running) {
      stableSince ??= Date.now()
      if (Date.now() - stableSince >= 1000) return LAB_SERVICES.map((s) => byService.get(s)!)
    } else {
      stableSince = undefined
    }
    if (Date.now() > deadline) {
      const states = LAB_SERVICES.map((s) => `${s}: ${byService.get(s)?.state ?? 'missing'}`).join(', ')
      throw new AbortError(`The lab did not start within ${opts.waitTimeoutSeconds} s (${states})`, {hint: 'Look at `docker ps -a`, then `ir lab down --yes` and try again (--wait-timeout for a slow host).'})
    }
    await sleep(POLL_MS, undefined, opts.signal ? {signal: opts.signal} : undefined)
  }
}

/**
 * Start the practice lab: base image (imported from the host's busybox when missing), the lab folder
 * with fresh secrets, `compose up -d --build`, and a wait until every service runs.
 */
export async function labUp(opts: LabUpOptions): Promise<LabUpResult> {
  validateProjectName(opts.project)
  const dir = resolve(opts.dir)
  const cwd = opts.cwd ?? process.cwd()
  // One lab per name; and never a compose project of that name that is not a lab.
  const existing = await opts.engine.containers.list({all: true, filters: {label: [`${COMPOSE_PROJECT_LABEL}=${opts.project}`]}})
  const lab = await opts.engine.containers.list({all: true, filters: labFilters(opts.project)})
  if (existing.some((c) => c.labels[LABEL.lab] !== 'true')) {
    throw new AbortError(`A compose project named "${opts.project}" already runs on this engine and is not an ir lab`, {exit: 'PRECONDITION', hint: 'Give the lab another name with --name.'})
  }
  if (lab.length > 0 || existing.length > 0) {
    throw new AbortError(`The lab "${opts.project}" already exists (${lab.length || existing.length} container(s))`, {exit: 'PRECONDITION', hint: `See it with \`ir lab status\`; start over with \`ir lab down --yes\` first, or run a second one with --name and --port.`})
  }
  if (opts.engine.endpoint.startsWith('unix://') && (await portInUse(opts.port))) {
    throw new AbortError(`Port ${opts.port} on 127.0.0.1 is already in use: the lab's web service cannot publish it`, {exit: 'PRECONDITION', hint: 'Choose another port with --port. Nothing was created.'})
  }
  const baseImage = await ensureBaseImage({engine: opts.engine, ref: opts.baseImage, ...(opts.busyboxPath ? {busyboxPath: opts.busyboxPath} : {}), ...(opts.progress ? {progress: opts.progress} : {})})
  const caseId = labCaseId(opts.now)
  const written = await materialiseLab({dir, project: opts.project, port: opts.port, baseImage: opts.baseImage, caseId, ...(opts.now ? {now: opts.now} : {})})
  opts.progress?.(`Lab files written to ${written.dir} (fresh secrets in .env and ${'secrets/'})`)
  const project = await resolveProject(opts.compose.flavor, {projectDirectory: dir, name: opts.project})
  try {
    await opts.compose.run(project, ['up', '-d', '--build', '--remove-orphans'], {
      ...(opts.onComposeLine ? {onLine: (l: string) => opts.onComposeLine?.(l)} : {}),
      ...(opts.signal ? {signal: opts.signal} : {}),
    })
  } catch (error) {
    if (error instanceof ExternalCommandError && /already allocated|address already in use/i.test(error.message)) {
      throw new AbortError(`Port ${opts.port} on 127.0.0.1 is already in use: the lab's web service cannot publish it`, {exit: 'PRECONDITION', hint: `Remove what was started with \`ir lab down --dir ${displayPath(dir, cwd)} --yes\`, then choose another port with --port.`, cause: error})
    }
    if (error instanceof ExternalCommandError) {
      throw new AbortError(error.message, {exit: error.exitName, hint: `Remove what was started with \`ir lab down --dir ${displayPath(dir, cwd)} --yes\`.`, cause: error})
    }
    throw error
  }
  await waitForServices(opts)
  const containers = await describeContainers(opts.engine, await opts.engine.containers.list({all: true, filters: labFilters(opts.project)}))
  const target = containers.find((c) => c.service === LAB_TARGET_SERVICE)?.name ?? `${opts.project}_${LAB_TARGET_SERVICE}_1`
  return {
    project: opts.project,
    dir,
    composeFlavor: opts.compose.flavor,
    port: opts.port,
    url: `http://127.0.0.1:${opts.port}/`,
    baseImage,
    credentials: LAB_CREDENTIALS.map((c) => ({...c})),
    containers,
    target,
    suggestedCaseId: caseId,
    next: nextSteps({target, caseId, dir, project: opts.project, cwd}),
  }
}

export interface LabStatusResult {
  project?: string
  containers: LabContainer[]
  networks: string[]
  volumes: string[]
  images: Array<{id: string; tags: string[]; evidence: boolean}>
}

/** What the lab (or every lab, without a name) has on the engine, found by the label ir.lab=true. */
export async function labStatus(opts: {engine: Engine; project?: string}): Promise<LabStatusResult> {
  const filters = labFilters(opts.project)
  const [rows, networks, volumes, images] = await Promise.all([
    opts.engine.containers.list({all: true, filters}),
    opts.engine.networks.list({filters}),
    opts.engine.volumes.list({filters}),
    opts.engine.images.list({filters}),
  ])
  return {
    ...(opts.project ? {project: opts.project} : {}),
    containers: await describeContainers(opts.engine, rows),
    networks: networks.map((n) => n.name).sort(),
    volumes: volumes.map((v) => v.name).sort(),
    images: images.map((i) => ({id: i.id, tags: i.repoTags.filter((t) => t !== '<none>:<none>'), evidence: isEvidenceImage(i.labels)})),
  }
}

export interface LabDownOptions {
  engine: Engine
  /** Undefined when compose is not installed: then only the label sweep runs. */
  compose?: ComposeClient
  dir: string
  project: string
  /** Never removed, whatever its labels. */
  baseImage: string
  purgeDir: boolean
  signal?: AbortSignal
  progress?: (line: string) => void
  onComposeLine?: (line: string) => void
}

export interface Removal {
  kind: 'container' | 'network' | 'volume' | 'image' | 'folder'
  name: string
  detail?: string
}

export interface LabDownResult {
  project: string
  dir: string
  compose: {ran: boolean; ok: boolean; detail: string}
  removed: Removal[]
  kept: Removal[]
  failed: Array<Removal & {error: ErrorInfo}>
  ok: boolean
}

/**
 * Remove everything the lab created and nothing else: compose down for the project, then every
 * container, network, volume and image still labelled ir.lab=true and ir.lab.project=<name>. Paused
 * (isolated) containers are unpaused first. Evidence images (ir.evidence=true) and the base image are
 * kept; the case folders are not touched; the lab folder only goes with purgeDir.
 */
export async function labDown(opts: LabDownOptions): Promise<LabDownResult> {
  validateProjectName(opts.project)
  const dir = resolve(opts.dir)
  const filters = labFilters(opts.project)
  const removed: Removal[] = []
  const kept: Removal[] = []
  const failed: LabDownResult['failed'] = []
  const attempt = async (what: Removal, fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      await fn()
      return true
    } catch (error) {
      failed.push({...what, error: toErrorInfo(error)})
      opts.progress?.(`✗ ${what.kind} ${what.name}: ${toErrorInfo(error).message}`)
      return false
    }
  }
  const unpauseAll = async (): Promise<ContainerSummary[]> => {
    const rows = await opts.engine.containers.list({all: true, filters})
    for (const r of rows.filter((x) => x.state === 'paused')) {
      await attempt({kind: 'container', name: r.names[0] ?? r.id, detail: 'unpause'}, () => opts.engine.containers.unpause(r.id))
    }
    return rows
  }

  // 1. Compose down, when the folder holds this lab and compose is there.
  const initial = {
    containers: await unpauseAll(),
    networks: await opts.engine.networks.list({filters}),
    volumes: await opts.engine.volumes.list({filters}),
  }
  const marker = await readLabMarker(dir)
  let compose: LabDownResult['compose'] = {ran: false, ok: true, detail: ''}
  if (!opts.compose) compose.detail = 'compose is not installed: removed by label only'
  else if (!marker) compose.detail = `no lab folder at ${dir}: removed by label only`
  else if (marker.project !== opts.project) compose.detail = `${dir} holds the lab "${marker.project}", not "${opts.project}": removed by label only`
  else if (initial.containers.length === 0 && initial.networks.length === 0 && initial.volumes.length === 0) compose.detail = 'nothing running: compose down not needed'
  else {
    try {
      const project = await resolveProject(opts.compose.flavor, {projectDirectory: dir, name: opts.project})
      await opts.compose.run(project, ['down', '--volumes', '--remove-orphans'], {
        ...(opts.onComposeLine ? {onLine: (l: string) => opts.onComposeLine?.(l)} : {}),
        ...(opts.signal ? {signal: opts.signal} : {}),
      })
      compose = {ran: true, ok: true, detail: 'down --volumes --remove-orphans'}
    } catch (error) {
      compose = {ran: true, ok: false, detail: `compose down failed (${toErrorInfo(error).message}); removing by label`}
      opts.progress?.(`! ${compose.detail}`)
    }
  }

  // 2. Whatever is left with the lab's labels (everything, when compose did not run).
  const remaining = await unpauseAll()
  for (const r of initial.containers.filter((c) => !remaining.some((x) => x.id === c.id))) removed.push({kind: 'container', name: r.names[0] ?? r.id.slice(0, 12), detail: 'compose down'})
  for (const r of remaining) {
    const name = r.names[0] ?? r.id.slice(0, 12)
    if (await attempt({kind: 'container', name}, () => opts.engine.containers.remove(r.id, {force: true, volumes: true}))) removed.push({kind: 'container', name})
  }
  const networks = await opts.engine.networks.list({filters})
  for (const n of initial.networks.filter((c) => !networks.some((x) => x.id === c.id))) removed.push({kind: 'network', name: n.name, detail: 'compose down'})
  for (const n of networks) {
    if (await attempt({kind: 'network', name: n.name}, () => opts.engine.networks.remove(n.id))) removed.push({kind: 'network', name: n.name})
  }
  const volumes = await opts.engine.volumes.list({filters})
  for (const v of initial.volumes.filter((c) => !volumes.some((x) => x.name === c.name))) removed.push({kind: 'volume', name: v.name, detail: 'compose down'})
  for (const v of volumes) {
    if (await attempt({kind: 'volume', name: v.name}, () => opts.engine.volumes.remove(v.name))) removed.push({kind: 'volume', name: v.name})
  }

  // 3. Images the lab built; never evidence (it inherits the lab labels when committed from a lab container), never the base.
  const base = await opts.engine.images.inspect(opts.baseImage).catch(() => undefined)
  for (const img of await opts.engine.images.list({filters})) {
    const tags = img.repoTags.filter((t) => t !== '<none>:<none>')
    const name = tags[0] ?? img.id.replace('sha256:', '').slice(0, 12)
    if (isEvidenceImage(img.labels)) {
      kept.push({kind: 'image', name, detail: `evidence image (${LABEL.evidence}=true): never removed`})
      continue
    }
    if (img.id === base?.id || tags.includes(opts.baseImage)) {
      kept.push({kind: 'image', name, detail: 'the lab base image'})
      continue
    }
    if (tags.length > 0) {
      // Remove the names: the image itself goes unless an image was committed or built from it (e.g. evidence).
      let ok = true
      for (const t of tags) ok = (await attempt({kind: 'image', name: t}, () => opts.engine.images.untag(t))) && ok
      if (!ok) continue
      const still = await opts.engine.images.inspect(img.id).catch(() => undefined)
      removed.push({kind: 'image', name, ...(still ? {detail: 'untagged; its layers stay while an image committed from it (evidence) exists'} : {})})
    } else {
      try {
        await opts.engine.images.remove(img.id)
        removed.push({kind: 'image', name})
      } catch (error) {
        const info = toErrorInfo(error)
        if (/dependent child|being used/i.test(info.message)) kept.push({kind: 'image', name, detail: `still needed: ${info.message}`})
        else failed.push({kind: 'image', name, error: info})
      }
    }
  }

  // 4. The folder, only on request and only if it is a lab folder.
  if (opts.purgeDir) {
    if (await removeLabDir(dir)) removed.push({kind: 'folder', name: dir})
    else kept.push({kind: 'folder', name: dir, detail: 'not an ir lab folder (no .ir-lab.json): not removed'})
  }
  return {project: opts.project, dir, compose, removed, kept, failed, ok: failed.length === 0}
}
