import {basename, resolve} from 'node:path'

import {AbortError, ExternalCommandError} from '../errors.js'
import type {Logger} from '../util/logger.js'

export type ComposeFlavor = 'v2' | 'v1'

/** Which compose project: as the compose CLI takes it (-f files, --project-directory, -p). */
export interface ComposeProject {
  files: string[]
  projectDirectory: string
  name: string
}

export interface ComposeRunOptions {
  /** Each output line (stdout and stderr), as it comes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  signal?: AbortSignal
  env?: Record<string, string>
}

/** Compose behind a small interface: v2 (`docker compose`) or v1 (`docker-compose`), argument arrays only. */
export interface ComposeClient {
  readonly flavor: ComposeFlavor
  /** The program and arguments that would run, for --dry-run output and error messages. */
  commandLine(project: ComposeProject, args: readonly string[]): {file: string; args: string[]}
  run(project: ComposeProject, args: readonly string[], opts?: ComposeRunOptions): Promise<{stdout: string}>
}

export function composeCommandLine(flavor: ComposeFlavor, project: ComposeProject, args: readonly string[]): {file: string; args: string[]} {
  const projectArgs = [...project.files.flatMap((f) => ['-f', f]), '--project-directory', project.projectDirectory, '-p', project.name]
  return flavor === 'v2' ? {file: 'docker', args: ['compose', ...projectArgs, ...args]} : {file: 'docker-compose', args: [...projectArgs, ...args]}
}

/**
 * The project name compose derives from a folder: lowercase, keeping [a-z0-9_-] (compose v1 >= 1.21
 * and v2 alike); v2 also drops leading "_" and "-".
 */
export function defaultProjectName(flavor: ComposeFlavor, projectDirectory: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.COMPOSE_PROJECT_NAME) return env.COMPOSE_PROJECT_NAME
  const base = basename(resolve(projectDirectory)).toLowerCase().replace(/[^a-z0-9_-]/g, '')
  return flavor === 'v2' ? base.replace(/^[_-]+/, '') : base
}

const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml']

export class ExecaComposeClient implements ComposeClient {
  constructor(
    readonly flavor: ComposeFlavor,
    private readonly log: Logger,
  ) {}

  commandLine(project: ComposeProject, args: readonly string[]): {file: string; args: string[]} {
    return composeCommandLine(this.flavor, project, args)
  }

  async run(project: ComposeProject, args: readonly string[], opts: ComposeRunOptions = {}): Promise<{stdout: string}> {
    const {execa} = await import('execa')
    const cmd = this.commandLine(project, args)
    this.log.debug({cmd: cmd.file, args: cmd.args}, 'compose')
    const child = execa(cmd.file, cmd.args, {
      cwd: project.projectDirectory,
      reject: false,
      stdin: 'ignore',
      all: false,
      ...(opts.signal ? {cancelSignal: opts.signal} : {}),
      env: {...opts.env, COMPOSE_INTERACTIVE_NO_CLI: '1'},
      lines: false,
    })
    const out: string[] = []
    const tail: string[] = []
    const pump = (stream: NodeJS.ReadableStream | null | undefined, name: 'stdout' | 'stderr'): Promise<void> =>
      new Promise((resolvePump) => {
        if (!stream) return resolvePump()
        let rest = ''
        stream.on('data', (chunk: Buffer) => {
          const lines = (rest + chunk.toString('utf8')).split(/\r?\n/)
          rest = lines.pop() ?? ''
          for (const l of lines) emit(l, name)
        })
        stream.on('end', () => {
          if (rest) emit(rest, name)
          resolvePump()
        })
        stream.on('error', () => resolvePump())
      })
    const emit = (line: string, name: 'stdout' | 'stderr'): void => {
      if (name === 'stdout') out.push(line)
      tail.push(line)
      if (tail.length > 40) tail.shift()
      opts.onLine?.(line, name)
    }
    const pumps = Promise.all([pump(child.stdout, 'stdout'), pump(child.stderr, 'stderr')])
    const result = await child
    await pumps
    if (result.failed) {
      const reason = result.isCanceled ? 'interrupted' : result.exitCode === undefined ? (result.originalMessage ?? 'could not run') : `exit ${result.exitCode}`
      throw new ExternalCommandError(cmd.file, cmd.args, `${reason}${tail.length ? `; last output: ${tail.slice(-5).join(' | ')}` : ''}`, {...(result.exitCode === undefined ? {} : {exitStatus: result.exitCode}), ...(result.isCanceled ? {exit: 'INTERRUPTED'} : {})})
    }
    return {stdout: out.join('\n')}
  }
}

/** `docker compose` (v2) when the plugin exists, else `docker-compose` (v1). */
export async function detectCompose(log: Logger): Promise<ComposeClient> {
  const {execa} = await import('execa')
  const v2 = await execa('docker', ['compose', 'version'], {reject: false, stdin: 'ignore', timeout: 15_000})
  if (v2.exitCode === 0) return new ExecaComposeClient('v2', log)
  const v1 = await execa('docker-compose', ['version'], {reject: false, stdin: 'ignore', timeout: 15_000})
  if (v1.exitCode === 0) return new ExecaComposeClient('v1', log)
  throw new AbortError('Docker Compose is not installed (neither `docker compose` nor `docker-compose` runs)', {exit: 'NOT_FOUND', hint: 'Install the compose plugin (docker-compose-plugin) or docker-compose.'})
}

/** Resolve -f files / --project-directory / -p the way compose does. */
export async function resolveProject(flavor: ComposeFlavor, input: {files?: string[]; projectDirectory?: string; name?: string}, cwd = process.cwd()): Promise<ComposeProject> {
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
    if (files.length === 0) throw new AbortError(`No compose file in ${projectDirectory}`, {exit: 'NOT_FOUND', hint: `Give one with -f, or run from the project folder (${COMPOSE_FILES.join(', ')}).`})
  }
  for (const f of files) {
    try {
      await access(f)
    } catch {
      throw new AbortError(`Compose file not found: ${f}`, {exit: 'NOT_FOUND'})
    }
  }
  return {files, projectDirectory, name: input.name ?? process.env.COMPOSE_PROJECT_NAME ?? (await projectNameFromDotenv(projectDirectory)) ?? defaultProjectName(flavor, projectDirectory)}
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
