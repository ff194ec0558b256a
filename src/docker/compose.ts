import {basename, resolve} from 'node:path'
import {buildEnvFor} from './engine-kind.js'
import type {Engine} from './types.js'

import {AbortError} from '../errors.js'
import {runStreaming} from '../util/run-streaming.js'
import type {Logger} from '../util/logger.js'

export type ComposeFlavor = 'v2' | 'v1'

/** Which compose project: as the compose CLI takes it (-f files, --project-directory, -p). */
export interface ComposeProject {
  files: string[]
  projectDirectory: string
  name: string
  /** The container whose compose labels gave the folder, when run outside the project folder. */
  recordedOn?: string
}

export interface ComposeRunOptions {
  /** Each output line (stdout and stderr), as it comes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  signal?: AbortSignal
  env?: Record<string, string>
  /** Keep stdout and return it (for `config`); otherwise it is only passed to onLine. */
  captureStdout?: boolean
}

/** Compose behind a small interface: v2 (`docker compose`) or v1 (`docker-compose`), argument arrays only. */
export interface ComposeClient {
  readonly flavor: ComposeFlavor
  /** The program and arguments that would run, for --dry-run output and error messages. */
  commandLine(project: ComposeProject, args: readonly string[]): {file: string; args: string[]}
  run(project: ComposeProject, args: readonly string[], opts?: ComposeRunOptions): Promise<{stdout: string}>
}

export function composeCommandLine(
  flavor: ComposeFlavor,
  project: ComposeProject,
  args: readonly string[],
): {file: string; args: string[]} {
  const projectArgs = [
    ...project.files.flatMap((f) => ['-f', f]),
    '--project-directory',
    project.projectDirectory,
    '-p',
    project.name,
  ]
  return flavor === 'v2'
    ? {file: 'docker', args: ['compose', ...projectArgs, ...args]}
    : {file: 'docker-compose', args: [...projectArgs, ...args]}
}

/**
 * The project name compose derives from a folder: lowercase, keeping [a-z0-9_-] (compose v1 >= 1.21
 * and v2 alike); v2 also drops leading "_" and "-".
 */
export function defaultProjectName(
  flavor: ComposeFlavor,
  projectDirectory: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (env.COMPOSE_PROJECT_NAME) return env.COMPOSE_PROJECT_NAME
  const base = basename(resolve(projectDirectory))
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
  return flavor === 'v2' ? base.replace(/^[_-]+/, '') : base
}

const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml']

export class ExecaComposeClient implements ComposeClient {
  constructor(
    readonly flavor: ComposeFlavor,
    private readonly log: Logger,
    /** Set for every run (e.g. the classic builder on Podman: docker/engine-kind.ts). */
    private readonly baseEnv: Record<string, string> = {},
  ) {}

  commandLine(project: ComposeProject, args: readonly string[]): {file: string; args: string[]} {
    return composeCommandLine(this.flavor, project, args)
  }

  async run(project: ComposeProject, args: readonly string[], opts: ComposeRunOptions = {}): Promise<{stdout: string}> {
    const cmd = this.commandLine(project, args)
    this.log.debug({cmd: cmd.file, args: cmd.args}, 'compose')
    return runStreaming(cmd.file, cmd.args, {
      cwd: project.projectDirectory,
      env: {...this.baseEnv, ...opts.env, COMPOSE_INTERACTIVE_NO_CLI: '1'},
      ...(opts.signal ? {signal: opts.signal} : {}),
      ...(opts.onLine ? {onLine: opts.onLine} : {}),
      ...(opts.captureStdout ? {captureStdout: true} : {}),
    })
  }
}

/** `docker compose` (v2) when the plugin exists, else `docker-compose` (v1); given the engine, set up for it (Podman: no BuildKit). */
export async function detectCompose(log: Logger, engine?: Engine): Promise<ComposeClient> {
  const {execa} = await import('execa')
  const env = engine ? await buildEnvFor(engine) : {}
  const v2 = await execa('docker', ['compose', 'version'], {reject: false, stdin: 'ignore', timeout: 15_000})
  if (v2.exitCode === 0) return new ExecaComposeClient('v2', log, env)
  const v1 = await execa('docker-compose', ['version'], {reject: false, stdin: 'ignore', timeout: 15_000})
  if (v1.exitCode === 0) return new ExecaComposeClient('v1', log, env)
  throw new AbortError('Docker Compose is not installed (neither `docker compose` nor `docker-compose` runs)', {
    exit: 'NOT_FOUND',
    hint: 'Install the compose plugin (docker-compose-plugin) or docker-compose.',
  })
}

/** Resolve -f files / --project-directory / -p the way compose does. */
export async function resolveProject(
  flavor: ComposeFlavor,
  input: {files?: string[]; projectDirectory?: string; name?: string},
  cwd = process.cwd(),
): Promise<ComposeProject> {
  const {access} = await import('node:fs/promises')
  const files = (input.files ?? []).map((f) => resolve(cwd, f))
  const projectDirectory = resolve(cwd, input.projectDirectory ?? (files[0] ? resolve(files[0], '..') : cwd))
  if (files.length === 0) {
    for (const name of COMPOSE_FILES) {
      try {
        await access(resolve(projectDirectory, name))
        files.push(resolve(projectDirectory, name))
        break
      } catch {
        // try the next name
      }
    }
    if (files.length === 0)
      throw new AbortError(`No compose file in ${projectDirectory}`, {
        exit: 'NOT_FOUND',
        hint: `Give one with -f, or run from the project folder (${COMPOSE_FILES.join(', ')}).`,
      })
  }
  for (const f of files) {
    try {
      await access(f)
    } catch {
      throw new AbortError(`Compose file not found: ${f}`, {exit: 'NOT_FOUND'})
    }
  }
  // The order compose uses: -p, COMPOSE_PROJECT_NAME (environment, then .env), the top-level `name:`
  // of the compose files, then the folder name. A wrong name would make ir act on another project.
  const name =
    input.name ??
    process.env.COMPOSE_PROJECT_NAME ??
    (await projectNameFromDotenv(projectDirectory)) ??
    (await projectNameFromFiles(files)) ??
    defaultProjectName(flavor, projectDirectory)
  return {files, projectDirectory, name}
}

async function projectNameFromFiles(files: readonly string[]): Promise<string | undefined> {
  const {readFile} = await import('node:fs/promises')
  const {parse} = await import('yaml')
  let name: string | undefined
  for (const f of files) {
    try {
      const doc = parse(await readFile(f, 'utf8')) as {name?: unknown} | null
      if (typeof doc?.name === 'string' && /^[a-z0-9][a-z0-9_-]*$/.test(doc.name)) name = doc.name
    } catch {
      // compose itself reports a broken file
    }
  }
  return name
}

/** Compose reads COMPOSE_PROJECT_NAME from the project's .env file too. */
async function projectNameFromDotenv(projectDirectory: string): Promise<string | undefined> {
  const {readFile} = await import('node:fs/promises')
  try {
    const text = await readFile(resolve(projectDirectory, '.env'), 'utf8')
    const m = /^\s*(?:export\s+)?COMPOSE_PROJECT_NAME\s*=\s*["']?([A-Za-z0-9_-]+)["']?\s*$/m.exec(text)
    return m?.[1]?.toLowerCase()
  } catch {
    return undefined
  }
}

export const COMPOSE_WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir'
export const COMPOSE_CONFIG_FILES_LABEL = 'com.docker.compose.project.config_files'

/** The compose project folder (and files) that compose recorded on a container. */
export interface RecordedComposeFolder {
  projectDirectory: string
  /** From com.docker.compose.project.config_files (comma-separated absolute paths); empty when not recorded. */
  files: string[]
  project?: string
  /** The container it was read from. */
  container: string
}

/**
 * The folder compose recorded on a container (label com.docker.compose.project.working_dir, and its
 * config_files): where `ir respond`, `ir rotate` and `ir rebuild` look when run outside that folder.
 */
export function recordedComposeFolder(c: {
  name: string
  labels: Readonly<Record<string, string>>
}): RecordedComposeFolder | undefined {
  const dir = c.labels[COMPOSE_WORKING_DIR_LABEL]
  if (!dir) return undefined
  const files = (c.labels[COMPOSE_CONFIG_FILES_LABEL] ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => resolve(dir, f))
  const project = c.labels['com.docker.compose.project']
  return {projectDirectory: dir, files, ...(project ? {project} : {}), container: c.name.replace(/^\//, '')}
}

/** Whether a folder holds one of the compose file names compose looks for. */
export async function hasComposeFile(dir: string): Promise<boolean> {
  const {access} = await import('node:fs/promises')
  for (const name of COMPOSE_FILES) {
    try {
      await access(resolve(dir, name))
      return true
    } catch {
      // try the next name
    }
  }
  return false
}

/** The line a command prints on stderr when it uses a recorded folder. */
export function recordedFolderLine(f: RecordedComposeFolder): string {
  return `using the compose project folder ${f.projectDirectory} recorded on ${f.container}`
}
