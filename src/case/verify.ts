import {readdir} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'

import {sha256File} from '../util/fs.js'
import {type ChainProblem, verifyChain} from './audit-log.js'
import type {Case} from './case-store.js'

export interface ArtifactCheck {
  id: string
  path: string
  status: 'ok' | 'modified' | 'missing' | 'size-mismatch'
  expected: string
  actual?: string
}

export interface VerifyResult {
  caseId: string
  ok: boolean
  artifacts: ArtifactCheck[]
  unlisted: string[]
  audit: {entries: number; ok: boolean; problems: ChainProblem[]; head: {seq: number; hash: string}}
  verifiedAt: string
}

/** Re-hash every artifact in the manifest and re-walk the audit chain. Read-only. */
export async function verifyCase(kase: Case): Promise<VerifyResult> {
  const manifest = await kase.manifest.read()
  const artifacts: ArtifactCheck[] = []
  for (const a of manifest.artifacts) {
    const abs = join(kase.dir, a.path)
    try {
      const {sha256, size} = await sha256File(abs)
      if (sha256 !== a.sha256) artifacts.push({id: a.id, path: a.path, status: 'modified', expected: a.sha256, actual: sha256})
      else if (size !== a.size) artifacts.push({id: a.id, path: a.path, status: 'size-mismatch', expected: String(a.size), actual: String(size)})
      else artifacts.push({id: a.id, path: a.path, status: 'ok', expected: a.sha256, actual: sha256})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      artifacts.push({id: a.id, path: a.path, status: 'missing', expected: a.sha256})
    }
  }
  const listed = new Set(manifest.artifacts.map((a) => a.path))
  const unlisted = (await walk(join(kase.dir, 'evidence'))).map((p) => relative(kase.dir, p).split(sep).join('/')).filter((p) => !listed.has(p))
  const chain = await verifyChain(kase.audit.path, kase.info.auditHead)
  const auditOk = chain.problems.length === 0
  return {
    caseId: kase.id,
    ok: auditOk && artifacts.every((a) => a.status === 'ok'),
    artifacts,
    unlisted,
    audit: {entries: chain.entries, ok: auditOk, problems: chain.problems, head: chain.head},
    verifiedAt: new Date().toISOString(),
  }
}

async function walk(dir: string): Promise<string[]> {
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
    if (e.isDirectory()) out.push(...(await walk(p)))
    else out.push(p)
  }
  return out.sort()
}
