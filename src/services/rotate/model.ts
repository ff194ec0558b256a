/**
 * The inventory's data model, and the builder that merges every sighting of a credential into one item.
 * Items carry names, places and reasons only: never a value, a hash of one, or a length.
 */

export type CredentialKind = 'env-var' | 'file' | 'swarm-secret' | 'swarm-config' | 'compose-secret'

export type SourceType =
  | 'dotenv'
  | 'env-file'
  | 'compose-environment'
  | 'compose-interpolation'
  | 'compose-secret'
  | 'container-env'
  | 'container-mount'
  | 'swarm'

export interface CredentialSource {
  type: SourceType
  /** The file that mentions it (.env, env_file, compose file). */
  file?: string
  line?: number
  service?: string
  container?: string
  /** The name it has there when that differs (compose `DB_PASS: ${POSTGRES_PASSWORD}`, a container's variable). */
  via?: string
  /** A host path: the secret file of a compose secret, a mounted credential file. */
  path?: string
  /** Where a mounted file appears inside the container. */
  mountedAt?: string
  /** The compose secret's name (not "secret": names like that are redacted in the case). */
  composeName?: string
}

export interface CredentialItem {
  /** Stable key: env/NAME, file/<host path>, compose-secret/name, swarm-secret/name, swarm-config/name ("/": a ":" would read as NAME:value to the redactor) */
  id: string
  name: string
  kind: CredentialKind
  sources: CredentialSource[]
  /** ir can generate a new value: it is defined in a .env-format file ir can edit. */
  canGenerate: boolean
  /** The .env-format files that define it (those a generated value is written into). */
  editableFiles: string[]
  seenByCompromised: boolean
  reasons: string[]
  notes: string[]
  /** Compose services that use it (to restart after rotation). */
  services: string[]
}

export interface InventoryWarning {
  file?: string
  line?: number
  message: string
}

const KIND_ORDER: Record<CredentialKind, number> = {
  'env-var': 0,
  'compose-secret': 1,
  file: 2,
  'swarm-secret': 3,
  'swarm-config': 4,
}

export class InventoryBuilder {
  private readonly items = new Map<string, CredentialItem>()
  /** In memory only, never returned: value -> item id, to recognise a credential under another name. */
  private readonly byValue = new Map<string, string>()
  /** Host path -> item id (compose secret files), so a mount of that file joins the same item. */
  private readonly byPath = new Map<string, string>()
  readonly warnings: InventoryWarning[] = []

  has(id: string): boolean {
    return this.items.has(id)
  }

  get(id: string): CredentialItem | undefined {
    return this.items.get(id)
  }

  all(): CredentialItem[] {
    return [...this.items.values()]
  }

  ensure(id: string, name: string, kind: CredentialKind): CredentialItem {
    let item = this.items.get(id)
    if (!item) {
      item = {
        id,
        name,
        kind,
        sources: [],
        canGenerate: false,
        editableFiles: [],
        seenByCompromised: false,
        reasons: [],
        notes: [],
        services: [],
      }
      this.items.set(id, item)
    }
    return item
  }

  /** Add a sighting; creates the item when needed. */
  add(
    id: string,
    name: string,
    kind: CredentialKind,
    source: CredentialSource,
    reasons: readonly string[] = [],
  ): CredentialItem {
    const item = this.ensure(id, name, kind)
    if (!item.sources.some((s) => sameSource(s, source))) item.sources.push(source)
    for (const r of reasons) if (!item.reasons.includes(r)) item.reasons.push(r)
    if (source.service && !item.services.includes(source.service)) item.services.push(source.service)
    if (source.type === 'container-env' || source.type === 'container-mount') item.seenByCompromised = true
    return item
  }

  note(id: string, note: string): void {
    const item = this.items.get(id)
    if (item && !item.notes.includes(note)) item.notes.push(note)
  }

  editable(id: string, file: string): void {
    const item = this.items.get(id)
    if (item && !item.editableFiles.includes(file)) item.editableFiles.push(file)
  }

  rememberValue(value: string | undefined, id: string): void {
    // Only values distinctive enough to identify a credential; never a flag or a word.
    if (value !== undefined && value.length >= 8 && !this.byValue.has(value)) this.byValue.set(value, id)
  }

  idForValue(value: string): string | undefined {
    return this.byValue.get(value)
  }

  rememberPath(path: string, id: string): void {
    this.byPath.set(path, id)
  }

  idForPath(path: string): string | undefined {
    return this.byPath.get(path)
  }

  warn(w: InventoryWarning): void {
    if (!this.warnings.some((x) => x.file === w.file && x.line === w.line && x.message === w.message))
      this.warnings.push(w)
  }

  /** Final list: credentials seen by a compromised container first, then by kind and name. The value index is dropped. */
  finish(): CredentialItem[] {
    this.byValue.clear()
    const list = this.all().map((item) => ({
      ...item,
      canGenerate: item.editableFiles.length > 0,
      services: [...item.services].sort(),
      reasons: sortReasons(item.reasons),
    }))
    return list.sort(
      (a, b) =>
        Number(b.seenByCompromised) - Number(a.seenByCompromised) ||
        KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
        a.name.localeCompare(b.name),
    )
  }
}

function sortReasons(reasons: string[]): string[] {
  const rank = (r: string): number =>
    r === 'by-name' ? 0 : r.startsWith('by-shape:') ? 1 : r.startsWith('known-default:') ? 2 : 3
  return [...reasons].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
}

function sameSource(a: CredentialSource, b: CredentialSource): boolean {
  return (
    a.type === b.type &&
    a.file === b.file &&
    a.line === b.line &&
    a.service === b.service &&
    a.container === b.container &&
    a.via === b.via &&
    a.path === b.path &&
    a.mountedAt === b.mountedAt &&
    a.composeName === b.composeName
  )
}
