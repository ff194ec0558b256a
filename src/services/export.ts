import {createHash} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import {lstat, mkdir, rename} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGzip} from 'node:zlib'

import type {CaseStore} from '../case/case-store.js'
import {caseFiles} from '../case/seal.js'
import {readAuditLines} from '../case/audit-log.js'
import {ArchiveView} from '../case/case-view.js'
import {verifyCase, type VerifyResult, verifyView} from '../case/verify.js'
import {AbortError} from '../errors.js'
import {sha256File} from '../util/fs.js'
import {CUSTODY_PATH} from './transfer.js'

/** Audit actions that may follow a seal without making an export stale: custody records (and state/custody.json's). */
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
    const lines = await readAuditLines(kase.audit.path)
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
    const custodyState = new Set(
      lines.filter((l) => l.action === 'case.state' && l.details?.path === CUSTODY_PATH).map((l) => l.seq),
    )
    const unsealed = v.seal.afterSeal.filter((l) => !CUSTODY_ACTIONS.has(l.action) && !custodyState.has(l.seq))
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

/**
 * Verify an export without extracting it: the archive is read once as a stream (ArchiveView: every
 * member hashed as it passes, only the small records kept in memory) and checked by the same code
 * as a case folder. An archive must hold a seal.
 */
export async function verifyArchive(
  file: string,
  opts: {allowedSigners?: string; tsaCa?: string} = {},
): Promise<ArchiveVerifyResult> {
  const view = await ArchiveView.open(file)
  const result = await verifyView(view, opts)
  if (!result.seal) {
    result.ok = false
    result.problems.push({kind: 'seal', message: 'the archive holds no seal'})
  }
  return {...result, archive: {path: view.label, sha256: view.sha256, size: view.size}}
}
