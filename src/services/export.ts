import {createHash} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import {lstat, mkdir, mkdtemp, rename, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGunzip, createGzip} from 'node:zlib'

import {CaseStore} from '../case/case-store.js'
import {caseFiles} from '../case/seal.js'
import {verifyCase, type VerifyResult} from '../case/verify.js'
import {AbortError, errorMessage} from '../errors.js'
import {sha256File} from '../util/fs.js'

/** Audit actions that may follow a seal without making an export stale: custody records. */
const CUSTODY_ACTIONS = new Set(['case.export', 'case.transfer'])

export interface ExportOptions {
  store: CaseStore
  id: string
  output: string
  allowedSigners?: string
}

export interface ExportResult {
  caseId: string
  output: string
  sha256: string
  size: number
  files: number
  generation: number
  exportedAt: string
  exportedBy: string
}

/**
 * The sealed case as one streamed .tar.gz (top folder = the case id), hashed while it is written:
 * verified first (the newest seal included; nothing but custody records after it), written to
 * `<output>.partial` and renamed (never replacing a file), then recorded as `case.export` with its SHA-256.
 */
export async function exportCase(opts: ExportOptions): Promise<ExportResult> {
  const {kase} = await opts.store.open({id: opts.id, create: false})
  const output = resolve(opts.output)
  if (
    await lstat(output).then(
      () => true,
      () => false,
    )
  )
    throw new AbortError(`${output} already exists`, {
      exit: 'USAGE',
      hint: 'Choose a new file name: an export never replaces a file.',
    })
  return kase.withLock(async () => {
    const v = await verifyCase(kase, opts.allowedSigners === undefined ? {} : {allowedSigners: opts.allowedSigners})
    if (!v.seal)
      throw new AbortError(`Case ${kase.id} is not sealed`, {
        exit: 'PRECONDITION',
        hint: `Seal it first: ir case seal ${kase.id} --key <ssh key>.`,
      })
    if (!v.ok)
      throw new AbortError(
        `Case ${kase.id} does not verify, so it is not exported: ${v.problems
          .slice(0, 3)
          .map((p) => p.message)
          .join('; ')}`,
        {exit: 'INTEGRITY'},
      )
    const unsealed = v.seal.afterSeal.filter((l) => !CUSTODY_ACTIONS.has(l.action))
    if (unsealed.length > 0)
      throw new AbortError(
        `Case ${kase.id} has ${unsealed.length} audit line(s) after its seal (e.g. #${unsealed[0]!.seq} ${unsealed[0]!.action})`,
        {
          exit: 'PRECONDITION',
          hint: `Seal it again (ir case seal ${kase.id} --key <ssh key>) so the export is covered by a signature.`,
        },
      )
    const files = await caseFiles(kase.dir)
    const partial = `${output}.partial`
    const tar = (await import('tar-stream')).default
    const pack = tar.pack()
    const hash = createHash('sha256')
    let size = 0
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk)
        size += chunk.length
        cb(null, chunk)
      },
    })
    await mkdir(dirname(output), {recursive: true})
    const written = pipeline(pack, createGzip(), hasher, createWriteStream(partial, {flags: 'wx', mode: 0o600}))
    try {
      for (const rel of files) {
        const abs = join(kase.dir, rel)
        const st = await lstat(abs)
        const entry = pack.entry({name: `${kase.id}/${rel}`, size: st.size, mode: 0o644, mtime: st.mtime, type: 'file'})
        await pipeline(createReadStream(abs), entry)
      }
      pack.finalize()
      await written
    } catch (error) {
      pack.destroy(error as Error)
      await written.catch(() => undefined)
      throw error
    }
    const onDisk = await sha256File(partial)
    const digest = hash.digest('hex')
    if (onDisk.sha256 !== digest)
      throw new AbortError(`${partial} does not read back as written (SHA-256 ${onDisk.sha256}, written ${digest})`, {
        exit: 'CASE_ACCESS',
      })
    await rename(partial, output)
    const exportedAt = new Date().toISOString()
    await kase.record({
      action: 'case.export',
      outcome: 'success',
      msg: `Case exported to ${output} (SHA-256 ${digest}, ${size} bytes, seal generation ${v.seal.generation})`,
      details: {output, sha256: digest, size, files: files.length, generation: v.seal.generation},
    })
    return {
      caseId: kase.id,
      output,
      sha256: digest,
      size,
      files: files.length,
      generation: v.seal.generation,
      exportedAt,
      exportedBy: kase.actor,
    }
  })
}

export interface ArchiveVerifyResult extends VerifyResult {
  archive: {path: string; sha256: string; size: number}
}

/** Extract an export into a private temporary folder (names checked: one top folder, no `..`, files only), verify it there, remove it. */
export async function verifyArchive(
  file: string,
  opts: {allowedSigners?: string; tsaCa?: string} = {},
): Promise<ArchiveVerifyResult> {
  const path = resolve(file)
  const st = await lstat(path).catch(() => undefined)
  if (!st?.isFile()) throw new AbortError(`Archive ${path} not found`, {exit: 'NOT_FOUND'})
  const {sha256: digest, size} = await sha256File(path)
  const tmp = await mkdtemp(join(tmpdir(), 'ir-archive-'))
  try {
    const tar = (await import('tar-stream')).default
    const extract = tar.extract()
    let top: string | undefined
    extract.on('entry', (header, stream, next) => {
      const fail = (why: string) => {
        stream.resume()
        next(new AbortError(`The archive ${path} holds ${why}`, {exit: 'INTEGRITY'}))
      }
      const name = header.name.replace(/\/+$/, '')
      const parts = name.split('/')
      if (name.startsWith('/') || parts.some((p) => p === '..' || p === '' || p === '.'))
        return fail(`an unsafe name: ${JSON.stringify(header.name)}`)
      top ??= parts[0]
      if (parts[0] !== top) return fail(`more than one top folder (${top}, ${parts[0]})`)
      if (header.type === 'directory') {
        stream.resume()
        mkdir(join(tmp, name), {recursive: true}).then(() => next(), next)
        return
      }
      if (header.type !== 'file') return fail(`a ${header.type} entry (${name}): an export holds files only`)
      const dest = join(tmp, name)
      mkdir(dirname(dest), {recursive: true})
        .then(() => pipeline(stream, createWriteStream(dest, {flags: 'wx', mode: 0o600})))
        .then(() => next(), next)
    })
    try {
      await pipeline(createReadStream(path), createGunzip(), extract)
    } catch (error) {
      if (error instanceof AbortError) throw error
      throw new AbortError(`The archive ${path} is damaged: ${errorMessage(error)}`, {exit: 'INTEGRITY'})
    }
    if (!top) throw new AbortError(`The archive ${path} is empty`, {exit: 'INTEGRITY'})
    const store = new CaseStore(tmp)
    const {kase} = await store.open({id: top, create: false}).catch((error: unknown) => {
      throw new AbortError(`The archive ${path} holds no case (${errorMessage(error)})`, {exit: 'INTEGRITY'})
    })
    const result = await verifyCase(kase, opts)
    if (!result.seal) {
      result.ok = false
      result.problems.push({kind: 'seal', message: 'the archive holds no seal'})
    }
    return {...result, archive: {path, sha256: digest, size}}
  } finally {
    await rm(tmp, {recursive: true, force: true})
  }
}
