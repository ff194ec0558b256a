import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {lstat, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join, relative, resolve, sep} from 'node:path'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGunzip} from 'node:zlib'

import {AbortError, BugError, errorMessage} from '../errors.js'
import {sha256File} from '../util/fs.js'
import {INFLIGHT_DIR} from './inflight.js'

/** One file of a case as verification sees it (folders are not entries). */
export interface ViewEntry {
  /** Relative to the case root, `/`-separated. */
  rel: string
  kind: 'file' | 'symlink' | 'other'
  /** What a non-file is, in words (for the examiner). */
  what?: string
  /** Names of the same inode (a folder's hard links; always 1 in an archive, whose `link` entries are `other`). */
  nlink: number
  size: number
}

/** A problem with the container itself (a damaged or unsafe archive), not with the case in it. */
export interface ViewProblem {
  path?: string
  message: string
}

/**
 * A case as verification reads it: a folder on disk, or an exported archive read once as a stream.
 * Verification (`verifyView`) and the seal check (`checkSeal`) ask only these questions, so a folder
 * and an archive are checked by the same code.
 */
export interface CaseView {
  readonly caseId: string
  /** The folder or the archive, for messages. */
  readonly label: string
  /** What was wrong with the container itself (archive damage, unsafe or repeated names). */
  readonly problems: ViewProblem[]
  /** Every entry but folders, sorted by name (a folder's lock, disk reserve and in-flight markers left out). */
  entries(): Promise<ViewEntry[]>
  stat(rel: string): Promise<ViewEntry | undefined>
  /** SHA-256 and size of a regular file; undefined when it is missing or not a regular file. */
  digest(rel: string): Promise<{sha256: string; size: number} | undefined>
  /** The bytes of a small record (case.json, manifest.json, audit.log, seal material); undefined when missing. */
  read(rel: string): Promise<Buffer | undefined>
  /** Seal generation numbers (seals/NNNN), oldest first. */
  generations(): Promise<number[]>
  /**
   * Paths on disk of a few small records, for an external tool (ssh-keygen, openssl): a folder's own
   * files; for an archive, private copies in a temporary folder removed when `fn` ends. Missing: undefined.
   */
  withFiles<T>(rels: string[], fn: (paths: Array<string | undefined>) => Promise<T>): Promise<T>
}

/** Temporary files of an atomic write (`<name>.tmp-<pid>-...`), in any path segment. */
export function isScratch(rel: string): boolean {
  return rel.split('/').some((s) => /\.tmp-\d+-/.test(s))
}

const SKIPPED_TOP = new Set(['.ir-lock', '.ir-reserve', INFLIGHT_DIR])

/** A case folder. Answers are read from disk when asked; the list of entries once. */
export class FolderView implements CaseView {
  readonly problems: ViewProblem[] = []
  private list?: Promise<ViewEntry[]>

  constructor(
    readonly dir: string,
    readonly caseId: string,
  ) {}

  get label(): string {
    return this.dir
  }

  entries(): Promise<ViewEntry[]> {
    this.list ??= this.walk()
    return this.list
  }

  private async walk(): Promise<ViewEntry[]> {
    const out: ViewEntry[] = []
    const visit = async (abs: string): Promise<void> => {
      const names = await readdir(abs, {withFileTypes: true}).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return []
        throw error
      })
      for (const e of names) {
        const p = join(abs, e.name)
        const rel = relative(this.dir, p).split(sep).join('/')
        if (SKIPPED_TOP.has(rel)) continue
        if (e.isDirectory()) await visit(p)
        else {
          const entry = await this.stat(rel)
          if (entry) out.push(entry)
        }
      }
    }
    await visit(this.dir)
    return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  }

  async stat(rel: string): Promise<ViewEntry | undefined> {
    const st = await lstat(join(this.dir, rel)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined
      throw error
    })
    if (!st || st.isDirectory()) return undefined
    if (st.isFile()) return {rel, kind: 'file', nlink: st.nlink, size: st.size}
    if (st.isSymbolicLink()) return {rel, kind: 'symlink', what: 'symbolic link', nlink: st.nlink, size: st.size}
    return {rel, kind: 'other', what: 'not a regular file', nlink: st.nlink, size: st.size}
  }

  async digest(rel: string): Promise<{sha256: string; size: number} | undefined> {
    const st = await this.stat(rel)
    if (st?.kind !== 'file') return undefined
    return sha256File(join(this.dir, rel))
  }

  async read(rel: string): Promise<Buffer | undefined> {
    const st = await this.stat(rel)
    if (st?.kind !== 'file') return undefined
    return readFile(join(this.dir, rel))
  }

  async generations(): Promise<number[]> {
    const names = await readdir(join(this.dir, 'seals')).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [] as string[]
      throw error
    })
    return generationNumbers(names)
  }

  async withFiles<T>(rels: string[], fn: (paths: Array<string | undefined>) => Promise<T>): Promise<T> {
    const paths: Array<string | undefined> = []
    for (const rel of rels) paths.push((await this.stat(rel))?.kind === 'file' ? join(this.dir, rel) : undefined)
    return fn(paths)
  }
}

function generationNumbers(names: Iterable<string>): number[] {
  return [...new Set(names)]
    .filter((n) => /^\d{4}$/.test(n))
    .map(Number)
    .sort((a, b) => a - b)
}

/** Which archive members are kept in memory: the records verification parses, never evidence. */
function isRecord(rel: string): boolean {
  return rel === 'case.json' || rel === 'manifest.json' || rel === 'audit.log' || rel.startsWith('seals/')
}

/** Records kept in memory from one archive, in all (an audit log of this size is far beyond any case). */
const RECORDS_MAX = 256 * 1024 * 1024

interface ArchiveMember extends ViewEntry {
  sha256?: string
  bytes?: Buffer
}

/**
 * An exported case archive (`ir case export`: gzip'd tar, one top folder named by the case id), read
 * once as a stream and never extracted: each member is hashed as it passes; only the small records
 * (case.json, manifest.json, audit.log, seals/) are kept in memory, so memory does not grow with the
 * evidence. The archive's own SHA-256 and size are taken in the same pass. A damaged stream, an unsafe
 * or repeated name, or a member that is not a file is a problem of the view, named by its member.
 */
export class ArchiveView implements CaseView {
  readonly problems: ViewProblem[] = []
  private readonly members = new Map<string, ArchiveMember>()
  private readonly folders = new Set<string>()
  caseId = ''
  sha256 = ''
  size = 0

  private constructor(readonly label: string) {}

  static async open(file: string): Promise<ArchiveView> {
    const path = resolve(file)
    const st = await lstat(path).catch(() => undefined)
    if (!st?.isFile()) throw new AbortError(`Archive ${path} not found`, {exit: 'NOT_FOUND'})
    const view = new ArchiveView(path)
    await view.load(st.size)
    if (!view.caseId)
      throw new AbortError(
        `The archive ${path} holds no case${view.problems[0] ? `: ${view.problems[0].message}` : ''}`,
        {
          exit: 'INTEGRITY',
        },
      )
    return view
  }

  private async load(total: number): Promise<void> {
    const tar = (await import('tar-stream')).default
    const whole = createHash('sha256')
    // gzip's trailer (CRC-32 and length, the last 8 bytes) goes to gunzip on its own: zlib drops the
    // output of the write in which it finds a bad checksum, and that output is the end of the case.
    const trailerAt = total - 8
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        whole.update(chunk)
        const start = this.size
        this.size += chunk.length
        if (start < trailerAt && this.size > trailerAt) {
          counter.push(chunk.subarray(0, trailerAt - start))
          cb(null, chunk.subarray(trailerAt - start))
        } else cb(null, chunk)
      },
    })
    const extract = tar.extract()
    let current: string | undefined
    let kept = 0
    extract.on('entry', (header, stream, next) => {
      // A damaged stream destroys the member too; the pipeline's rejection reports it once.
      stream.on('error', () => undefined)
      const name = header.name.replace(/\/+$/, '')
      const parts = name.split('/')
      const skip = (why?: string) => {
        if (why) this.problems.push({path: name, message: `the archive holds ${why}`})
        stream.on('end', () => next())
        stream.resume()
      }
      if (name.startsWith('/') || parts.some((p) => p === '..' || p === '' || p === '.'))
        return skip(`an unsafe name: ${JSON.stringify(header.name)}`)
      const top = parts[0]!
      if (!this.caseId) this.caseId = top
      if (top !== this.caseId) return skip(`more than one top folder (${this.caseId}, ${top})`)
      const rel = parts.slice(1).join('/')
      if (header.type === 'directory') {
        this.folders.add(rel)
        return skip()
      }
      if (rel === '') return skip(`a ${header.type} entry in place of the case folder`)
      if (this.members.has(rel)) this.problems.push({path: rel, message: `the archive holds ${rel} twice`})
      if (header.type !== 'file') {
        const what = header.type === 'symlink' ? 'symbolic link' : header.type === 'link' ? 'hard link' : header.type
        this.members.set(rel, {
          rel,
          kind: header.type === 'symlink' ? 'symlink' : 'other',
          what: what ?? 'not a regular file',
          nlink: 1,
          size: 0,
        })
        return skip()
      }
      current = rel
      const hash = createHash('sha256')
      let size = 0
      const keep = isRecord(rel)
      const chunks: Buffer[] = []
      stream.on('data', (data: unknown) => {
        const chunk = data as Buffer
        hash.update(chunk)
        size += chunk.length
        if (keep) {
          kept += chunk.length
          if (kept <= RECORDS_MAX) chunks.push(chunk)
        }
      })
      stream.on('end', () => {
        current = undefined
        const member: ArchiveMember = {rel, kind: 'file', nlink: 1, size, sha256: hash.digest('hex')}
        if (keep && kept <= RECORDS_MAX) member.bytes = Buffer.concat(chunks)
        else if (keep)
          this.problems.push({path: rel, message: `${rel}: the case's records exceed ${RECORDS_MAX} bytes in memory`})
        this.members.set(rel, member)
        next()
      })
    })
    try {
      await pipeline(createReadStream(this.label), counter, createGunzip(), extract)
    } catch (error) {
      const at = current
      if (at !== undefined)
        this.members.set(at, {rel: at, kind: 'other', what: 'member cut short by the damage', nlink: 1, size: 0})
      this.problems.push({
        ...(at === undefined ? {} : {path: at}),
        message: `the archive is damaged${at === undefined ? '' : ` in ${at}`} (after ${this.size} of its bytes): ${damage(error)}`,
      })
      // The archive's own hash: the rest of the file, read without decompressing.
      for await (const chunk of createReadStream(this.label, {start: this.size})) {
        whole.update(chunk as Buffer)
        this.size += (chunk as Buffer).length
      }
    }
    this.sha256 = whole.digest('hex')
  }

  async entries(): Promise<ViewEntry[]> {
    return [...this.members.values()]
      .map(({sha256: _s, bytes: _b, ...e}) => e)
      .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  }

  async stat(rel: string): Promise<ViewEntry | undefined> {
    const m = this.members.get(rel)
    if (!m) return undefined
    const {sha256: _s, bytes: _b, ...e} = m
    return e
  }

  async digest(rel: string): Promise<{sha256: string; size: number} | undefined> {
    const m = this.members.get(rel)
    return m?.kind === 'file' && m.sha256 ? {sha256: m.sha256, size: m.size} : undefined
  }

  async read(rel: string): Promise<Buffer | undefined> {
    const m = this.members.get(rel)
    if (m?.kind !== 'file') return undefined
    if (!isRecord(rel)) throw new BugError(`${rel} is not a record kept from the archive`)
    return m.bytes
  }

  async generations(): Promise<number[]> {
    const names: string[] = []
    for (const rel of [...this.members.keys(), ...this.folders]) {
      const m = /^seals\/([^/]+)/.exec(rel)
      if (m) names.push(m[1]!)
    }
    return generationNumbers(names)
  }

  async withFiles<T>(rels: string[], fn: (paths: Array<string | undefined>) => Promise<T>): Promise<T> {
    const tmp = await mkdtemp(join(tmpdir(), 'ir-verify-'))
    try {
      const paths: Array<string | undefined> = []
      for (const [i, rel] of rels.entries()) {
        const bytes = await this.read(rel)
        if (bytes === undefined) {
          paths.push(undefined)
          continue
        }
        const p = join(tmp, `${i}-${basename(rel)}`)
        await writeFile(p, bytes, {mode: 0o600, flag: 'wx'})
        paths.push(p)
      }
      return await fn(paths)
    } finally {
      await rm(tmp, {recursive: true, force: true})
    }
  }
}

function damage(error: unknown): string {
  const message = errorMessage(error)
  if (/incorrect data check/.test(message)) return 'its gzip CRC-32 does not match the data (bytes were changed)'
  if (/incorrect length check/.test(message)) return 'its gzip length does not match the data'
  return message
}
