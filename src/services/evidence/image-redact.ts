import {createHash} from 'node:crypto'
import {PassThrough, type Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import tar from 'tar-stream'

import {redactDeep} from '../../util/redact.js'

/** Image config documents inside a `docker save` tar (legacy layout): <id>.json and <layer>/json. */
const CONFIG_ENTRY = /^(?:[0-9a-f]{64}\.json|[0-9a-f]{64}\/json)$/
/** OCI layout (Docker 25+, the containerd image store): content-addressed blobs. */
const BLOB_ENTRY = /^blobs\/sha256\/([0-9a-f]{64})$/
/** Top-level documents of an OCI-layout save that name blobs by digest. */
const TOP_DOCUMENTS = new Set(['index.json', 'manifest.json'])
const MAX_CONFIG = 16 * 1024 * 1024

export interface ImageIdChange {
  /** sha256:<hex> of the image config as the engine saved it, and as written to the evidence tar. */
  before: string
  after: string
}

export interface ImageRedaction {
  configsRedacted: number
  /** Config entries that were not valid JSON and were kept as they are. */
  keptAsIs: string[]
  /** The engine saved in the OCI layout (Docker 25+, containerd store): blobs were rewritten and renamed. */
  ociLayout: boolean
  /** Image ids (config digests) changed by the redaction; empty when nothing secret was found. */
  imageIds: ImageIdChange[]
  /** OCI layout: manifests and indexes rewritten to point at the redacted configs. */
  manifestsRewritten: number
  /** Digest of each image config as written to the tar (redacted or not): the image's id in the saved tar. */
  configDigests: string[]
}

interface Held {
  header: tar.Header
  body: Buffer
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/**
 * Rewrite a `docker save` stream so that the image config (which holds `container_config`, the
 * container's original Env and Cmd) carries no secret values, passing every layer through
 * unchanged and streaming (memory stays flat). The result still loads with `docker load`.
 *
 * Legacy layout: config entries are redacted in place. OCI layout: every JSON blob is held back
 * (layers stream through); at the end the config blobs are redacted and renamed to their new
 * digest, and the manifests, indexes and manifest.json that name them are rewritten to the new
 * digests and sizes (each renamed in turn), so the tar stays a valid, loadable OCI layout.
 */
export function redactImageTar(source: Readable): {output: Readable; done: Promise<ImageRedaction>} {
  const extract = tar.extract()
  const pack = tar.pack()
  const output = new PassThrough({highWaterMark: 1024 * 1024})
  const summary: ImageRedaction = {
    configsRedacted: 0,
    keptAsIs: [],
    ociLayout: false,
    imageIds: [],
    manifestsRewritten: 0,
    configDigests: [],
  }
  const held: Held[] = []

  const collect = (
    stream: {on(ev: 'data', f: (c: unknown) => void): unknown; on(ev: 'end', f: () => void): unknown},
    done: (body: Buffer) => void,
  ): void => {
    const chunks: Buffer[] = []
    stream.on('data', (c: unknown) => chunks.push(c as Buffer))
    stream.on('end', () => done(Buffer.concat(chunks)))
  }

  extract.on('entry', (header, stream, next) => {
    const size = header.size ?? 0
    if (header.type === 'file' && size <= MAX_CONFIG && CONFIG_ENTRY.test(header.name)) {
      collect(stream, (raw) => {
        let body = raw
        try {
          const parsed = JSON.parse(raw.toString('utf8')) as unknown
          body = Buffer.from(JSON.stringify(redactDeep(parsed)))
          summary.configsRedacted++
          if (header.name.endsWith('.json')) {
            summary.configDigests.push(`sha256:${sha256(body)}`)
            if (!body.equals(raw))
              summary.imageIds.push({before: `sha256:${header.name.slice(0, 64)}`, after: `sha256:${sha256(body)}`})
          }
        } catch {
          summary.keptAsIs.push(header.name)
        }
        pack.entry({...header, size: body.length}, body, next)
      })
      return
    }
    const blob = BLOB_ENTRY.test(header.name)
    if (blob) summary.ociLayout = true
    if (header.type === 'file' && size <= MAX_CONFIG && (TOP_DOCUMENTS.has(header.name) || blob)) {
      // A blob is held back when it is JSON (a config, manifest or index); a layer streams on from its first chunk.
      let sink: PassThrough | undefined
      const chunks: Buffer[] = []
      stream.on('data', (data: unknown) => {
        const c = data as Buffer
        if (!sink && (chunks.length > 0 || (c.length > 0 && (c[0] === 0x7b || !blob)))) {
          chunks.push(c)
          return
        }
        if (!sink) {
          sink = new PassThrough()
          const entry = pack.entry(header, next)
          entry.on('error', (error: Error) => stream.destroy(error))
          sink.pipe(entry)
        }
        if (!sink.write(c)) {
          stream.pause()
          sink.once('drain', () => stream.resume())
        }
      })
      stream.on('error', () => undefined)
      stream.on('end', () => {
        if (sink) {
          sink.end()
          return
        }
        held.push({header, body: Buffer.concat(chunks)})
        next()
      })
      return
    }
    const sink = pack.entry(header, next)
    // When the transfer is aborted the pack is destroyed: its entry sink then errors; the error
    // already travels through the pipelines, so only make sure nothing is left unhandled.
    sink.on('error', (error: Error) => stream.destroy(error))
    stream.on('error', () => undefined)
    stream.pipe(sink)
  })
  extract.on('finish', () => {
    try {
      for (const h of rewriteOciDocuments(held, summary)) pack.entry({...h.header, size: h.body.length}, h.body)
      pack.finalize()
    } catch (error) {
      pack.destroy(error as Error)
    }
  })

  const done = (async () => {
    await Promise.all([
      pipeline(source, extract).catch((error: Error) => {
        pack.destroy(error)
        throw error
      }),
      pipeline(pack, output),
    ])
    return summary
  })()
  done.catch((error: Error) => output.destroy(error))
  return {output, done}
}

type Json = Record<string, unknown>
interface Descriptor {
  digest?: unknown
  size?: unknown
}

function parseObject(body: Buffer): Json | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown
    return v && typeof v === 'object' ? (v as Json) : undefined
  } catch {
    return undefined
  }
}

/** An image config (OCI or Docker), or a legacy v1 layer json kept beside the blobs. */
function isConfig(doc: Json): boolean {
  return (
    'rootfs' in doc || 'container_config' in doc || ('config' in doc && !isDescriptor(doc.config)) || 'history' in doc
  )
}

function isDescriptor(v: unknown): v is Descriptor {
  return Boolean(v && typeof v === 'object' && typeof (v as Descriptor).digest === 'string')
}

/**
 * OCI layout: redact config blobs, then follow the digests up (manifest → index → index.json,
 * manifest.json), rewriting only documents whose references changed and renaming every rewritten
 * blob to its new digest. Documents that needed no change keep their exact bytes (and digests).
 */
function rewriteOciDocuments(held: Held[], summary: ImageRedaction): Held[] {
  // old digest (sha256:<hex>) → new {digest, size}
  const moved = new Map<string, {digest: string; size: number}>()
  const docs = held.map((h) => ({h, doc: parseObject(h.body), blob: BLOB_ENTRY.exec(h.header.name)?.[1]}))
  const rename = (d: (typeof docs)[number], body: Buffer): void => {
    d.h.body = body
    if (!d.blob) return
    const hex = sha256(body)
    moved.set(`sha256:${d.blob}`, {digest: `sha256:${hex}`, size: body.length})
    d.h.header = {...d.h.header, name: `blobs/sha256/${hex}`}
  }

  for (const d of docs) {
    if (!d.doc || !d.blob || !isConfig(d.doc)) continue
    const redacted = redactDeep(d.doc)
    summary.configsRedacted++
    const image = !('id' in d.doc) // not a legacy v1 layer json
    if (JSON.stringify(redacted) === JSON.stringify(d.doc)) {
      if (image) summary.configDigests.push(`sha256:${d.blob}`)
      continue
    }
    const body = Buffer.from(JSON.stringify(redacted))
    if (image) {
      summary.imageIds.push({before: `sha256:${d.blob}`, after: `sha256:${sha256(body)}`})
      summary.configDigests.push(`sha256:${sha256(body)}`)
    }
    rename(d, body)
  }
  for (const d of held)
    if (!parseObject(d.body) && BLOB_ENTRY.test(d.header.name) && d.body[0] === 0x7b)
      summary.keptAsIs.push(d.header.name)
  if (moved.size === 0) return held

  const fix = (desc: unknown): boolean => {
    if (!isDescriptor(desc) || typeof desc.digest !== 'string') return false
    const to = moved.get(desc.digest)
    if (!to) return false
    desc.digest = to.digest
    desc.size = to.size
    return true
  }
  // Manifests, then indexes (an index may name another index): repeat until nothing moves.
  for (let changed = true, rounds = 0; changed && rounds < 8; rounds++) {
    changed = false
    for (const d of docs) {
      if (!d.doc || !d.blob || isConfig(d.doc)) continue
      let touched = false
      if (isDescriptor(d.doc.config) && Array.isArray(d.doc.layers)) touched = fix(d.doc.config) || touched
      if (Array.isArray(d.doc.manifests)) for (const m of d.doc.manifests) touched = fix(m) || touched
      if (touched) {
        rename(d, Buffer.from(JSON.stringify(d.doc)))
        summary.manifestsRewritten++
        changed = true
      }
    }
  }
  for (const d of docs) {
    if (d.h.header.name === 'index.json' && d.doc && Array.isArray(d.doc.manifests)) {
      let touched = false
      for (const m of d.doc.manifests) touched = fix(m) || touched
      if (touched) d.h.body = Buffer.from(JSON.stringify(d.doc))
    }
    if (d.h.header.name === 'manifest.json') {
      const list = parseArray(d.h.body)
      if (!list) continue
      let touched = false
      for (const m of list) {
        const cfg = typeof m.Config === 'string' ? BLOB_ENTRY.exec(m.Config)?.[1] : undefined
        const to = cfg ? moved.get(`sha256:${cfg}`) : undefined
        if (to) {
          m.Config = `blobs/sha256/${to.digest.slice('sha256:'.length)}`
          touched = true
        }
      }
      if (touched) d.h.body = Buffer.from(JSON.stringify(list))
    }
  }
  return held
}

function parseArray(body: Buffer): Json[] | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown
    return Array.isArray(v) ? (v as Json[]) : undefined
  } catch {
    return undefined
  }
}
