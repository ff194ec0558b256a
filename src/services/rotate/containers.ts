import {readdir, realpath, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

import type {ContainerDetails} from '../../docker/types.js'
import {classify, isCredentialFileName} from './detect.js'
import type {InventoryBuilder} from './model.js'

/**
 * What a compromised container could read: its environment (names only leave this module) and the
 * credential-looking files of its mounts, found by walking mounted folders with a bound.
 */

export interface WalkLimits {
  depth: number
  entries: number
}

export const DEFAULT_WALK_LIMITS: WalkLimits = {depth: 4, entries: 5000}

const SKIP_DIRS = new Set(['node_modules', '.git', 'proc', 'sys', 'dev', '__pycache__', '.cache'])

export interface ComposeLink {
  projectName?: string
  aliases: Map<string, Map<string, string>>
}

export interface ContainerScan {
  id: string
  name: string
  why: 'isolated' | 'named'
  service?: string
  envCredentials: number
  mountedCredentials: number
}

export async function scanContainer(
  b: InventoryBuilder,
  d: ContainerDetails,
  why: 'isolated' | 'named',
  compose: ComposeLink,
  limits: WalkLimits,
): Promise<ContainerScan> {
  const project = d.labels['com.docker.compose.project']
  const service =
    project !== undefined && project === compose.projectName ? d.labels['com.docker.compose.service'] : undefined
  const aliases = service ? compose.aliases.get(service) : undefined
  const scan: ContainerScan = {
    id: d.id,
    name: d.name,
    why,
    ...(service ? {service} : {}),
    envCredentials: 0,
    mountedCredentials: 0,
  }

  const config = (d.raw as {Config?: {Env?: string[] | null}}).Config
  for (const entry of config?.Env ?? []) {
    const eq = entry.indexOf('=')
    const name = eq < 0 ? entry : entry.slice(0, eq)
    const value = eq < 0 ? undefined : entry.slice(eq + 1)
    const c = classify(name, value)
    const linked = aliases?.get(name) ?? (value === undefined ? undefined : b.idForValue(value))
    if (!c.credential && !linked) continue
    const id = linked ?? `env/${name}`
    const item = b.get(id)
    b.add(
      id,
      item?.name ?? name,
      item?.kind ?? 'env-var',
      {
        type: 'container-env',
        container: d.name,
        ...(service ? {service} : {}),
        ...(item && item.name !== name ? {via: name} : {}),
      },
      c.reasons,
    )
    scan.envCredentials++
  }

  for (const m of d.mounts) {
    if (m.type !== 'bind' && m.type !== 'volume') continue
    if (!m.source || /(^|\/)docker\.sock$/.test(m.source)) continue
    scan.mountedCredentials += await scanMount(b, d.name, service, m.source, m.destination, limits)
  }

  // Everything the container's compose service uses was within its reach, even where its env or mounts do not show it.
  if (service) {
    for (const item of b.all()) {
      if (!item.services.includes(service)) continue
      if (item.kind === 'compose-secret') {
        const use = item.sources.find((s) => s.service === service && s.mountedAt)
        b.add(item.id, item.name, item.kind, {
          type: 'container-mount',
          container: d.name,
          service,
          ...(use?.mountedAt ? {mountedAt: use.mountedAt} : {}),
          ...(item.sources[0]?.path ? {path: item.sources[0].path} : {}),
        })
      } else if (!item.seenByCompromised) {
        item.seenByCompromised = true
        b.note(item.id, `used by compose service "${service}", whose container ${d.name} is in the case`)
      }
    }
  }
  return scan
}

async function scanMount(
  b: InventoryBuilder,
  container: string,
  service: string | undefined,
  source: string,
  destination: string,
  limits: WalkLimits,
): Promise<number> {
  let found = 0
  const hit = (hostPath: string, inContainer: string): void => {
    const known = b.idForPath(hostPath)
    const item = known ? b.get(known) : undefined
    const id = known ?? `file/${hostPath}`
    b.add(
      id,
      item?.name ?? hostPath,
      item?.kind ?? 'file',
      {type: 'container-mount', container, ...(service ? {service} : {}), path: hostPath, mountedAt: inContainer},
      item ? [] : ['by-file-name'],
    )
    found++
  }
  let st
  try {
    st = await stat(source)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    b.warn({
      file: source,
      message: `mount ${source} (at ${destination} in ${container}) ${code === 'ENOENT' ? 'is not on this machine (remote engine?)' : `is not readable (${code})`}: its files were not checked`,
    })
    return 0
  }
  if (!st.isDirectory()) {
    const real = await realpath(source).catch(() => source)
    if (
      b.idForPath(source) ||
      b.idForPath(real) ||
      isCredentialFileName(basename(source), basename(dirname(source))) ||
      isCredentialFileName(basename(destination), basename(dirname(destination)))
    ) {
      hit(b.idForPath(source) ? source : real, destination)
    }
    return found
  }
  let seen = 0
  let truncated = false
  const walk = async (dir: string, inContainer: string, depth: number): Promise<void> => {
    if (truncated) return
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch (error) {
      b.warn({
        file: dir,
        message: `folder ${dir} (mounted in ${container}) is not readable (${(error as NodeJS.ErrnoException).code ?? 'error'}): its files were not checked`,
      })
      return
    }
    for (const e of entries.sort((x, y) => x.name.localeCompare(y.name))) {
      if (++seen > limits.entries) {
        truncated = true
        return
      }
      const hostPath = join(dir, e.name)
      const cPath = join(inContainer, e.name)
      if (e.isDirectory()) {
        if (depth < limits.depth && !SKIP_DIRS.has(e.name)) await walk(hostPath, cPath, depth + 1)
        continue
      }
      if (!e.isFile() && !e.isSymbolicLink()) continue
      if (b.idForPath(hostPath) || isCredentialFileName(e.name, basename(dir))) hit(hostPath, cPath)
    }
  }
  await walk(source, destination, 1)
  if (truncated)
    b.warn({
      file: source,
      message: `stopped checking ${source} (mounted in ${container}) after ${limits.entries} entries; look through the rest by hand`,
    })
  return found
}
