import {isAbsolute, resolve} from 'node:path'

import {type Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument} from 'yaml'

import {classify, nameStrength, valueShape} from './detect.js'
import {bufferToText} from './dotenv.js'
import {readForInventory} from './files.js'
import {parseInterpolation, soleReference, substitute, type VarRef} from './interpolate.js'
import type {InventoryBuilder, InventoryWarning} from './model.js'

/**
 * Reads compose files (without running compose) for the credentials they use: `environment:` entries
 * (map and list forms), `env_file:` files, top-level and service `secrets:`, and variables interpolated
 * from the project's .env anywhere in the file.
 */

export interface ComposeDoc {
  file: string
  doc: Document
  lines: LineCounter
}

export interface ComposeContext {
  builder: InventoryBuilder
  projectDir: string
  /** Interpolation variables: the shell environment over the project's .env files. Values stay in memory. */
  lookup: (name: string) => string | undefined
  /** Add the .env definitions of a variable to its item (creating it) and return the item id. */
  promote: (name: string, reasons: readonly string[]) => string
  /** Whether the project's .env files define the variable. */
  definedInDotenv: (name: string) => boolean
  /** Parse an env_file and add its credentials; returns its entries' names. */
  scanEnvFile: (path: string, service: string, required: boolean) => Promise<string[]>
}

export interface ComposeScan {
  /** Top-level `name:` of the project, when a file sets it. */
  name?: string
  /** service -> variable name in the container -> item id, for recognising container variables. */
  aliases: Map<string, Map<string, string>>
  services: string[]
}

export async function loadComposeDocs(
  files: readonly string[],
  warn: (w: InventoryWarning) => void,
): Promise<ComposeDoc[]> {
  const docs: ComposeDoc[] = []
  for (const file of files) {
    const buf = await readForInventory(file, warn, {what: 'compose file'})
    if (!buf) continue
    const lines = new LineCounter()
    const doc = parseDocument(bufferToText(buf).replace(/^\uFEFF/, ''), {
      lineCounter: lines,
      merge: true,
      uniqueKeys: false,
      prettyErrors: false,
    })
    for (const e of doc.errors) {
      // The parser's message can quote the offending line, which may hold a secret: give code and line only.
      const line = lines.linePos(e.pos[0]).line
      warn({
        file,
        line,
        message: `YAML error (${e.code}) at ${file}:${line}; the rest of the file is read as far as possible`,
      })
    }
    if (doc.contents) docs.push({file, doc, lines})
  }
  return docs
}

interface Entry {
  key: string
  keyNode: Node | null
  value: Node | null
}

function deref(node: unknown, doc: Document): Node | null {
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null
  return (node as Node | null) ?? null
}

/** A mapping's entries with `<<` merge keys expanded (own keys override merged ones). */
function mapEntries(node: unknown, doc: Document): Entry[] {
  const map = deref(node, doc)
  if (!isMap(map)) return []
  const merged: Entry[] = []
  const own: Entry[] = []
  for (const pair of map.items) {
    if (!isPair(pair)) continue
    // With merge keys on, the parser gives `<<` as a symbol.
    const raw = isScalar(pair.key) ? pair.key.value : pair.key
    const key = typeof raw === 'symbol' ? '<<' : String(raw)
    if (key === '<<') {
      const v = deref(pair.value, doc)
      const sources = isSeq(v) ? v.items : [v]
      for (const s of sources) merged.push(...mapEntries(s, doc))
      continue
    }
    own.push({key, keyNode: pair.key as Node | null, value: deref(pair.value, doc)})
  }
  const ownKeys = new Set(own.map((e) => e.key))
  return [...merged.filter((e) => !ownKeys.has(e.key)), ...own]
}

function get(node: unknown, key: string, doc: Document): Node | null {
  return mapEntries(node, doc).find((e) => e.key === key)?.value ?? null
}

function seqItems(node: unknown, doc: Document): Node[] {
  const seq = deref(node, doc)
  if (!isSeq(seq)) return []
  return seq.items.map((i) => deref(i, doc)).filter((i): i is Node => i !== null)
}

function str(node: Node | null): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined
  return String(node.value)
}

function lineOf(d: ComposeDoc, node: Node | null | undefined): number | undefined {
  const offset = node?.range?.[0]
  return offset === undefined ? undefined : d.lines.linePos(offset).line
}

export async function scanCompose(docs: readonly ComposeDoc[], ctx: ComposeContext): Promise<ComposeScan> {
  const b = ctx.builder
  const scan: ComposeScan = {aliases: new Map(), services: []}
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(ctx.projectDir, p))

  // 1. Top-level secrets, from every file, before the services that use them.
  const secrets = new Map<string, {id: string; file: string; line?: number; path?: string; envVar?: string}>()
  for (const d of docs) {
    const name = str(get(d.doc.contents, 'name', d.doc))
    if (name) scan.name = substitute(name, ctx.lookup)
    for (const e of mapEntries(get(d.doc.contents, 'secrets', d.doc), d.doc)) {
      const line = lineOf(d, e.keyNode)
      const fileRef = str(get(e.value, 'file', d.doc))
      const envVar = str(get(e.value, 'environment', d.doc))
      const external = get(e.value, 'external', d.doc)
      const externalName = str(get(e.value, 'name', d.doc)) ?? e.key
      if (fileRef !== undefined) {
        const path = abs(substitute(fileRef, ctx.lookup))
        const id = `compose-secret/${e.key}`
        b.add(
          id,
          e.key,
          'compose-secret',
          {type: 'compose-secret', file: d.file, ...(line ? {line} : {}), path, composeName: e.key},
          ['declared-secret'],
        )
        b.rememberPath(path, id)
        secrets.set(e.key, {id, file: d.file, ...(line ? {line} : {}), path})
      } else if (envVar !== undefined) {
        const id = ctx.promote(envVar, ['declared-secret'])
        b.add(
          id,
          envVar,
          'env-var',
          {
            type: 'compose-secret',
            file: d.file,
            ...(line ? {line} : {}),
            composeName: e.key,
            ...(envVar !== e.key ? {via: e.key} : {}),
          },
          ['declared-secret'],
        )
        secrets.set(e.key, {id, file: d.file, ...(line ? {line} : {}), envVar})
      } else if (external && (str(external) === 'true' || isMap(external))) {
        const id = `swarm-secret/${externalName}`
        b.add(
          id,
          externalName,
          'swarm-secret',
          {type: 'compose-secret', file: d.file, ...(line ? {line} : {}), composeName: e.key},
          ['declared-secret'],
        )
        b.note(id, 'external secret: it is managed outside this compose project (swarm or platform); rotate it there')
        secrets.set(e.key, {id, file: d.file, ...(line ? {line} : {})})
      } else {
        b.warn({
          file: d.file,
          ...(line ? {line} : {}),
          message: `secret "${e.key}" at ${d.file}:${line ?? '?'} has no file, environment or external source`,
        })
      }
    }
  }

  // 2. Services.
  for (const d of docs) {
    for (const svc of mapEntries(get(d.doc.contents, 'services', d.doc), d.doc)) {
      const service = svc.key
      if (!scan.services.includes(service)) scan.services.push(service)
      const aliases = scan.aliases.get(service) ?? new Map<string, string>()
      scan.aliases.set(service, aliases)

      // env_file: string, list of strings, or list of {path, required}
      const envFileNode = get(svc.value, 'env_file', d.doc)
      const envFiles: Array<{path: string; required: boolean}> = []
      const one = str(envFileNode)
      if (one !== undefined) envFiles.push({path: one, required: true})
      for (const item of seqItems(envFileNode, d.doc)) {
        const s = str(item)
        if (s !== undefined) envFiles.push({path: s, required: true})
        else {
          const p = str(get(item, 'path', d.doc))
          if (p !== undefined) envFiles.push({path: p, required: str(get(item, 'required', d.doc)) !== 'false'})
        }
      }
      for (const ef of envFiles) {
        const names = await ctx.scanEnvFile(abs(substitute(ef.path, ctx.lookup)), service, ef.required)
        for (const n of names) if (b.has(`env/${n}`)) aliases.set(n, `env/${n}`)
      }

      // environment: map or list
      const envNode = get(svc.value, 'environment', d.doc)
      const envEntries: Array<{key: string; value: string | undefined; line?: number}> = []
      for (const e of mapEntries(envNode, d.doc)) {
        const line = lineOf(d, e.keyNode)
        envEntries.push({key: e.key, value: str(e.value), ...(line ? {line} : {})})
      }
      for (const item of seqItems(envNode, d.doc)) {
        const s = str(item)
        if (s === undefined) continue
        const line = lineOf(d, item)
        const eq = s.indexOf('=')
        envEntries.push(
          eq < 0
            ? {key: s, value: undefined, ...(line ? {line} : {})}
            : {key: s.slice(0, eq), value: s.slice(eq + 1), ...(line ? {line} : {})},
        )
      }
      for (const e of envEntries) environmentEntry(d, ctx, service, aliases, e)

      // service secrets: [name] or [{source, target}]
      for (const item of seqItems(get(svc.value, 'secrets', d.doc), d.doc)) {
        const source = str(item) ?? str(get(item, 'source', d.doc))
        if (!source) continue
        const target = str(get(item, 'target', d.doc)) ?? source
        const line = lineOf(d, item)
        const decl = secrets.get(source)
        if (!decl) {
          b.warn({
            file: d.file,
            ...(line ? {line} : {}),
            message: `service "${service}" uses secret "${source}" at ${d.file}:${line ?? '?'}, which no compose file declares`,
          })
          continue
        }
        const item2 = b.get(decl.id)!
        b.add(decl.id, item2.name, item2.kind, {
          type: 'compose-secret',
          file: d.file,
          ...(line ? {line} : {}),
          service,
          composeName: source,
          mountedAt: target.startsWith('/') ? target : `/run/secrets/${target}`,
        })
      }
    }
  }

  // 3. Interpolated variables anywhere else in the files (command, healthcheck, labels, build args...).
  for (const d of docs) walkScalars(d, d.doc.contents, [], ctx)

  for (const item of b.all()) {
    if (item.kind !== 'env-var' || item.editableFiles.length > 0) continue
    if (item.sources.some((s) => s.type === 'compose-interpolation') && !ctx.definedInDotenv(item.name)) {
      b.note(
        item.id,
        'not defined in any .env file ir read: compose takes it from the environment of whoever runs it (or it is unset)',
      )
    }
  }
  return scan
}

function environmentEntry(
  d: ComposeDoc,
  ctx: ComposeContext,
  service: string,
  aliases: Map<string, string>,
  e: {key: string; value: string | undefined; line?: number},
): void {
  const b = ctx.builder
  const at = {file: d.file, ...(e.line ? {line: e.line} : {}), service}
  if (e.value === undefined) {
    // `- KEY` / `KEY:`: passed through from the environment compose runs in (the shell, then .env).
    const c = classify(e.key, ctx.lookup(e.key))
    if (c.credential || b.has(`env/${e.key}`)) {
      const id = ctx.promote(e.key, c.reasons)
      b.add(id, e.key, 'env-var', {type: 'compose-environment', ...at}, c.reasons)
      aliases.set(e.key, id)
    }
    return
  }
  const {refs} = parseInterpolation(e.value)
  if (refs.length === 0) {
    const c = classify(e.key, e.value)
    if (!c.credential) return
    const id = `env/${e.key}`
    b.add(id, e.key, 'env-var', {type: 'compose-environment', ...at}, c.reasons)
    b.note(
      id,
      `set literally in ${d.file}${e.line ? ` line ${e.line}` : ''}: a new value has to be written there (ir does not edit compose files)`,
    )
    aliases.set(e.key, id)
    return
  }
  const keyStrength = nameStrength(e.key)
  const sole = soleReference(e.value)
  const visit = (list: VarRef[]): void => {
    for (const r of list) {
      const c = classify(r.name, ctx.lookup(r.name))
      const reasons = [...c.reasons]
      if (keyStrength === 'strong' && !reasons.includes('by-name')) reasons.push('by-name')
      const dflt = r.operator === ':-' || r.operator === '-' ? r.argument : undefined
      const dfltShape = dflt !== undefined && parseInterpolation(dflt).refs.length === 0 ? valueShape(dflt) : undefined
      if (dfltShape) reasons.push(`by-shape:${dfltShape}`)
      if (reasons.length > 0 || b.has(`env/${r.name}`)) {
        const id = ctx.promote(r.name, reasons)
        b.add(
          id,
          r.name,
          'env-var',
          {type: 'compose-interpolation', ...at, ...(e.key !== r.name ? {via: e.key} : {})},
          reasons,
        )
        if (dflt !== undefined && dflt !== '' && parseInterpolation(dflt).refs.length === 0) {
          b.note(
            id,
            `${d.file}${e.line ? ` line ${e.line}` : ''} gives it a default value: a default kept in the compose file is a forgotten credential; remove it`,
          )
        }
        if (sole === r) aliases.set(e.key, id)
      }
      visit(r.nested)
    }
  }
  visit(refs)
}

function walkScalars(d: ComposeDoc, node: Node | null, path: string[], ctx: ComposeContext): void {
  if (!node) return
  // environment is handled entry by entry (it knows the name the container sees).
  if (path.length === 3 && path[0] === 'services' && path[2] === 'environment') return
  if (isMap(node)) {
    for (const e of mapEntries(node, d.doc)) walkScalars(d, e.value, [...path, e.key], ctx)
    return
  }
  if (isSeq(node)) {
    for (const item of seqItems(node, d.doc)) walkScalars(d, item, path, ctx)
    return
  }
  const s = str(node)
  if (s === undefined || !s.includes('$')) return
  const service = path[0] === 'services' ? path[1] : undefined
  const visit = (refs: VarRef[]): void => {
    for (const r of refs) {
      const c = classify(r.name, ctx.lookup(r.name))
      if (c.credential || ctx.builder.has(`env/${r.name}`)) {
        const id = ctx.promote(r.name, c.reasons)
        const line = lineOf(d, node)
        ctx.builder.add(
          id,
          r.name,
          'env-var',
          {type: 'compose-interpolation', file: d.file, ...(line ? {line} : {}), ...(service ? {service} : {})},
          c.reasons,
        )
      }
      visit(r.nested)
    }
  }
  visit(parseInterpolation(s).refs)
}
