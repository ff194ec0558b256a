import {createServer} from 'node:net'
import {join, resolve} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {type ComposeClient, resolveProject} from '../../docker/compose.js'
import type {ContainerSummary, Engine} from '../../docker/types.js'
import {AbortError, ExternalCommandError} from '../../errors.js'
import {LABEL} from '../../docker/labels.js'
import {writeFileAtomic} from '../../util/fs.js'
import type {OutputFold} from '../../util/output-fold.js'
import {COMPOSE_PROJECT_LABEL} from '../audit.js'
import {type BaseImageResult, ensureBaseImage} from './base-image.js'
import {LAB_CREDENTIALS, LAB_UP_LOG, materialiseLab, validateProjectName} from './files.js'
import {withLabLock} from './lock.js'
import {
  COMPOSE_SERVICE_LABEL,
  describeContainers,
  displayPath,
  LAB_SERVICES,
  LAB_TARGET_SERVICE,
  type LabContainer,
  labCaseId,
  labFilters,
  type NextStep,
  nextSteps,
} from './model.js'

const POLL_MS = 500

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
  /** Compose output folded into one progress line (instead of onComposeLine); its full text goes to lab-up.log in the lab folder. */
  composeFold?: OutputFold
  /** Where the lab locks live (default: the temp folder). */
  lockRoot?: string
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
    const rows = await opts.engine.containers.list({
      all: true,
      filters: {label: [`${COMPOSE_PROJECT_LABEL}=${opts.project}`]},
    })
    const byService = new Map(rows.map((r) => [r.labels[COMPOSE_SERVICE_LABEL] ?? '', r]))
    const dead = LAB_SERVICES.map((s) => byService.get(s)).find(
      (r) => r && (r.state === 'exited' || r.state === 'dead'),
    )
    if (dead) {
      throw new AbortError(
        `Lab service container ${dead.names[0] ?? dead.id.slice(0, 12)} stopped right after starting (${dead.status})`,
        {hint: `See why with \`docker logs ${dead.names[0] ?? dead.id}\`; remove the lab with \`ir lab down --yes\`.`},
      )
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
      throw new AbortError(`The lab did not start within ${opts.waitTimeoutSeconds} s (${states})`, {
        hint: 'Look at `docker ps -a`, then `ir lab down --yes` and try again (--wait-timeout for a slow host).',
      })
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
  return withLabLock({project: opts.project, dir, ...(opts.lockRoot ? {root: opts.lockRoot} : {})}, () =>
    labUpLocked(opts, dir),
  )
}

async function labUpLocked(opts: LabUpOptions, dir: string): Promise<LabUpResult> {
  const cwd = opts.cwd ?? process.cwd()
  // One lab per name; and never a compose project of that name that is not a lab.
  const existing = await opts.engine.containers.list({
    all: true,
    filters: {label: [`${COMPOSE_PROJECT_LABEL}=${opts.project}`]},
  })
  const lab = await opts.engine.containers.list({all: true, filters: labFilters(opts.project)})
  if (existing.some((c) => c.labels[LABEL.lab] !== 'true')) {
    throw new AbortError(`A compose project named "${opts.project}" already runs on this engine and is not an ir lab`, {
      exit: 'PRECONDITION',
      hint: 'Give the lab another name with --name.',
    })
  }
  if (lab.length > 0 || existing.length > 0) {
    throw new AbortError(`The lab "${opts.project}" already exists (${lab.length || existing.length} container(s))`, {
      exit: 'PRECONDITION',
      hint: `See it with \`ir lab status\`; start over with \`ir lab down --yes\` first, or run a second one with --name and --port.`,
    })
  }
  if (opts.engine.endpoint.startsWith('unix://') && (await portInUse(opts.port))) {
    throw new AbortError(`Port ${opts.port} on 127.0.0.1 is already in use: the lab's web service cannot publish it`, {
      exit: 'PRECONDITION',
      hint: 'Choose another port with --port. Nothing was created.',
    })
  }
  const baseImage = await ensureBaseImage({
    engine: opts.engine,
    ref: opts.baseImage,
    ...(opts.busyboxPath ? {busyboxPath: opts.busyboxPath} : {}),
    ...(opts.progress ? {progress: opts.progress} : {}),
  })
  const caseId = labCaseId(opts.now)
  const written = await materialiseLab({
    dir,
    project: opts.project,
    port: opts.port,
    baseImage: opts.baseImage,
    caseId,
    ...(opts.now ? {now: opts.now} : {}),
  })
  opts.progress?.(`Lab files written to ${written.dir} (fresh secrets in .env and ${'secrets/'})`)
  const project = await resolveProject(opts.compose.flavor, {projectDirectory: dir, name: opts.project})
  const fold = opts.composeFold
  const composeText: string[] = []
  const logFile = join(dir, LAB_UP_LOG)
  const keepLog = (ok: boolean): Promise<void> =>
    writeFileAtomic(logFile, composeText.length ? `${composeText.join('\n')}\n` : '', 0o600).then(
      () => fold?.end({ok, artifact: logFile}),
      () => fold?.end({ok}),
    )
  try {
    await opts.compose.run(project, ['up', '-d', '--build', '--remove-orphans'], {
      onLine: (l: string) => {
        composeText.push(l)
        if (fold) fold.line(l)
        else opts.onComposeLine?.(l)
      },
      ...(opts.signal ? {signal: opts.signal} : {}),
    })
    await keepLog(true)
  } catch (error) {
    await keepLog(false)
    if (error instanceof ExternalCommandError && /already allocated|address already in use/i.test(error.message)) {
      throw new AbortError(
        `Port ${opts.port} on 127.0.0.1 is already in use: the lab's web service cannot publish it`,
        {
          exit: 'PRECONDITION',
          hint: `Remove what was started with \`ir lab down --dir ${displayPath(dir, cwd)} --yes\`, then choose another port with --port.`,
          cause: error,
        },
      )
    }
    if (error instanceof ExternalCommandError) {
      throw new AbortError(error.message, {
        exit: error.exitName,
        hint: `Remove what was started with \`ir lab down --dir ${displayPath(dir, cwd)} --yes\`.`,
        cause: error,
      })
    }
    throw error
  }
  await waitForServices(opts)
  const containers = await describeContainers(
    opts.engine,
    await opts.engine.containers.list({all: true, filters: labFilters(opts.project)}),
  )
  const target =
    containers.find((c) => c.service === LAB_TARGET_SERVICE)?.name ?? `${opts.project}_${LAB_TARGET_SERVICE}_1`
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
