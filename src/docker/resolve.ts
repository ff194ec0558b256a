import {AbortError} from '../errors.js'
import type {ContainerClient, ContainerSummary} from './types.js'

export interface Resolved {
  ref: string
  id: string
  name: string
}

export interface ResolveFailure {
  ref: string
  error: AbortError
}

/**
 * Resolve references by exact name, full id, or unique id prefix, with one list call for all of
 * them. Unknown and ambiguous references are returned as failures so the others still proceed.
 */
export async function resolveContainers(client: ContainerClient, refs: readonly string[]): Promise<{resolved: Resolved[]; failed: ResolveFailure[]}> {
  const all = await client.list({all: true})
  const resolved: Resolved[] = []
  const failed: ResolveFailure[] = []
  const seen = new Set<string>()
  for (const ref of refs) {
    const r = resolveOne(all, ref)
    if ('error' in r) failed.push(r)
    else if (!seen.has(r.id)) {
      seen.add(r.id)
      resolved.push(r)
    }
  }
  return {resolved, failed}
}

export function resolveOne(all: readonly ContainerSummary[], rawRef: string): Resolved | ResolveFailure {
  const ref = rawRef.trim().replace(/^\//, '')
  const byId = all.find((c) => c.id === ref)
  if (byId) return {ref: rawRef, id: byId.id, name: byId.names[0] ?? byId.id.slice(0, 12)}
  const byName = all.find((c) => c.names.includes(ref))
  if (byName) return {ref: rawRef, id: byName.id, name: ref}
  if (/^[0-9a-f]+$/i.test(ref)) {
    const matches = all.filter((c) => c.id.startsWith(ref.toLowerCase()))
    if (matches.length === 1) {
      const m = matches[0]!
      return {ref: rawRef, id: m.id, name: m.names[0] ?? m.id.slice(0, 12)}
    }
    if (matches.length > 1) {
      const names = matches.slice(0, 5).map((m) => `${m.names[0] ?? ''} (${m.id.slice(0, 12)})`).join(', ')
      return {ref: rawRef, error: new AbortError(`"${rawRef}" is ambiguous: it matches ${matches.length} containers: ${names}`, {exit: 'NOT_FOUND', hint: 'Give a longer id prefix or the container name.'})}
    }
  }
  return {ref: rawRef, error: new AbortError(`No container named or with id "${rawRef}"`, {exit: 'NOT_FOUND', hint: 'List containers with `docker ps -a`.'})}
}
