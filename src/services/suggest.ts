import levenshtein from 'fast-levenshtein'

import type {ContainerSummary} from '../docker/types.js'

export interface ContainerSuggestion {
  name: string
  id: string
  /** Why it is offered: `service web`, `image nginx:1.25`, `name`. */
  why: string
}

const SERVICE_LABELS = ['com.docker.compose.service', 'com.docker.swarm.service.name'] as const

/**
 * The image as a person typed it: Podman's compat API reports `docker.io/library/nginx:1.25` and
 * `docker.io/shop/web:1` where Docker reports `nginx:1.25` and `shop/web:1`.
 */
export function imageAsTyped(image: string): string {
  return image.replace(/^docker\.io\/(library\/)?/, '')
}

/** The image's short name: no registry, no tag, no digest (`registry:5000/shop/web:1.2@sha256:...` is `web`). */
function imageShortName(image: string): string {
  const noDigest = image.split('@')[0] ?? image
  const last = noDigest.split('/').at(-1) ?? noDigest
  return last.split(':')[0] ?? last
}

/**
 * Containers a responder probably meant by an unknown reference, best first: the compose or swarm service
 * of that name, a name containing it, an image of that name, then a name a few keystrokes away. `container` is the
 * reference as parseRef left it (trimmed, no host qualifier, no leading slash).
 */
export function suggestContainers(all: readonly ContainerSummary[], container: string, max = 3): ContainerSuggestion[] {
  const ref = container.toLowerCase()
  if (ref === '') return []
  const scored: Array<ContainerSuggestion & {score: number}> = []
  for (const c of all) {
    const name = c.names[0] ?? c.id.slice(0, 12)
    const lower = name.toLowerCase()
    const service = SERVICE_LABELS.map((k) => c.labels[k]).find((v) => v !== undefined)
    const image = imageShortName(c.image).toLowerCase()
    const extra = [service !== undefined ? `service ${service}` : undefined, `image ${imageAsTyped(c.image)}`]
      .filter(Boolean)
      .join(', ')
    let score: number | undefined
    if (service !== undefined && service.toLowerCase() === ref) score = 0
    else if (lower.includes(ref) || (ref.length >= 3 && ref.includes(lower))) score = 1
    else if (image === ref) score = 2
    else if (
      service !== undefined &&
      levenshtein.get(service.toLowerCase(), ref) <= Math.max(1, Math.floor(ref.length / 4))
    )
      score = 3
    else if (levenshtein.get(lower, ref) <= Math.max(2, Math.floor(ref.length / 3))) score = 4
    if (score !== undefined) scored.push({name, id: c.id, why: extra, score})
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
  return scored.slice(0, max).map(({score: _s, ...rest}) => rest)
}

/** The hint of an unknown container reference: the likely containers, else how to list them. */
export function notFoundHint(all: readonly ContainerSummary[], ref: string): string {
  const s = suggestContainers(all, ref)
  if (s.length === 0) return 'List containers with `docker ps -a`.'
  const list = s.map((x) => `${x.name} (${x.why})`)
  return s.length === 1 ? `Did you mean ${list[0]}?` : `Did you mean one of: ${list.join('; ')}?`
}
