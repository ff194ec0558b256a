import {createRequire} from 'node:module'
import {access, readdir, readFile} from 'node:fs/promises'
import {hostname, userInfo} from 'node:os'
import {join, resolve} from 'node:path'
import type {Transform} from 'node:stream'

import {AbortError} from '../errors.js'
import {ensureDir, writeFileAtomic} from '../util/fs.js'
import {type AuditHead, type AuditInput, type AuditLine, AuditLog, readHead} from './audit-log.js'
import {type EvidenceContent, writeEvidenceFile} from './evidence-writer.js'
import {generateCaseId, validateCaseId} from './ids.js'
import {CaseLock} from './lock.js'
import {type Artifact, type ArtifactSource, Manifest} from './manifest.js'
import {redactDeep} from './redact.js'

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

export function incidentsRoot(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, env.IR_INCIDENTS_DIR || 'incidents')
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
  ) {
    this.lock = new CaseLock(join(dir, '.lock'))
    const examiner = currentExaminer()
    this.audit = new AuditLog(join(dir, 'audit.log'), this.lock, {caseId: meta.id, actor: `${examiner.user}@${examiner.host}`, tool: `${TOOL.name}/${TOOL.version}`}, (head) => this.saveHead(head))
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

  /** Stream evidence into evidence/<name>, hashed and verified, and add it to the manifest. */
  async addEvidence(input: EvidenceInput): Promise<Artifact> {
    const written = await writeEvidenceFile(this.dir, join('evidence', input.name), input.content, {
      ...(input.signal ? {signal: input.signal} : {}),
      ...(input.onProgress ? {onProgress: input.onProgress} : {}),
      ...(input.through ? {through: input.through} : {}),
    })
    const artifact = await this.manifest.add({
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
      details: {artifact: artifact.id, path: artifact.path, type: artifact.type, sha256: artifact.sha256, size: artifact.size},
    })
    return artifact
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
      throw new AbortError(`Case state ${this.statePath(name)} is unreadable: ${(error as Error).message}`, {exit: 'CASE_ACCESS'})
    }
  }

  /** Read-modify-write a state file under the case lock. */
  updateState<T>(name: string, fallback: T, fn: (current: T) => T): Promise<T> {
    return this.lock.run(async () => {
      const next = fn(await this.readState(name, fallback))
      await writeFileAtomic(this.statePath(name), `${JSON.stringify(redactDeep(next), null, 2)}\n`)
      return next
    })
  }

  private async saveHead(head: AuditHead): Promise<void> {
    // Called inside the lock by AuditLog.
    this.meta = {...this.meta, auditHead: head}
    await writeFileAtomic(join(this.dir, 'case.json'), `${JSON.stringify(this.meta, null, 2)}\n`)
  }

  /** Update title or severity. */
  async update(fields: {title?: string; severity?: Severity}): Promise<void> {
    const changed = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined))
    if (Object.keys(changed).length === 0) return
    this.meta = {...this.meta, ...changed}
    await this.record({action: 'case.update', outcome: 'success', details: changed, msg: 'Case details updated'})
  }
}

export interface OpenCaseOptions {
  id?: string
  title?: string
  severity?: Severity
  /** Create when missing (default true). */
  create?: boolean
}

export class CaseStore {
  constructor(readonly root: string) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CaseStore {
    return new CaseStore(incidentsRoot(env, cwd))
  }

  caseDir(id: string): string {
    return join(this.root, validateCaseId(id))
  }

  async exists(id: string): Promise<boolean> {
    try {
      await access(join(this.caseDir(id), 'case.json'))
      return true
    } catch {
      return false
    }
  }

  /** Open a case; create it (with a generated id when none is given) unless create is false. */
  async open(opts: OpenCaseOptions = {}): Promise<{kase: Case; created: boolean}> {
    const id = opts.id ? validateCaseId(opts.id) : generateCaseId()
    const dir = this.caseDir(id)
    const existing = await this.readMeta(dir)
    if (existing) {
      const kase = new Case(dir, existing)
      await kase.update({...(opts.title ? {title: opts.title} : {}), ...(opts.severity ? {severity: opts.severity} : {})})
      return {kase, created: false}
    }
    if (opts.create === false) {
      throw new AbortError(`Case "${id}" not found in ${this.root}`, {exit: 'NOT_FOUND', hint: 'List cases with `ir case list`; set IR_INCIDENTS_DIR if they live elsewhere.'})
    }
    await ensureDir(this.root)
    await ensureDir(dir)
    await ensureDir(join(dir, 'evidence'))
    await ensureDir(join(dir, 'state'))
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
    await writeFileAtomic(join(dir, 'case.json'), `${JSON.stringify(meta, null, 2)}\n`)
    const kase = new Case(dir, meta)
    await kase.record({action: 'case.open', outcome: 'success', details: {title: meta.title, examiner: meta.examiner, severity: meta.severity}, msg: `Case ${id} opened`})
    return {kase, created: true}
  }

  async readMeta(dir: string): Promise<CaseMeta | undefined> {
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
      throw new AbortError(`${join(dir, 'case.json')} is not valid JSON`, {exit: 'CASE_ACCESS', hint: 'Restore case.json from a copy; the evidence files are untouched.'})
    }
  }

  /** All cases under the root, oldest first. */
  async list(): Promise<CaseMeta[]> {
    let names: string[]
    try {
      names = await readdir(this.root)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    const metas: CaseMeta[] = []
    for (const name of names.sort()) {
      try {
        const meta = await this.readMeta(join(this.root, name))
        if (meta) metas.push(meta)
      } catch {
        // A damaged case is reported by `ir case verify`, not by list.
      }
    }
    return metas.sort((a, b) => a.created.localeCompare(b.created))
  }
}
