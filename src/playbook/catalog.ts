import {access, readdir} from 'node:fs/promises'
import {delimiter, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {AbortError} from '../errors.js'
import {parsePlaybook, readPlaybookText} from './loader.js'

/** The playbooks shipped with ir (the package's playbooks/ folder). */
export const SHIPPED_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'playbooks')

export interface CatalogEntry {
  name: string
  file: string
  source: 'local' | 'IR_PLAYBOOKS_PATH' | 'shipped'
  description?: string
  valid: boolean
  steps?: number
}

export function searchDirs(
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Array<{dir: string; source: CatalogEntry['source']}> {
  const extra = (env.IR_PLAYBOOKS_PATH ?? '').split(delimiter).filter(Boolean)
  return [
    {dir: join(cwd, 'playbooks'), source: 'local' as const},
    ...extra.map((dir) => ({dir: resolve(cwd, dir), source: 'IR_PLAYBOOKS_PATH' as const})),
    {dir: SHIPPED_DIR, source: 'shipped' as const},
  ]
}

export async function listPlaybooks(
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<CatalogEntry[]> {
  const out: CatalogEntry[] = []
  const seen = new Set<string>()
  for (const {dir, source} of searchDirs(cwd, env)) {
    let names: string[]
    try {
      names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort()
    } catch {
      continue
    }
    for (const n of names) {
      const file = join(dir, n)
      if (seen.has(file)) continue
      seen.add(file)
      const parsed = parsePlaybook(await readPlaybookText(file), file)
      out.push({
        name: n.replace(/\.ya?ml$/, ''),
        file,
        source,
        valid: Boolean(parsed.playbook),
        ...(parsed.playbook?.description ? {description: parsed.playbook.description.trim().split('\n')[0]} : {}),
        ...(parsed.playbook ? {steps: parsed.playbook.steps.length} : {}),
      })
    }
  }
  return out
}

/** A file path as given, or a playbook name looked up in ./playbooks, IR_PLAYBOOKS_PATH, then the shipped ones. */
export async function findPlaybook(
  ref: string,
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const candidates = /[/\\]|\.ya?ml$/.test(ref)
    ? [resolve(cwd, ref)]
    : searchDirs(cwd, env).flatMap(({dir}) => [join(dir, `${ref}.yml`), join(dir, `${ref}.yaml`)])
  for (const c of candidates) {
    try {
      await access(c)
      return c
    } catch {
      // next
    }
  }
  throw new AbortError(`No playbook "${ref}"`, {
    exit: 'NOT_FOUND',
    hint: 'List them with `ir playbook list`; give a path to a .yml file, or a name from ./playbooks, IR_PLAYBOOKS_PATH or the shipped ones.',
  })
}
