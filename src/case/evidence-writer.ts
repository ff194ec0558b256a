import {createHash} from 'node:crypto'
import {constants} from 'node:fs'
import {link, lstat, open, stat, unlink} from 'node:fs/promises'
import {basename, dirname, join, relative, sep} from 'node:path'
import {Readable, Transform, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {AbortError} from '../errors.js'
import {ensureDir, FILE_MODE, fsyncDir, sha256File} from '../util/fs.js'
import {evidenceExtension} from './inflight.js'
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

export const PARTIAL_SUFFIX = '.partial'

export interface PartialFile extends WrittenFile {
  /** Where the verified bytes are now: `<absPath>.partial`, until commitEvidenceFile(). */
  partialPath: string
}

/**
 * Stream content into `<name>.partial` under the case folder, hashing while writing (O_EXCL: never
 * overwrites; a numeric suffix is added when the name or its partial exists), fsync, then re-read the
 * file and check the bytes on disk against the hash. The final name is given only by
 * commitEvidenceFile(), after the artifact is recorded: a killed or failed transfer leaves nothing
 * under a final name, and what was already read stays in the `.partial`.
 */
export async function writeEvidenceFile(
  caseDir: string,
  relPath: string,
  content: EvidenceContent,
  opts: {signal?: AbortSignal; onProgress?: (bytes: number) => void; through?: Transform} = {},
): Promise<PartialFile> {
  const wanted = join(caseDir, relPath)
  if (relative(caseDir, wanted).startsWith('..'))
    throw new AbortError(`Refusing to write outside the case: ${relPath}`, {exit: 'INTEGRITY'})
  let opened: {fh: Handle; absPath: string}
  try {
    await ensureDir(dirname(wanted))
    opened = await openExclusive(wanted)
  } catch (error) {
    // Nothing will read the source: close it (an engine stream would otherwise stay open).
    if (content instanceof Readable) {
      content.on('error', () => undefined)
      content.destroy()
    }
    throw error
  }
  const {fh, absPath} = opened
  const partialPath = `${absPath}${PARTIAL_SUFFIX}`
  const hasher = new HashingStream(opts.onProgress)
  const source =
    typeof content === 'string' || Buffer.isBuffer(content) ? Readable.from([Buffer.from(content)]) : content
  try {
    const signal = opts.signal ? {signal: opts.signal} : {}
    if (opts.through) await pipeline(source, hasher, opts.through, fileSink(fh), signal)
    else await pipeline(source, hasher, fileSink(fh), signal)
  } catch (error) {
    await fh.sync().catch(() => undefined)
    await fh.close().catch(() => undefined)
    const written = await stat(partialPath).then(
      (st) => st.size,
      () => 0,
    )
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new AbortError(
        `No space left on device writing ${partialPath}: ${written} bytes written, kept as .partial`,
        {
          exit: 'CASE_ACCESS',
          hint: 'Free space, or move the incidents folder to a larger disk (--incidents-dir); the next ir command on this case reports the partial file.',
          cause: error,
        },
      )
    }
    throw Object.assign(error as Error, {partialPath, bytesWritten: written})
  }
  await fh.close()
  const streamed = hasher.digest()
  // Small files are re-hashed inline; large ones in a worker thread (another core).
  const onDisk = hasher.size > 8 * 1024 * 1024 ? await sha256FileInWorker(partialPath) : await sha256File(partialPath)
  if (onDisk.sha256 !== streamed || onDisk.size !== hasher.size) {
    throw new AbortError(`Verification failed for ${partialPath}: the bytes on disk do not match what was streamed`, {
      exit: 'INTEGRITY',
      hint: 'Check the disk; the file was kept as .partial for examination.',
    })
  }
  return {
    absPath,
    partialPath,
    relPath: relative(caseDir, absPath).split(sep).join('/'),
    sha256: streamed,
    size: hasher.size,
  }
}

/**
 * Give a verified partial its final name without ever replacing a file there (link, then unlink the
 * partial), and fsync the folder. Called under the case lock once the artifact is recorded.
 */
export async function commitEvidenceFile(file: {partialPath: string; absPath: string}): Promise<void> {
  try {
    await link(file.partialPath, file.absPath)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const [a, b] = await Promise.all([lstat(file.partialPath), lstat(file.absPath)])
    if (a.ino !== b.ino)
      throw new AbortError(`Refusing to replace ${file.absPath}: a file already has that name`, {exit: 'INTEGRITY'})
  }
  await unlink(file.partialPath)
  await fsyncDir(dirname(file.absPath))
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
  const ext = evidenceExtension(wanted)
  const stem = wanted.slice(0, wanted.length - ext.length)
  for (let i = 0; i < 1000; i++) {
    const candidate = i === 0 ? wanted : `${stem}-${i}${ext}`
    if (await exists(candidate)) continue
    try {
      const fh = await open(
        `${candidate}${PARTIAL_SUFFIX}`,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        FILE_MODE,
      )
      return {fh, absPath: candidate}
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  throw new AbortError(`Too many files named like ${basename(wanted)}`, {exit: 'CASE_ACCESS'})
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  )
}
