import {access} from 'node:fs/promises'
import {basename, dirname, isAbsolute, resolve} from 'node:path'

import type {ContainerDetails, Engine} from '../../docker/types.js'
import {AbortError, errorMessage} from '../../errors.js'
import {type ComposeScan, loadComposeDocs, scanCompose} from './compose.js'
import {type ContainerScan, DEFAULT_WALK_LIMITS, scanContainer, type WalkLimits} from './containers.js'
import {classify, nameStrength, VNC_NOTE} from './detect.js'
import {bufferToText, parseDotenv} from './dotenv.js'
import {readForInventory} from './files.js'
import {type CredentialItem, InventoryBuilder, type InventoryWarning} from './model.js'

export type {CredentialItem, CredentialKind, CredentialSource, InventoryWarning} from './model.js'

/** The files compose looks for by default, in its order of preference. */
export const DEFAULT_COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml']
const OVERRIDE_FILES: Record<string, string[]> = {
  'compose.yaml': ['compose.override.yaml', 'compose.override.yml'],
  'compose.yml': ['compose.override.yml', 'compose.override.yaml'],
  'docker-compose.yml': ['docker-compose.override.yml', 'docker-compose.override.yaml'],
  'docker-compose.yaml': ['docker-compose.override.yaml', 'docker-compose.override.yml'],
}

export interface InventoryContainer {
  /** Already inspected. */
  details: ContainerDetails
  why: 'isolated' | 'named'
}

export interface InventoryOptions {
  cwd: string
  /** -f (relative to cwd); default: the compose file in the project directory (or cwd). */
  composeFiles?: readonly string[]
  projectDirectory?: string
  /** --env-file (relative to cwd), read after the project's .env. */
  envFiles?: readonly string[]
  containers?: readonly InventoryContainer[]
  /** For swarm secrets and configs; without it they are not listed. */
  engine?: Engine
  env?: NodeJS.ProcessEnv
  walkLimits?: WalkLimits
}

export interface ProjectInfo {
  dir: string
  /** The container whose compose labels gave dir, when run outside the project folder. */
  recordedOn?: string
  name: string
  composeFiles: string[]
  envFiles: string[]
  services: string[]
}

export interface Inventory {
  project: ProjectInfo
  items: CredentialItem[]
  containers: ContainerScan[]
  warnings: InventoryWarning[]
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  )
}

/** compose's project name rule: lower case letters, digits, '-' and '_', starting with a letter or digit. */
export function normalizeProjectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '')
}

export async function resolveProject(
  opts: Pick<InventoryOptions, 'cwd' | 'composeFiles' | 'projectDirectory' | 'envFiles'>,
): Promise<{dir: string; composeFiles: string[]; envFiles: string[]}> {
  const composeFiles: string[] = []
  for (const f of opts.composeFiles ?? []) {
    const p = isAbsolute(f) ? f : resolve(opts.cwd, f)
    if (!(await exists(p)))
      throw new AbortError(`Compose file ${p} not found`, {
        exit: 'NOT_FOUND',
        hint: 'Check the -f path, or run ir rotate in the project folder.',
      })
    composeFiles.push(p)
  }
  const dir = opts.projectDirectory
    ? resolve(opts.cwd, opts.projectDirectory)
    : composeFiles[0]
      ? dirname(composeFiles[0])
      : opts.cwd
  if (composeFiles.length === 0) {
    for (const name of DEFAULT_COMPOSE_FILES) {
      const p = resolve(dir, name)
      if (await exists(p)) {
        composeFiles.push(p)
        for (const o of OVERRIDE_FILES[name] ?? []) {
          if (await exists(resolve(dir, o))) {
            composeFiles.push(resolve(dir, o))
            break
          }
        }
        break
      }
    }
  }
  const envFiles = [
    resolve(dir, '.env'),
    ...(opts.envFiles ?? []).map((f) => (isAbsolute(f) ? f : resolve(opts.cwd, f))),
  ]
  return {dir, composeFiles, envFiles: [...new Set(envFiles)]}
}

interface Definition {
  file: string
  line: number
  value: string | undefined
}

/**
 * Build the credential inventory: every credential once, with every place it appears, those a
 * compromised container could read first. Problems with single files become warnings.
 */
export async function buildInventory(opts: InventoryOptions): Promise<Inventory> {
  const b = new InventoryBuilder()
  const warn = (w: InventoryWarning): void => b.warn(w)
  const env = opts.env ?? process.env
  const project = await resolveProject(opts)

  // 1. The project's .env files: every credential defined there, and every variable for interpolation.
  const dotenvDefs = new Map<string, Definition[]>()
  const defaultDotenv = project.envFiles[0]
  const readEnvFiles: string[] = []
  for (const file of project.envFiles) {
    const buf = await readForInventory(file, warn, {missingOk: file === defaultDotenv, what: '.env file'})
    if (!buf) continue
    readEnvFiles.push(file)
    const parsed = parseDotenv(bufferToText(buf), file)
    for (const w of parsed.warnings) warn({file: w.file, line: w.line, message: `${w.file}:${w.line}: ${w.message}`})
    for (const e of parsed.entries) {
      if (e.value === undefined) continue
      const defs = dotenvDefs.get(e.name) ?? []
      defs.push({file, line: e.line, value: e.value})
      dotenvDefs.set(e.name, defs)
    }
  }
  const dotenvValue = (name: string): string | undefined => dotenvDefs.get(name)?.at(-1)?.value
  const lookup = (name: string): string | undefined => env[name] ?? dotenvValue(name)

  const promote = (name: string, reasons: readonly string[]): string => {
    const id = `env/${name}`
    for (const def of dotenvDefs.get(name) ?? []) {
      b.add(id, name, 'env-var', {type: 'dotenv', file: def.file, line: def.line}, reasons)
      b.editable(id, def.file)
      b.rememberValue(def.value, id)
    }
    if (!b.has(id)) b.ensure(id, name, 'env-var')
    for (const r of reasons) if (!b.get(id)!.reasons.includes(r)) b.get(id)!.reasons.push(r)
    return id
  }

  for (const [name, defs] of dotenvDefs) {
    const reasons = new Set<string>()
    for (const def of defs) for (const r of classify(name, def.value).reasons) reasons.add(r)
    if (reasons.size > 0) promote(name, [...reasons])
  }

  // 2. The compose project.
  const envFileCache = new Map<string, Array<{name: string; line: number; value: string | undefined}> | null>()
  const scanEnvFile = async (path: string, service: string, required: boolean): Promise<string[]> => {
    if (!envFileCache.has(path)) {
      const buf = await readForInventory(path, warn, {missingOk: !required, what: `env_file of service "${service}"`})
      if (!buf) envFileCache.set(path, null)
      else {
        const parsed = parseDotenv(bufferToText(buf), path)
        for (const w of parsed.warnings)
          warn({file: w.file, line: w.line, message: `${w.file}:${w.line}: ${w.message}`})
        envFileCache.set(path, parsed.entries)
      }
    }
    const entries = envFileCache.get(path)
    if (!entries) return []
    const names: string[] = []
    for (const e of entries) {
      const c = classify(e.name, e.value)
      if (!c.credential) continue
      const id = `env/${e.name}`
      b.add(id, e.name, 'env-var', {type: 'env-file', file: path, line: e.line, service}, c.reasons)
      if (e.value !== undefined) {
        b.editable(id, path)
        b.rememberValue(e.value, id)
      }
      names.push(e.name)
    }
    return names
  }

  const docs = await loadComposeDocs(project.composeFiles, warn)
  let compose: ComposeScan = {aliases: new Map(), services: []}
  if (docs.length > 0) {
    compose = await scanCompose(docs, {
      builder: b,
      projectDir: project.dir,
      lookup,
      promote,
      definedInDotenv: (n) => dotenvDefs.has(n),
      scanEnvFile,
    })
  }
  const projectName = normalizeProjectName(
    compose.name ?? env.COMPOSE_PROJECT_NAME ?? dotenvValue('COMPOSE_PROJECT_NAME') ?? basename(project.dir),
  )

  // 3. Swarm secrets and configs (names only), when the engine is a swarm manager.
  if (opts.engine) {
    try {
      const {secrets, configs} = await opts.engine.swarmObjects()
      for (const s of secrets)
        b.add(`swarm-secret/${s.name}`, s.name, 'swarm-secret', {type: 'swarm'}, ['declared-secret'])
      for (const c of configs) {
        b.add(
          `swarm-config/${c.name}`,
          c.name,
          'swarm-config',
          {type: 'swarm'},
          nameStrength(c.name) ? ['by-name'] : ['swarm-config'],
        )
      }
    } catch (error) {
      warn({message: `swarm secrets and configs could not be listed: ${errorMessage(error)}`})
    }
  }

  // 4. The containers in the case: their environment (names only) and mounted credential files.
  const containers: ContainerScan[] = []
  for (const c of opts.containers ?? []) {
    containers.push(
      await scanContainer(
        b,
        c.details,
        c.why,
        {projectName, aliases: compose.aliases},
        opts.walkLimits ?? DEFAULT_WALK_LIMITS,
      ),
    )
  }

  const items = b.finish()
  for (const item of items) {
    if (item.reasons.includes('known-default:vnc') && !item.notes.includes(VNC_NOTE)) item.notes.unshift(VNC_NOTE)
    if (!item.canGenerate && item.kind === 'env-var' && item.sources.every((s) => s.type === 'container-env')) {
      item.notes.push(
        "seen only in a container's environment: find where it is set (image, run command, orchestrator) and rotate it there",
      )
    }
  }
  return {
    project: {
      dir: project.dir,
      name: projectName,
      composeFiles: project.composeFiles,
      envFiles: readEnvFiles,
      services: compose.services,
    },
    items,
    containers,
    warnings: b.warnings,
  }
}
