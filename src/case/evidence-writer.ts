import {createHash} from 'node:crypto'
import {constants} from 'node:fs'
import {open, rename} from 'node:fs/promises'
import {basename, dirname, extname, join, relative, sep} from 'node:path'
import {Readable, Transform, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {AbortError} from '../errors.js'
import {ensureDir, FILE_MODE, sha256File} from '../util/fs.js'
import {sha256FileInWorker} from '../util/hash-worker.js'

export interface WrittenFile {
  absPath: string
  relPath: string
  sha256: string
  size: number
}

export type EvidenceContent = Readable | AsyncIterable<Buffer | string> | Buffer | string

/** A transform that hashes and counts what passes through it. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256')
  size = 0
  constructor(private readonly onProgress?: (bytes: number) => void) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk)
    this.size += chunk.length
    this.onProgress?.(this.size)
    cb(null, chunk)
  }
  digest(): string {
    return this.hash.digest('hex')
  }
}

/**
 * Stream content into a new file under the case folder, hashing while writing: never overwrites
 * (O_EXCL; a numeric suffix is added on a clash), fsyncs, then re-reads the file and checks the
 * bytes on disk against the hash. A failed transfer is kept as `<name>.partial`, never deleted.
 */
export async function writeEvidenceFile(caseDir: string, relPath: string, content: EvidenceContent, opts: {signal?: AbortSignal; onProgress?: (bytes: number) => void; through?: Transform} = {}): Promise<WrittenFile> {
  const wanted = join(caseDir, relPath)
  if (relative(caseDir, wanted).startsWith('..')) throw new AbortError(`Refusing to write outside the case: ${relPath}`, {exit: 'INTEGRITY'})
  await ensureDir(dirname(wanted))
  const {fh, absPath} = await openExclusive(wanted)
  const hasher = new HashingStream(opts.onProgress)
  const source = typeof content === 'string' || Buffer.isBuffer(content) ? Readable.from([Buffer.from(content)]) : content
  try {
    const signal = opts.signal ? {signal: opts.signal} : {}
    if (opts.through) await pipeline(source, hasher, opts.through, fileSink(fh), signal)
    else await pipeline(source, hasher, fileSink(fh), signal)
  } catch (error) {
    await fh.close().catch(() => undefined)
    await rename(absPath, `${absPath}.partial`).catch(() => undefined)
    throw error
  }
  await fh.close()
  const streamed = hasher.digest()
  // Small files are re-hashed inline; large ones in a worker thread (another core).
  const onDisk = hasher.size > 8 * 1024 * 1024 ? await sha256FileInWorker(absPath) : await sha256File(absPath)
  if (onDisk.sha256 !== streamed || onDisk.size !== hasher.size) {
    throw new AbortError(`Verification failed for ${absPath}: the bytes on disk do not match what was streamed`, {exit: 'INTEGRITY', hint: 'Check the disk; the file was kept for examination.'})
  }
  return {absPath, relPath: relative(caseDir, absPath).split(sep).join('/'), sha256: streamed, size: hasher.size}
}

type Handle = Awaited<ReturnType<typeof open>>

/** A writable over an open file handle that fsyncs before it finishes (and leaves closing to us). */
function fileSink(fh: Handle): Writable {
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      fh.write(chunk).then(() => cb(), cb)
    },
    writev(chunks, cb) {
      fh.writev(chunks.map((c) => c.chunk as Buffer)).then(() => cb(), cb)
    },
    final(cb) {
      fh.sync().then(() => cb(), cb)
    },
  })
}

async function openExclusive(wanted: string): Promise<{fh: Handle; absPath: string}> {
  const ext = extname(wanted)
  const stem = wanted.slice(0, wanted.length - ext.length)
  for (let i = 0; i < 1000; i++) {
    const candidate = i === 0 ? wanted : `${stem}-${i}${ext}`
    try {
      const fh = await open(candidate, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE)
      return {fh, absPath: candidate}
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  throw new AbortError(`Too many files named like ${basename(wanted)}`, {exit: 'CASE_ACCESS'})
}
