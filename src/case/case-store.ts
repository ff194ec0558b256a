import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {access, mkdir, readdir, readFile, rm, stat} from 'node:fs/promises'
import {homedir, hostname, userInfo} from 'node:os'
import {join, relative, resolve, sep} from 'node:path'
import type {Transform} from 'node:stream'

import {AbortError} from '../errors.js'
import {canonicalJson} from '../util/canonical-json.js'
import {DIR_MODE, ensureDir, sha256, sha256File, writeFileAtomic} from '../util/fs.js'
import {
  type AuditHead,
  type AuditInput,
  type AuditLine,
  AuditLog,
  type AuditSink,
  readAuditLines,
  readHead,
} from './audit-log.js'
import {coveredByInFlight, liveInFlight, markInFlight} from './inflight.js'
import {commitEvidenceFile, type EvidenceContent, PARTIAL_SUFFIX, writeEvidenceFile} from './evidence-writer.js'
import {generateCaseId, validateCaseId} from './ids.js'
import {CaseLock} from './lock.js'
import {type Artifact, type ArtifactSource, entryDigest, Manifest} from './manifest.js'
import {redactDeep} from '../util/redact.js'

const require = createRequire(import.meta.url)
export const TOOL = {name: 'ir', version: (require('../../package.json') as {version: string}).version}

export type Severity = 'low' | 'medium' | 'high' | 'critical'

export interface CaseMeta {
  schema: 1
  id: string
  title: string
  severity?: Severity
  created: string
  examiner: {user: string; host: string}
  tool: {name: string; version: string}
  auditHead: AuditHead
}

export function currentExaminer(): {user: string; host: string} {
  let user = process.env.SUDO_USER || process.env.USER || 'unknown'
  try {
    user = process.env.SUDO_USER || userInfo().username
  } catch {
    // no passwd entry (containers): keep the environment's answer
  }
  return {user, host: hostname()}
}

export type RootSource = 'flag' | 'env' | 'config' | 'default'

export interface IncidentsRoot {
  root: string
  source: RootSource
  /** The config file consulted (whether or not it named a folder). */
  configFile: string
}

/** $XDG_CONFIG_HOME/ir/config.json (or ~/.config/ir/config.json). */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'ir', 'config.json')
}

/**
 * The one incidents root, chosen in this order: --incidents-dir, IR_INCIDENTS_DIR, `incidentsDir` in
 * the config file, then /var/lib/ir/incidents for root or $XDG_STATE_HOME/ir/incidents
 * (~/.local/state/ir/incidents) for anyone else. Never the current folder: one case id is one folder
 * wherever ir runs.
 */
export function incidentsRoot(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd(), flag?: string): IncidentsRoot {
  const configFile = configFilePath(env)
  if (flag !== undefined) return {root: checkedRoot(flag, cwd, '--incidents-dir'), source: 'flag', configFile}
  if (env.IR_INCIDENTS_DIR !== undefined)
    return {root: checkedRoot(env.IR_INCIDENTS_DIR, cwd, 'IR_INCIDENTS_DIR'), source: 'env', configFile}
  const fromConfig = readConfigRoot(configFile)
  if (fromConfig !== undefined)
    return {root: checkedRoot(fromConfig, cwd, `incidentsDir in ${configFile}`), source: 'config', configFile}
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const root = isRoot
    ? '/var/lib/ir/incidents'
    : join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'ir', 'incidents')
  return {root, source: 'default', configFile}
}

function checkedRoot(value: string, cwd: string, where: string): string {
  if (value.trim() === '')
    throw new AbortError(`${where} is empty`, {
      exit: 'USAGE',
      hint: 'Name a folder for the incident cases, or leave it unset for the default.',
    })
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new AbortError(`${where} holds a control character`, {exit: 'USAGE'})
  return resolve(cwd, value)
}

function readConfigRoot(file: string): string | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw error
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new AbortError(`The config file ${file} is not valid JSON`, {
      exit: 'USAGE',
      hint: 'It holds one object, e.g. {"incidentsDir": "/srv/incidents"}.',
    })
  }
  const dir = (parsed as {incidentsDir?: unknown} | null)?.incidentsDir
  if (dir === undefined) return undefined
  if (typeof dir !== 'string') throw new AbortError(`incidentsDir in ${file} must be a string`, {exit: 'USAGE'})
  return dir
}

/** The digest of case.json's fields (all but the audit head, which changes with every line). */
export function metaDigest(meta: CaseMeta): string {
  const {auditHead: _head, ...fields} = meta
  return sha256(canonicalJson(fields))
}

const RESERVE_FILE = '.ir-reserve'
const RESERVE_BYTES = 256 * 1024

/** Files of a case whose every change is hashed into the audit chain (`case.state`). */
export function isTrackedState(rel: string): boolean {
  return rel.startsWith('state/') || rel === 'playbook-run.json'
}

export interface EvidenceInput {
  /** Relative to the case's evidence/ folder. */
  name: string
  type: string
  content: EvidenceContent
  description?: string
  source?: ArtifactSource
  meta?: Record<string, unknown>
  signal?: AbortSignal
  onProgress?: (bytes: number) => void
  /** A pass-through stage that also observes the bytes (e.g. to index a tar while it is saved). */
  through?: Transform
}

/** One incident case: a folder holding case.json, audit.log, manifest.json, evidence/ and state/. */
export class Case {
  readonly audit: AuditLog
  readonly manifest: Manifest
  private readonly lock: CaseLock

  constructor(
    readonly dir: string,
    private meta: CaseMeta,
    sink?: AuditSink,
  ) {
    this.lock = CaseLock.for(join(dir, '.ir-lock'))
    const examiner = currentExaminer()
    this.audit = new AuditLog(
      join(dir, 'audit.log'),
      this.lock,
      {caseId: meta.id, actor: `${examiner.user}@${examiner.host}`, tool: `${TOOL.name}/${TOOL.version}`},
      (head) => this.saveHead(head),
      sink,
      dir,
    )
    this.manifest = new Manifest(join(dir, 'manifest.json'), meta.id, this.lock)
  }

  get id(): string {
    return this.meta.id
  }

  get info(): CaseMeta {
    return structuredClone(this.meta)
  }

  get actor(): string {
    const e = currentExaminer()
    return `${e.user}@${e.host}`
  }

  record(entry: AuditInput): Promise<AuditLine> {
    return this.audit.append(entry)
  }

  /** Run fn holding the case lock (re-entrant): for a read-modify-write spanning several files. */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(fn)
  }

  /**
   * Stream evidence into evidence/<name>.partial, hashed and verified; then, under the case lock,
   * record it in the audit chain (with the digest of its manifest entry), add it to the manifest and
   * only then give it its final name. A failure or a kill at any point leaves only a `.partial`
   * (reconcile() reports it, or finishes the commit when the chain already holds it).
   */
  async addEvidence(input: EvidenceInput): Promise<Artifact> {
    // Registered until committed (or failed), so another process's reconcile leaves this partial alone.
    const done = await markInFlight(this.dir, `evidence/${input.name}`)
    try {
      return await this.commitEvidence(input)
    } finally {
      await done()
    }
  }

  private async commitEvidence(input: EvidenceInput): Promise<Artifact> {
    const written = await writeEvidenceFile(this.dir, join('evidence', input.name), input.content, {
      ...(input.signal ? {signal: input.signal} : {}),
      ...(input.onProgress ? {onProgress: input.onProgress} : {}),
      ...(input.through ? {through: input.through} : {}),
    })
    return this.lock.run(async () => {
      const artifact = await this.manifest.next({
        path: written.relPath,
        type: input.type,
        sha256: written.sha256,
        size: written.size,
        ...(input.description ? {description: input.description} : {}),
        ...(input.source ? {source: input.source} : {}),
        collectedAt: new Date().toISOString(),
        collectedBy: this.actor,
        tool: TOOL,
        ...(input.meta ? {meta: redactDeep(input.meta)} : {}),
      })
      await this.record({
        action: 'evidence.add',
        target: input.source?.containerName ?? input.source?.containerId,
        outcome: 'success',
        msg: `Evidence ${artifact.path} (${artifact.type}) recorded`,
        details: {
          artifact: artifact.id,
          path: artifact.path,
          type: artifact.type,
          sha256: artifact.sha256,
          size: artifact.size,
          entrySha256: entryDigest(artifact),
          entry: artifact,
        },
      })
      await this.manifest.append(artifact)
      await commitEvidenceFile(written)
      return artifact
    })
  }

  /** Evidence that is JSON: redacted, pretty-printed. */
  addJsonEvidence(input: Omit<EvidenceInput, 'content'> & {data: unknown}): Promise<Artifact> {
    return this.addEvidence({...input, content: `${JSON.stringify(redactDeep(input.data), null, 2)}\n`})
  }

  statePath(name: string): string {
    return join(this.dir, 'state', name)
  }

  async readState<T>(name: string, fallback: T): Promise<T> {
    try {
      return JSON.parse(await readFile(this.statePath(name), 'utf8')) as T
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback
      throw new AbortError(`Case state ${this.statePath(name)} is unreadable: ${(error as Error).message}`, {
        exit: 'CASE_ACCESS',
      })
    }
  }

  /** Read-modify-write a state file under the case lock; the new file's hash goes into the chain. */
  updateState<T>(name: string, fallback: T, fn: (current: T) => T): Promise<T> {
    return this.lock.run(async () => {
      const next = fn(await this.readState(name, fallback))
      await this.writeTracked(join('state', name), `${JSON.stringify(redactDeep(next), null, 2)}\n`)
      return next
    })
  }

  /**
   * Write a state file of the case (relative path) atomically under the lock and record its SHA-256
   * in the audit chain (`case.state`), so `ir case verify` can tell an edit made outside ir.
   */
  writeTracked(rel: string, content: string): Promise<void> {
    return this.lock.run(async () => {
      await writeFileAtomic(join(this.dir, rel), content)
      await this.record({
        action: 'case.state',
        outcome: 'info',
        msg: `State ${rel} saved`,
        details: {path: rel, sha256: sha256(content), size: Buffer.byteLength(content)},
      })
    })
  }

  private async saveHead(head: AuditHead): Promise<void> {
    // Called inside the lock by AuditLog. case.json is re-read: another process may have changed its fields.
    const onDisk = await readMetaFile(this.dir).catch(() => undefined)
    this.meta = {...(onDisk ?? this.meta), auditHead: head}
    await writeFileAtomic(join(this.dir, 'case.json'), `${JSON.stringify(this.meta, null, 2)}\n`)
  }

  /** Update title or severity (under the lock; the new fields' digest goes into the chain). */
  async update(fields: {title?: string; severity?: Severity}): Promise<void> {
    const changed = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<CaseMeta>
    if (Object.keys(changed).length === 0) return
    await this.lock.run(async () => {
      const onDisk = (await readMetaFile(this.dir)) ?? this.meta
      if (Object.entries(changed).every(([k, v]) => (onDisk as unknown as Record<string, unknown>)[k] === v)) {
        this.meta = onDisk
        return
      }
      this.meta = {...onDisk, ...changed}
      await writeFileAtomic(join(this.dir, 'case.json'), `${JSON.stringify(this.meta, null, 2)}\n`)
      await this.record({
        action: 'case.update',
        outcome: 'success',
        details: {...changed, caseSha256: metaDigest(this.meta)},
        msg: 'Case details updated',
      })
    })
  }

  /**
   * Find `.partial` files under evidence/ left by a killed or failed transfer. One whose bytes the
   * chain already records (killed between recording and renaming) is completed; any other is
   * reported once in the audit (`evidence.partial`) and kept, never counted as evidence.
   */
  async reconcile(): Promise<{recovered: string[]; partials: {path: string; size: number}[]}> {
    const found = (await walkFiles(join(this.dir, 'evidence'))).filter((p) => p.endsWith(PARTIAL_SUFFIX))
    if (found.length === 0) return {recovered: [], partials: []}
    return this.lock.run(async () => {
      // Transfers of other live processes (and of this one) are in flight, not incomplete.
      const inFlight = await liveInFlight(this.dir)
      const lines = await readAuditLines(this.audit.path)
      const added = new Map<string, Record<string, unknown>>()
      const reported = new Set<string>()
      for (const l of lines) {
        const d = l.details ?? {}
        if (l.action === 'evidence.add' && typeof d.path === 'string') added.set(d.path, d)
        if (l.action === 'evidence.partial' && typeof d.path === 'string') reported.add(`${d.path}:${String(d.size)}`)
      }
      const recovered: string[] = []
      const partials: {path: string; size: number}[] = []
      for (const abs of found) {
        const rel = relative(this.dir, abs).split(sep).join('/')
        const finalRel = rel.slice(0, -PARTIAL_SUFFIX.length)
        if (coveredByInFlight(inFlight, finalRel)) continue
        const st = await stat(abs).catch(() => undefined)
        if (!st?.isFile()) continue
        const d = added.get(finalRel)
        if (d && typeof d.sha256 === 'string') {
          const onDisk = await sha256File(abs)
          if (onDisk.sha256 === d.sha256 && onDisk.size === d.size) {
            const doc = await this.manifest.read()
            if (!doc.artifacts.some((a) => a.path === finalRel) && d.entry)
              await this.manifest.append(d.entry as Artifact)
            await commitEvidenceFile({partialPath: abs, absPath: join(this.dir, finalRel)})
            await this.record({
              action: 'evidence.recovered',
              outcome: 'success',
              msg: `Evidence ${finalRel} completed: its bytes were verified and recorded before ir was stopped`,
              details: {path: finalRel, sha256: d.sha256, size: d.size},
            })
            recovered.push(finalRel)
            continue
          }
        }
        partials.push({path: rel, size: st.size})
        if (reported.has(`${rel}:${st.size}`)) continue
        const {sha256: digest} = await sha256File(abs)
        await this.record({
          action: 'evidence.partial',
          outcome: 'info',
          msg: `Incomplete transfer found: ${rel} (${st.size} bytes), kept as .partial and not counted as evidence`,
          details: {path: rel, size: st.size, sha256: digest},
        })
      }
      return {recovered, partials}
    })
  }

  /**
   * A small file of zeros kept in the case folder: when the disk fills up, it is given back so the
   * failure itself can still be written to the audit log (then made again when there is room).
   */
  async keepReserve(): Promise<void> {
    const path = join(this.dir, RESERVE_FILE)
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      return
    await writeFileAtomic(path, Buffer.alloc(RESERVE_BYTES)).catch(() => undefined)
  }

  /** Record a failure; on a full disk, the reserve is released first so the line fits. */
  async recordFailure(entry: AuditInput, diskFull: boolean): Promise<void> {
    try {
      await this.record(entry)
    } catch (error) {
      if (!diskFull) throw error
      await rm(join(this.dir, RESERVE_FILE), {force: true})
      await this.record(entry)
    }
  }

  /**
   * Remove a case this command created when nothing was recorded in it but its opening: a command
   * that fails before it changed or collected anything leaves no empty case behind.
   */
  async discardIfUntouched(): Promise<boolean> {
    try {
      // Untouched: opened, then nothing but failures recorded; no evidence, no state written.
      const lines = await readAuditLines(this.audit.path)
      if (lines[0]?.action !== 'case.open' || lines.slice(1).some((l) => l.outcome !== 'failure')) return false
      if ((await walkFiles(join(this.dir, 'evidence'))).length > 0) return false
      if ((await walkFiles(join(this.dir, 'state'))).length > 0) return false
      await rm(this.dir, {recursive: true, force: true})
      return true
    } catch {
      return false
    }
  }
}

async function readMetaFile(dir: string): Promise<CaseMeta | undefined> {
  let text: string
  try {
    text = await readFile(join(dir, 'case.json'), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    return JSON.parse(text) as CaseMeta
  } catch {
    throw new AbortError(`${join(dir, 'case.json')} is not valid JSON`, {
      exit: 'CASE_ACCESS',
      hint: 'Restore case.json from a copy; the evidence files are untouched.',
    })
  }
}

/** Every file (not folder) under dir, recursively; symlinks are listed, never followed. */
export async function walkFiles(dir: string): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, {withFileTypes: true})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const out: string[] = []
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await walkFiles(p)))
    else out.push(p)
  }
  return out.sort()
}

export interface OpenCaseOptions {
  id?: string
  title?: string
  severity?: Severity
  /** Create when missing (default true). */
  create?: boolean
}

export interface StoreOptions {
  /** --incidents-dir, when given. */
  flag?: string
  /** Where notes (a legacy ./incidents case opened) go: stderr in the CLI. */
  onNote?: (line: string) => void
  /** Handed every audit line of every case this store opens (the notifier). */
  sink?: AuditSink
}

export class CaseStore {
  /** The folder of cases of an older ir, in the current folder (opened with a note, never created in). */
  readonly legacyRoot: string | undefined

  constructor(
    readonly root: string,
    opts: {legacyRoot?: string; onNote?: (line: string) => void; source?: RootSource; sink?: AuditSink} = {},
  ) {
    this.sink = opts.sink
    this.legacyRoot =
      opts.legacyRoot && resolve(opts.legacyRoot) !== resolve(root) ? resolve(opts.legacyRoot) : undefined
    this.onNote = opts.onNote
    this.source = opts.source ?? 'flag'
  }

  private readonly onNote: ((line: string) => void) | undefined
  readonly source: RootSource
  /** The event sink every case opened here hands its audit lines to. */
  readonly sink: AuditSink | undefined

  static fromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd(), opts: StoreOptions = {}): CaseStore {
    const {root, source} = incidentsRoot(env, cwd, opts.flag)
    return new CaseStore(root, {
      legacyRoot: join(cwd, 'incidents'),
      source,
      ...(opts.onNote ? {onNote: opts.onNote} : {}),
      ...(opts.sink ? {sink: opts.sink} : {}),
    })
  }

  caseDir(id: string): string {
    return join(this.root, validateCaseId(id))
  }

  /** The folder holding case `id`: the root's, or a legacy ./incidents one that already has it. */
  async locate(id: string): Promise<string | undefined> {
    const dir = this.caseDir(id)
    if (await hasCase(dir)) return dir
    if (this.legacyRoot) {
      const legacy = join(this.legacyRoot, id)
      if (await hasCase(legacy)) return legacy
    }
    return undefined
  }

  async exists(id: string): Promise<boolean> {
    return (await this.locate(id)) !== undefined
  }

  /** Open a case; create it (with a generated id when none is given) unless create is false. */
  async open(opts: OpenCaseOptions = {}): Promise<{kase: Case; created: boolean}> {
    if (opts.id !== undefined && opts.id.trim() === '')
      throw new AbortError('The case id is empty', {
        exit: 'USAGE',
        hint: 'Give an existing case id (`ir case list`), or leave --case out to open a new case.',
      })
    const id = opts.id ? validateCaseId(opts.id) : generateCaseId()
    const located = await this.locate(id)
    if (located) {
      if (this.legacyRoot && located.startsWith(this.legacyRoot))
        this.onNote?.(
          `case ${id} is in ${located}, the ./incidents folder of an older ir; new cases go to ${this.root}`,
        )
      const kase = new Case(located, (await readMetaFile(located))!, this.sink)
      await kase.update({
        ...(opts.title ? {title: opts.title} : {}),
        ...(opts.severity ? {severity: opts.severity} : {}),
      })
      return {kase, created: false}
    }
    await this.assertRootIsFolder()
    if (opts.create === false) {
      throw new AbortError(`Case "${id}" not found in ${this.root}`, {
        exit: 'NOT_FOUND',
        hint: 'List cases with `ir case list`; --incidents-dir or IR_INCIDENTS_DIR if they live elsewhere.',
      })
    }
    await ensureDir(this.root)
    const dir = this.caseDir(id)
    try {
      // Exclusive: of two processes creating one id, one creates it and the other opens it.
      await mkdir(dir, {mode: DIR_MODE})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      return {kase: await this.waitForCase(dir, id), created: false}
    }
    const meta: CaseMeta = {
      schema: 1,
      id,
      title: opts.title ?? `Incident ${id}`,
      ...(opts.severity ? {severity: opts.severity} : {}),
      created: new Date().toISOString(),
      examiner: currentExaminer(),
      tool: TOOL,
      auditHead: await readHead(join(dir, 'audit.log')),
    }
    const kase = new Case(dir, meta, this.sink)
    await kase.withLock(async () => {
      await ensureDir(join(dir, 'evidence'))
      await ensureDir(join(dir, 'state'))
      await writeFileAtomic(join(dir, 'case.json'), `${JSON.stringify(meta, null, 2)}\n`)
      await kase.manifest.init()
      await kase.keepReserve()
      await kase.record({
        action: 'case.open',
        outcome: 'success',
        details: {title: meta.title, examiner: meta.examiner, severity: meta.severity, caseSha256: metaDigest(meta)},
        msg: `Case ${id} opened`,
      })
    })
    return {kase, created: true}
  }

  /** A root that is a file (IR_INCIDENTS_DIR=/etc/passwd) is a folder problem (exit 5), not "case not found". */
  private async assertRootIsFolder(): Promise<void> {
    const st = await stat(this.root).catch((error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? undefined : error,
    )
    if (st instanceof Error) throw st
    if (st && !st.isDirectory())
      throw Object.assign(new Error(`not a folder: ${this.root}`), {code: 'ENOTDIR', path: this.root})
  }

  /** Another process is creating this case: wait (briefly) for its case.json. */
  private async waitForCase(dir: string, id: string): Promise<Case> {
    for (let i = 0; i < 100; i++) {
      const meta = await readMetaFile(dir)
      if (meta) {
        const kase = new Case(dir, meta, this.sink)
        // The creator writes case.json and its first audit line under the lock: wait for both.
        await kase.withLock(async () => undefined)
        return new Case(dir, (await readMetaFile(dir)) ?? meta, this.sink)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new AbortError(`${dir} exists but holds no case.json`, {
      exit: 'CASE_ACCESS',
      hint: `Another ir process may have been killed while opening case ${id}; move the folder aside if it holds nothing.`,
    })
  }

  readMeta(dir: string): Promise<CaseMeta | undefined> {
    return readMetaFile(dir)
  }

  /** All cases under the root (and a legacy ./incidents), oldest first. */
  async list(): Promise<CaseMeta[]> {
    const metas: CaseMeta[] = []
    const seen = new Set<string>()
    for (const root of [this.root, ...(this.legacyRoot ? [this.legacyRoot] : [])]) {
      let names: string[]
      try {
        names = await readdir(root)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || (code === 'ENOTDIR' && root === this.legacyRoot)) continue
        throw error
      }
      for (const name of names.sort()) {
        if (seen.has(name)) continue
        try {
          const meta = await readMetaFile(join(root, name))
          if (meta) {
            metas.push(meta)
            seen.add(name)
          }
        } catch {
          // A damaged case is reported by `ir case verify`, not by list.
        }
      }
    }
    return metas.sort((a, b) => a.created.localeCompare(b.created))
  }
}

async function hasCase(dir: string): Promise<boolean> {
  try {
    await access(join(dir, 'case.json'))
    return true
  } catch {
    return false
  }
}
