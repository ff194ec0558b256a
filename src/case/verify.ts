import {lstat, readFile} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'

import {errorMessage} from '../errors.js'
import {sha256, sha256File} from '../util/fs.js'
import {type AuditLine, type ChainProblem, readAuditLines, verifyChain} from './audit-log.js'
import {type Case, type CaseMeta, isTrackedState, metaDigest, walkFiles} from './case-store.js'
import {PARTIAL_SUFFIX} from './evidence-writer.js'
import {type Artifact, entryDigest, type ManifestDoc} from './manifest.js'
import {checkSeal, type SealCheck} from './seal.js'

export interface ArtifactCheck {
  id: string
  path: string
  status: 'ok' | 'modified' | 'missing' | 'size-mismatch' | 'not-a-file'
  expected: string
  actual?: string
}

export type ProblemKind =
  'manifest' | 'artifact' | 'chain-vs-manifest' | 'evidence-folder' | 'case.json' | 'state' | 'audit' | 'seal'

/** One thing verification found wrong, named for the examiner. */
export interface VerifyProblem {
  kind: ProblemKind
  path?: string
  message: string
}

export interface VerifyResult {
  caseId: string
  ok: boolean
  artifacts: ArtifactCheck[]
  /** Files under evidence/ that are neither in the manifest nor a `.partial` (each is also a problem). */
  unlisted: string[]
  /** Incomplete transfers kept as `.partial`: not evidence, not a failure. */
  partials: {path: string; size: number}[]
  problems: VerifyProblem[]
  audit: {entries: number; ok: boolean; problems: ChainProblem[]; head: {seq: number; hash: string}}
  /** The newest seal generation, checked (absent for a case never sealed). */
  seal?: SealCheck
  verifiedAt: string
}

/**
 * The complete cross-check, read-only:
 * - every artifact in the manifest is a regular file with one link, of the recorded size and SHA-256;
 * - the manifest and the audit chain agree: each `evidence.add` has exactly its manifest entry (path,
 *   SHA-256, size, and the digest of the whole entry, so provenance edits show), and no entry lacks one;
 * - evidence/ holds nothing else but `.partial` files;
 * - case.json's fields match the digest recorded at the last case.open/case.update;
 * - each state file matches the hash recorded at its last change, and none is missing or unrecorded;
 * - the audit chain is intact and its head matches case.json.
 * What it cannot tell: a log rewritten and re-chained from the start together with every file. Only a
 * signature over the chain (`ir case seal`) can.
 */
export async function verifyCase(
  kase: Case,
  opts: {allowedSigners?: string; tsaCa?: string} = {},
): Promise<VerifyResult> {
  const problems: VerifyProblem[] = []
  const meta = await readMeta(kase, problems)
  const manifest = await readManifest(kase, problems)
  const lines = await readAuditLines(kase.audit.path)

  const artifacts: ArtifactCheck[] = []
  for (const a of manifest?.artifacts ?? []) artifacts.push(await checkArtifact(kase.dir, a))
  for (const c of artifacts) {
    if (c.status !== 'ok') problems.push({kind: 'artifact', path: c.path, message: artifactMessage(c)})
  }
  if (manifest) crossCheck(manifest.artifacts, lines, problems)

  const listed = new Set((manifest?.artifacts ?? []).map((a) => a.path))
  const unlisted: string[] = []
  const partials: {path: string; size: number}[] = []
  for (const abs of await walkFiles(join(kase.dir, 'evidence'))) {
    const rel = relative(kase.dir, abs).split(sep).join('/')
    if (listed.has(rel)) continue
    const st = await lstat(abs)
    if (rel.endsWith(PARTIAL_SUFFIX) && st.isFile()) {
      partials.push({path: rel, size: st.size})
      continue
    }
    unlisted.push(rel)
    problems.push({
      kind: 'evidence-folder',
      path: rel,
      message: `${rel} is under evidence/ but in neither the manifest nor the audit chain (added outside ir)`,
    })
  }

  if (meta) checkMeta(meta, lines, problems)
  await checkState(kase.dir, lines, problems)

  const chain = await verifyChain(kase.audit.path, meta?.auditHead)
  for (const p of chain.problems) problems.push({kind: 'audit', message: `audit.log line ${p.line}: ${p.problem}`})
  const seal = await checkSeal(kase.dir, lines, opts)
  for (const message of seal?.problems ?? []) problems.push({kind: 'seal', message: `seal ${seal!.dir}: ${message}`})
  return {
    caseId: kase.id,
    ok: problems.length === 0,
    artifacts,
    unlisted,
    partials,
    problems,
    audit: {entries: chain.entries, ok: chain.problems.length === 0, problems: chain.problems, head: chain.head},
    ...(seal ? {seal} : {}),
    verifiedAt: new Date().toISOString(),
  }
}

async function readMeta(kase: Case, problems: VerifyProblem[]): Promise<CaseMeta | undefined> {
  try {
    return JSON.parse(await readFile(join(kase.dir, 'case.json'), 'utf8')) as CaseMeta
  } catch (error) {
    problems.push({kind: 'case.json', path: 'case.json', message: `case.json is unreadable: ${errorMessage(error)}`})
    return undefined
  }
}

async function readManifest(kase: Case, problems: VerifyProblem[]): Promise<ManifestDoc | undefined> {
  try {
    return await kase.manifest.read({missingOk: false})
  } catch (error) {
    problems.push({kind: 'manifest', path: 'manifest.json', message: errorMessage(error)})
    return undefined
  }
}

async function checkArtifact(dir: string, a: Artifact): Promise<ArtifactCheck> {
  const abs = join(dir, a.path)
  const base = {id: a.id, path: a.path, expected: a.sha256}
  try {
    const st = await lstat(abs)
    if (!st.isFile())
      return {...base, status: 'not-a-file', actual: st.isSymbolicLink() ? 'symbolic link' : 'not a regular file'}
    if (st.nlink > 1) return {...base, status: 'not-a-file', actual: `hard link (${st.nlink} names)`}
    const {sha256: digest, size} = await sha256File(abs)
    if (digest !== a.sha256) return {...base, status: 'modified', actual: digest}
    if (size !== a.size) return {...base, status: 'size-mismatch', expected: String(a.size), actual: String(size)}
    return {...base, status: 'ok', actual: digest}
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    return {...base, status: 'missing'}
  }
}

function artifactMessage(c: ArtifactCheck): string {
  switch (c.status) {
    case 'modified':
      return `${c.path} was modified: its SHA-256 is ${c.actual}, the manifest records ${c.expected}`
    case 'size-mismatch':
      return `${c.path} has ${c.actual} bytes, the manifest records ${c.expected}`
    case 'missing':
      return `${c.path} is missing`
    case 'not-a-file':
      return `${c.path} is a ${c.actual}, not the file that was collected`
    default:
      return `${c.path} is intact`
  }
}

/** Manifest against chain, both ways. */
function crossCheck(artifacts: Artifact[], lines: AuditLine[], problems: VerifyProblem[]): void {
  const recorded = new Map<string, Record<string, unknown>>()
  for (const l of lines) {
    const d = l.details
    if (l.action === 'evidence.add' && d && typeof d.path === 'string') recorded.set(d.path, d)
  }
  for (const a of artifacts) {
    const d = recorded.get(a.path)
    if (!d) {
      problems.push({
        kind: 'chain-vs-manifest',
        path: a.path,
        message: `${a.path} is in the manifest but the audit chain never recorded it (added or renamed outside ir)`,
      })
      continue
    }
    recorded.delete(a.path)
    const wrong: string[] = []
    if (d.sha256 !== a.sha256) wrong.push(`SHA-256 (chain ${String(d.sha256)}, manifest ${a.sha256})`)
    if (d.size !== a.size) wrong.push(`size (chain ${String(d.size)}, manifest ${a.size})`)
    if (d.artifact !== undefined && d.artifact !== a.id)
      wrong.push(`id (chain ${String(d.artifact)}, manifest ${a.id})`)
    if (wrong.length === 0 && typeof d.entrySha256 === 'string' && d.entrySha256 !== entryDigest(a)) {
      wrong.push('provenance (collectedAt, collectedBy, source, type or description differ from what was recorded)')
    }
    if (wrong.length > 0)
      problems.push({
        kind: 'chain-vs-manifest',
        path: a.path,
        message: `${a.path}: the manifest's ${wrong.join(', ')} do not match the audit chain`,
      })
  }
  for (const path of recorded.keys()) {
    problems.push({
      kind: 'chain-vs-manifest',
      path,
      message: `${path} was recorded in the audit chain but its manifest entry is gone`,
    })
  }
}

function checkMeta(meta: CaseMeta, lines: AuditLine[], problems: VerifyProblem[]): void {
  let digest: string | undefined
  for (const l of lines) {
    const d = l.details as {caseSha256?: unknown} | undefined
    if ((l.action === 'case.open' || l.action === 'case.update') && typeof d?.caseSha256 === 'string')
      digest = d.caseSha256
  }
  // Cases made before the digest was recorded have none: nothing to compare.
  if (digest !== undefined && digest !== metaDigest(meta)) {
    problems.push({
      kind: 'case.json',
      path: 'case.json',
      message:
        'case.json was edited: its fields (title, severity, examiner, dates) differ from those recorded in the audit chain',
    })
  }
}

async function checkState(dir: string, lines: AuditLine[], problems: VerifyProblem[]): Promise<void> {
  const last = new Map<string, string>()
  for (const l of lines) {
    const d = l.details as {path?: unknown; sha256?: unknown} | undefined
    if (l.action === 'case.state' && typeof d?.path === 'string' && typeof d.sha256 === 'string')
      last.set(d.path, d.sha256)
  }
  const files = [...(await walkFiles(join(dir, 'state'))), join(dir, 'playbook-run.json')]
  const seen = new Set<string>()
  for (const abs of files) {
    const rel = relative(dir, abs).split(sep).join('/')
    if (!isTrackedState(rel) || /\.tmp-\d+-/.test(rel)) continue
    let content: Buffer
    try {
      const st = await lstat(abs)
      if (!st.isFile()) {
        problems.push({kind: 'state', path: rel, message: `${rel} is not a regular file`})
        continue
      }
      content = await readFile(abs)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw error
    }
    seen.add(rel)
    const want = last.get(rel)
    if (want === undefined) {
      // Cases made before state hashing have no record of any state file: nothing to compare.
      if (last.size > 0)
        problems.push({
          kind: 'state',
          path: rel,
          message: `${rel} was never written by ir (no record in the audit chain)`,
        })
    } else if (want !== sha256(content)) {
      problems.push({
        kind: 'state',
        path: rel,
        message: `${rel} was edited: it differs from the version recorded in the audit chain`,
      })
    }
  }
  for (const rel of last.keys()) {
    if (!seen.has(rel))
      problems.push({kind: 'state', path: rel, message: `${rel} was recorded in the audit chain but is gone`})
  }
}
