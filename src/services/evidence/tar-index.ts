import {createHash} from 'node:crypto'
import {Transform} from 'node:stream'

import tar from 'tar-stream'

export interface TarIndexEntry {
  path: string
  type: string
  size: number
  mode: string
  uid: number
  gid: number
  mtime: string | null
  linkTarget?: string
  sha256?: string
  /** Absolute path or a `..` segment: indexed for the examiner, never extracted anywhere. */
  unsafePath?: true
}

export interface TarIndexSummary {
  entries: number
  files: number
  bytes: number
  unsafePaths: number
  error?: string
}

export function isUnsafeTarPath(name: string): boolean {
  return name.startsWith('/') || name.split('/').includes('..') || /^[A-Za-z]:[\\/]/.test(name)
}

/**
 * A pass-through stage that parses the tar flowing through it (tar-stream, nothing written to
 * disk) and reports one index entry per member, with the SHA-256 of each regular file. The bytes
 * pass unchanged; a malformed tar stops the index, never the copy.
 */
export function createTarIndexer(onEntry: (e: TarIndexEntry) => void | Promise<void>): {
  stage: Transform
  done: Promise<TarIndexSummary>
} {
  const extract = tar.extract()
  const summary: TarIndexSummary = {entries: 0, files: 0, bytes: 0, unsafePaths: 0}
  let failed = false
  let resolveDone!: (s: TarIndexSummary) => void
  const done = new Promise<TarIndexSummary>((r) => (resolveDone = r))

  extract.on('entry', (header, stream, next) => {
    const hash = header.type === 'file' || header.type === 'contiguous-file' ? createHash('sha256') : undefined
    stream.on('data', (chunk: unknown) => {
      hash?.update(chunk as Buffer)
    })
    stream.on('end', () => {
      const unsafe = isUnsafeTarPath(header.name)
      summary.entries++
      if (hash) {
        summary.files++
        summary.bytes += header.size ?? 0
      }
      if (unsafe) summary.unsafePaths++
      const written = onEntry({
        path: header.name,
        type: header.type ?? 'file',
        size: header.size ?? 0,
        mode: (header.mode ?? 0).toString(8).padStart(4, '0'),
        uid: header.uid ?? 0,
        gid: header.gid ?? 0,
        mtime: header.mtime ? header.mtime.toISOString() : null,
        ...(header.linkname ? {linkTarget: header.linkname} : {}),
        ...(hash ? {sha256: hash.digest('hex')} : {}),
        ...(unsafe ? {unsafePath: true as const} : {}),
      })
      // Wait for the index sink when it pushes back, so the index never piles up in memory.
      if (written) written.then(() => next(), next)
      else next()
    })
    stream.on('error', next)
  })
  extract.on('error', (err: Error) => {
    if (!failed) {
      failed = true
      summary.error = err.message
      resolveDone(summary)
    }
  })
  extract.on('finish', () => {
    if (!failed) resolveDone(summary)
  })

  const stage = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb) {
      if (failed) return cb(null, chunk)
      // Respect the parser's backpressure so memory stays flat however large the tar is.
      if (extract.write(chunk)) return cb(null, chunk)
      // Wait for the parser, but never forever: if it fails meanwhile, the copy goes on without it.
      let done = false
      const go = (): void => {
        if (done) return
        done = true
        extract.off('drain', go)
        extract.off('error', go)
        extract.off('close', go)
        cb(null, chunk)
      }
      extract.once('drain', go)
      extract.once('error', go)
      extract.once('close', go)
    },
    flush(cb) {
      if (failed) return cb()
      ;(extract as unknown as {end: () => void}).end()
      done.then(() => cb(), cb)
    },
  })
  return {stage, done}
}
