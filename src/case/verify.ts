import {errorMessage} from '../errors.js'
import {type AuditLine, type ChainProblem, parseAuditLines, verifyChainText} from './audit-log.js'
import {type Case, type CaseMeta, isTrackedState, metaDigest} from './case-store.js'
import {type CaseView, FolderView, type ViewEntry} from './case-view.js'
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
  | 'manifest'
  | 'artifact'
  | 'chain-vs-manifest'
  | 'evidence-folder'
  | 'case.json'
  | 'state'
  | 'audit'
  | 'seal'
  | 'archive'

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
  /** Commits interrupted between the chain's line and the manifest's entry (bytes verified in .partial): completed by the next command. */
  pending: string[]
  problems: VerifyProblem[]
  audit: {entries: number; ok: boolean; problems: ChainProblem[]; head: {seq: number; hash: string}}
  /** The newest seal generation, checked (absent for a case never sealed). */
  seal?: SealCheck
  verifiedAt: string
}

/**
 * The complete cross-check of a case folder, read-only (see verifyView).
 */
export async function verifyCase(
  kase: Case,
  opts: {allowedSigners?: string; tsaCa?: string} = {},
): Promise<VerifyResult> {
  return verifyView(new FolderView(kase.dir, kase.id), opts)
}

/**
 * The complete cross-check, read-only, of a case folder or an exported archive (one CaseView):
 * - every artifact in the manifest is a regular file with one link, of the recorded size and SHA-256;
 * - the manifest and the audit chain agree: each `evidence.add` has exactly its manifest entry (path,
 *   SHA-256, size, and the digest of the whole entry, so provenance edits show), and no entry lacks one;
 * - evidence/ holds nothing else but `.partial` files;
 * - case.json's fields match the digest recorded at the last case.open/case.update;
 * - each state file matches the hash recorded at its last change, and none is missing or unrecorded;
 * - the audit chain is intact and its head matches case.json;
 * - the newest seal, when there is one (checkSeal).
 * What it cannot tell: a log rewritten and re-chained from the start together with every file. Only a
 * signature over the chain (`ir case seal`) can.
 */
export async function verifyView(
  view: CaseView,
  opts: {allowedSigners?: string; tsaCa?: string} = {},
): Promise<VerifyResult> {
  const problems: VerifyProblem[] = view.problems.map((p) => ({kind: 'archive', ...p}))
  const meta = await readMeta(view, problems)
  const manifest = await readManifest(view, problems)
  const auditBytes = await view.read('audit.log')
  const auditText = auditBytes?.toString('utf8')
  const lines = parseAuditLines(auditText ?? '')

  const artifacts: ArtifactCheck[] = []
  for (const a of manifest?.artifacts ?? []) artifacts.push(await checkArtifact(view, a))
  for (const c of artifacts) {
    if (c.status !== 'ok') problems.push({kind: 'artifact', path: c.path, message: artifactMessage(c)})
  }
  const pending = manifest ? await pendingCommits(view, manifest.artifacts, lines) : new Set<string>()
  if (manifest) crossCheck(manifest.artifacts, lines, problems, pending)

  const listed = new Set((manifest?.artifacts ?? []).map((a) => a.path))
  const unlisted: string[] = []
  const partials: {path: string; size: number}[] = []
  const entries = await view.entries()
  for (const e of entries) {
    const rel = e.rel
    if (!rel.startsWith('evidence/') || listed.has(rel)) continue
    if (rel.endsWith(PARTIAL_SUFFIX) && e.kind === 'file') {
      partials.push({path: rel, size: e.size})
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
  if (meta && meta.id !== view.caseId)
    problems.push({
      kind: 'case.json',
      path: 'case.json',
      message: `case.json names case ${String(meta.id)}, but it is read as ${view.caseId}`,
    })
  await checkState(view, entries, lines, problems)

  const chain = verifyChainText(auditText, meta?.auditHead)
  for (const p of chain.problems) problems.push({kind: 'audit', message: `audit.log line ${p.line}: ${p.problem}`})
  const seal = await checkSeal(view, lines, opts)
  for (const message of seal?.problems ?? []) problems.push({kind: 'seal', message: `seal ${seal!.dir}: ${message}`})
  return {
    caseId: view.caseId,
    ok: problems.length === 0,
    artifacts,
    unlisted,
    partials,
    pending: [...pending],
    problems,
    audit: {entries: chain.entries, ok: chain.problems.length === 0, problems: chain.problems, head: chain.head},
    ...(seal ? {seal} : {}),
    verifiedAt: new Date().toISOString(),
  }
}

async function readMeta(view: CaseView, problems: VerifyProblem[]): Promise<CaseMeta | undefined> {
  try {
    const bytes = await view.read('case.json')
    if (bytes === undefined) throw new Error('it is missing')
    return JSON.parse(bytes.toString('utf8')) as CaseMeta
  } catch (error) {
    problems.push({kind: 'case.json', path: 'case.json', message: `case.json is unreadable: ${errorMessage(error)}`})
    return undefined
  }
}

async function readManifest(view: CaseView, problems: VerifyProblem[]): Promise<ManifestDoc | undefined> {
  const bytes = await view.read('manifest.json')
  if (bytes === undefined) {
    problems.push({kind: 'manifest', path: 'manifest.json', message: `The manifest manifest.json is missing`})
    return undefined
  }
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as ManifestDoc
    if (!doc || !Array.isArray(doc.artifacts)) throw new Error('no artifacts list')
    return doc
  } catch {
    problems.push({kind: 'manifest', path: 'manifest.json', message: 'The manifest manifest.json is not valid JSON'})
    return undefined
  }
}

async function checkArtifact(view: CaseView, a: Artifact): Promise<ArtifactCheck> {
  const base = {id: a.id, path: a.path, expected: a.sha256}
  const st = await view.stat(a.path)
  if (!st) return {...base, status: 'missing'}
  if (st.kind !== 'file') return {...base, status: 'not-a-file', actual: st.what ?? 'not a regular file'}
  if (st.nlink > 1) return {...base, status: 'not-a-file', actual: `hard link (${st.nlink} names)`}
  const got = await view.digest(a.path)
  if (!got) return {...base, status: 'missing'}
  if (got.sha256 !== a.sha256) return {...base, status: 'modified', actual: got.sha256}
  if (got.size !== a.size) return {...base, status: 'size-mismatch', expected: String(a.size), actual: String(got.size)}
  return {...base, status: 'ok', actual: got.sha256}
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

/**
 * Artifacts the chain recorded (evidence.add) that the manifest does not list yet, whose `.partial` holds exactly
 * the recorded bytes: a commit interrupted between its two writes, which the next command completes.
 */
async function pendingCommits(view: CaseView, artifacts: Artifact[], lines: AuditLine[]): Promise<Set<string>> {
  const listed = new Set(artifacts.map((a) => a.path))
  const out = new Set<string>()
  for (const l of lines) {
    const d = l.details
    if (l.action !== 'evidence.add' || !d || typeof d.path !== 'string' || listed.has(d.path)) continue
    const got = await view.digest(`${d.path}${PARTIAL_SUFFIX}`)
    if (got && got.sha256 === d.sha256 && got.size === d.size) out.add(d.path)
  }
  return out
}

/** Manifest against chain, both ways. */
function crossCheck(
  artifacts: Artifact[],
  lines: AuditLine[],
  problems: VerifyProblem[],
  pendingCommits: ReadonlySet<string>,
): void {
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
    // Stopped (or out of disk) between the chain's line and the manifest's entry: the verified bytes wait in
    // `<path>.partial` with the SHA-256 and size the chain recorded; the next command that opens the case
    // finishes the commit (Case.reconcile). Not tampering; listed as pending.
    if (pendingCommits.has(path)) continue
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

async function checkState(
  view: CaseView,
  entries: ViewEntry[],
  lines: AuditLine[],
  problems: VerifyProblem[],
): Promise<void> {
  const last = new Map<string, string>()
  for (const l of lines) {
    const d = l.details as {path?: unknown; sha256?: unknown} | undefined
    if (l.action === 'case.state' && typeof d?.path === 'string' && typeof d.sha256 === 'string')
      last.set(d.path, d.sha256)
  }
  const seen = new Set<string>()
  for (const e of entries) {
    const rel = e.rel
    if (!isTrackedState(rel) || /\.tmp-\d+-/.test(rel)) continue
    if (e.kind !== 'file') {
      problems.push({kind: 'state', path: rel, message: `${rel} is not a regular file`})
      continue
    }
    const got = await view.digest(rel)
    if (!got) continue
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
    } else if (want !== got.sha256) {
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
