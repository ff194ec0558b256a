import {lstat, mkdir, readdir, readFile, rm} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'

import {AbortError, ExternalCommandError, errorMessage} from '../errors.js'
import {DIR_MODE, sha256, sha256File, writeFileAtomic} from '../util/fs.js'
import {type AuditHead, type AuditLine, readHead} from './audit-log.js'
import {type Case, isTrackedState, TOOL} from './case-store.js'
import {type CaseView, isScratch} from './case-view.js'
import {INFLIGHT_DIR} from './inflight.js'

/** The namespace of every ir seal signature (`ssh-keygen -Y sign -n ir-case`). */
export const SEAL_NAMESPACE = 'ir-case'
export const SEALS_DIR = 'seals'
export const SUMS = 'SHA256SUMS'
export const SIG = 'SHA256SUMS.sig'
export const TSR = 'SHA256SUMS.tsr'
export const ALLOWED_SIGNERS = 'allowed_signers'
export const SEAL_JSON = 'seal.json'

/** Written before SHA256SUMS and listed in it, so the signature covers it. */
export interface SealDoc {
  schema: 1
  caseId: string
  generation: number
  /** The principal of the signature (allowed_signers' first field). */
  signer: string
  /** OS user@host that ran the seal. */
  examiner: string
  sealedAt: string
  tool: {name: string; version: string}
  namespace: string
  /** The audit chain's head at the seal (the case.seal line itself). */
  auditHead: AuditHead
  /** Bytes of audit.log at the seal: the sealed log is this prefix of the current one. */
  auditBytes: number
  key: {fingerprint: string; type: string; publicKey: string}
  tsa?: string
}

export interface SealKey {
  /** The file given to ssh-keygen -Y sign -f (a private key, or a public key whose private half is in ssh-agent). */
  signWith: string
  publicKey: string
  fingerprint: string
  type: string
}

export interface SealOutcome {
  generation: number
  dir: string
  seal: SealDoc
  files: number
  sums: string
  signature: string
  allowedSigners: string
}

async function run(
  cmd: string,
  args: string[],
  opts: {input?: string | Buffer; cwd?: string} = {},
): Promise<{exitCode: number; stdout: string; stderr: string}> {
  const {execa} = await import('execa')
  try {
    const r = await execa(cmd, args, {
      reject: false,
      ...(opts.input === undefined ? {stdin: 'ignore'} : {input: opts.input}),
      ...(opts.cwd ? {cwd: opts.cwd} : {}),
      timeout: 60_000,
    })
    if (r.failed && r.exitCode === undefined) throw r
    return {exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr)}
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw new ExternalCommandError(cmd, args, `${cmd} is not installed`, {
        hint:
          cmd === 'openssl'
            ? 'Install the Debian package openssl.'
            : 'Install the Debian package openssh-client (OpenSSH >= 8.2).',
      })
    throw new ExternalCommandError(cmd, args, errorMessage(error))
  }
}

export function lastLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? ''
  )
}

/** Read the signing key's public half and fingerprint (before the case lock is taken). */
export async function loadSealKey(keyPath: string): Promise<SealKey> {
  const st = await lstat(keyPath).catch(() => undefined)
  if (!st?.isFile())
    throw new AbortError(`SSH key ${keyPath} not found`, {
      exit: 'NOT_FOUND',
      hint: "Give the examiner's private key (e.g. ~/.ssh/id_ed25519), or its .pub with the key loaded in ssh-agent.",
    })
  let publicKey: string
  if (keyPath.endsWith('.pub')) publicKey = (await readFile(keyPath, 'utf8')).trim()
  else {
    const pub = await readFile(`${keyPath}.pub`, 'utf8').catch(() => undefined)
    if (pub) publicKey = pub.trim()
    else {
      const r = await run('ssh-keygen', ['-y', '-f', keyPath])
      if (r.exitCode !== 0)
        throw new ExternalCommandError(
          'ssh-keygen',
          ['-y', '-f', keyPath],
          lastLine(r.stderr) || `exit ${r.exitCode}`,
          {exit: 'USAGE'},
        )
      publicKey = r.stdout.trim()
    }
  }
  const [type, blob] = publicKey.split(/\s+/)
  if (!type || !blob) throw new AbortError(`${keyPath}: not an SSH public key`, {exit: 'USAGE'})
  const r = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', '-'], {input: `${type} ${blob}\n`})
  const fingerprint = /SHA256:\S+/.exec(r.stdout)?.[0]
  if (r.exitCode !== 0 || !fingerprint)
    throw new ExternalCommandError('ssh-keygen', ['-l', '-f', '-'], lastLine(r.stderr) || 'no fingerprint', {
      exit: 'USAGE',
    })
  return {signWith: keyPath, publicKey: `${type} ${blob}`, fingerprint, type}
}

/** The sha256sum name escaping: a name with `\` or a newline gets a leading `\` and escapes. */
export function sumsLine(hex: string, rel: string): string {
  if (/[\\\n\r]/.test(rel))
    return `\\${hex}  ${rel.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r')}\n`
  return `${hex}  ${rel}\n`
}

export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const raw of text.split('\n')) {
    if (raw === '') continue
    const escaped = raw.startsWith('\\')
    const line = escaped ? raw.slice(1) : raw
    const m = /^([0-9a-f]{64}) [ *](.*)$/.exec(line)
    if (!m) continue
    const name = escaped
      ? m[2]!.replace(/\\(\\|n|r)/g, (_s, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'))
      : m[2]!
    out.set(name, m[1]!)
  }
  return out
}

/** Generation folders, oldest first. */
export async function sealGenerations(dir: string): Promise<number[]> {
  const names = await readdir(join(dir, SEALS_DIR)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[]
    throw error
  })
  return names
    .filter((n) => /^\d{4}$/.test(n))
    .map(Number)
    .sort((a, b) => a - b)
}

export function genDir(n: number): string {
  return `${SEALS_DIR}/${String(n).padStart(4, '0')}`
}

/**
 * Every regular file of the case that a seal covers, relative to the case (`/`-separated): evidence,
 * case.json, manifest.json, audit.log, state, earlier seals. Left out: the lock, the disk reserve,
 * temporary files of an atomic write, and the outputs of the generation being sealed or checked
 * (its SHA256SUMS, signature, timestamp and allowed_signers; its seal.json is covered).
 */
export async function sealableFiles(dir: string, generation: number): Promise<string[]> {
  const own = new Set([SUMS, SIG, TSR, ALLOWED_SIGNERS].map((f) => `${genDir(generation)}/${f}`))
  return (await caseFiles(dir)).filter((rel) => !own.has(rel))
}

/** Every regular file of the case folder but the lock, the disk reserve and temporary files, sorted. */
export async function caseFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (abs: string): Promise<void> => {
    for (const e of await readdir(abs, {withFileTypes: true})) {
      const p = join(abs, e.name)
      const rel = relative(dir, p).split(sep).join('/')
      if (rel === '.ir-lock' || rel === '.ir-reserve' || rel === INFLIGHT_DIR || /\.tmp-\d+-/.test(e.name)) continue
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) out.push(rel)
    }
  }
  await walk(dir)
  return out.sort()
}

async function writeSums(dir: string, files: string[]): Promise<string> {
  let text = ''
  for (const rel of files) text += sumsLine((await sha256File(join(dir, rel))).sha256, rel)
  return text
}

/**
 * Seal the case (caller holds the lock and has verified it): a new generation seals/NNNN with
 * seal.json, SHA256SUMS over every file, its ssh signature and allowed_signers. The `case.seal` line
 * is written first, so the sums cover the chain including it and `sha256sum -c` passes right after.
 * A failure removes the incomplete generation and records `case.seal` as failed.
 */
export async function writeSeal(kase: Case, key: SealKey, opts: {signer: string; tsa?: string}): Promise<SealOutcome> {
  const gens = await sealGenerations(kase.dir)
  const generation = (gens.at(-1) ?? 0) + 1
  const rel = genDir(generation)
  const abs = join(kase.dir, rel)
  await mkdir(join(kase.dir, SEALS_DIR), {recursive: true, mode: DIR_MODE})
  await mkdir(abs, {mode: DIR_MODE})
  try {
    await kase.record({
      action: 'case.seal',
      outcome: 'success',
      msg: `Case sealed (generation ${generation}) by ${opts.signer} with ${key.type} key ${key.fingerprint}`,
      details: {
        generation,
        dir: rel,
        signer: opts.signer,
        keyFingerprint: key.fingerprint,
        keyType: key.type,
        namespace: SEAL_NAMESPACE,
        ...(opts.tsa ? {tsa: opts.tsa} : {}),
      },
    })
    const head = await readHead(kase.audit.path)
    const auditBytes = (await lstat(kase.audit.path)).size
    const doc: SealDoc = {
      schema: 1,
      caseId: kase.id,
      generation,
      signer: opts.signer,
      examiner: kase.actor,
      sealedAt: new Date().toISOString(),
      tool: TOOL,
      namespace: SEAL_NAMESPACE,
      auditHead: head,
      auditBytes,
      key: {fingerprint: key.fingerprint, type: key.type, publicKey: key.publicKey},
      ...(opts.tsa ? {tsa: opts.tsa} : {}),
    }
    await writeFileAtomic(join(abs, SEAL_JSON), `${JSON.stringify(doc, null, 2)}\n`, 0o644)
    const files = await sealableFiles(kase.dir, generation)
    await writeFileAtomic(join(abs, SUMS), await writeSums(kase.dir, files), 0o644)
    await writeFileAtomic(
      join(abs, ALLOWED_SIGNERS),
      `${opts.signer} namespaces="${SEAL_NAMESPACE}" ${key.publicKey}\n`,
      0o644,
    )
    const args = ['-Y', 'sign', '-f', key.signWith, '-n', SEAL_NAMESPACE, join(abs, SUMS)]
    const r = await run('ssh-keygen', args)
    if (r.exitCode !== 0)
      throw new ExternalCommandError('ssh-keygen', args, lastLine(r.stderr) || `exit ${r.exitCode}`, {
        hint: 'A key with a passphrase needs a terminal, or load it into ssh-agent and give its .pub.',
      })
    const check = await verifySignature(join(abs, SUMS), join(abs, SIG), join(abs, ALLOWED_SIGNERS))
    if (!check.ok)
      throw new ExternalCommandError(
        'ssh-keygen',
        ['-Y', 'verify'],
        `the new signature does not verify: ${check.message}`,
      )
    return {
      generation,
      dir: abs,
      seal: doc,
      files: files.length,
      sums: join(abs, SUMS),
      signature: join(abs, SIG),
      allowedSigners: join(abs, ALLOWED_SIGNERS),
    }
  } catch (error) {
    await rm(abs, {recursive: true, force: true})
    await kase
      .record({
        action: 'case.seal',
        outcome: 'failure',
        msg: `Sealing generation ${generation} failed: ${errorMessage(error)}`,
        details: {generation, dir: rel, error: errorMessage(error)},
      })
      .catch(() => undefined)
    throw error
  }
}

/** `ssh-keygen -Y find-principals` then `-Y verify` against an allowed_signers file. */
export async function verifySignature(
  sums: string,
  sig: string,
  allowedSigners: string,
): Promise<{ok: boolean; principal?: string; message: string}> {
  const find = await run('ssh-keygen', ['-Y', 'find-principals', '-s', sig, '-f', allowedSigners])
  const principal = find.stdout
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean)
  if (find.exitCode !== 0 || !principal)
    return {
      ok: false,
      message: `no principal in ${allowedSigners} holds the key that made the signature${find.stderr.trim() ? ` (${lastLine(find.stderr)})` : ''}`,
    }
  const v = await run(
    'ssh-keygen',
    ['-Y', 'verify', '-f', allowedSigners, '-I', principal, '-n', SEAL_NAMESPACE, '-s', sig],
    {input: await readFile(sums)},
  )
  if (v.exitCode !== 0)
    return {
      ok: false,
      principal,
      message: lastLine(v.stderr) || lastLine(v.stdout) || `ssh-keygen -Y verify exit ${v.exitCode}`,
    }
  return {ok: true, principal, message: lastLine(v.stdout) || lastLine(v.stderr)}
}

export interface SealCheck {
  generation: number
  dir: string
  signer?: string
  examiner?: string
  sealedAt?: string
  keyFingerprint?: string
  auditHead?: AuditHead
  files: number
  signature: {ok: boolean; against: string; trusted: boolean; principal?: string; message: string}
  /** Audit lines written after the seal: allowed, not covered by the signature. */
  afterSeal: Array<{seq: number; time: string; action: string; msg: string}>
  /** Sealed files that changed since, accounted for by lines after the seal (case.json's head, the manifest, state). */
  changedAfterSeal: string[]
  /** Files added since the seal, each recorded by a line after it. */
  addedAfterSeal: string[]
  timestamp: TimestampCheck
  problems: string[]
}

/**
 * Check the newest seal generation, read-only: its signature (against the examiner's allowed_signers,
 * or the case's own copy, which proves consistency but not who signed), every sum, the sealed audit
 * log as a byte prefix of the current one, and nothing added or changed since that no line after the
 * seal accounts for. Undefined when the case was never sealed.
 */
export async function checkSeal(
  view: CaseView,
  lines: AuditLine[],
  opts: {allowedSigners?: string; tsaCa?: string} = {},
): Promise<SealCheck | undefined> {
  const gens = await view.generations()
  const generation = gens.at(-1)
  if (generation === undefined) return undefined
  const rel = genDir(generation)
  const problems: string[] = []
  const own = {sums: `${rel}/${SUMS}`, sig: `${rel}/${SIG}`, tsr: `${rel}/${TSR}`, signers: `${rel}/${ALLOWED_SIGNERS}`}
  const result: SealCheck = {
    generation,
    dir: rel,
    files: 0,
    signature: {
      ok: false,
      against: opts.allowedSigners ?? join(view.label, own.signers),
      trusted: opts.allowedSigners !== undefined,
      message: '',
    },
    afterSeal: [],
    changedAfterSeal: [],
    addedAfterSeal: [],
    timestamp: {present: false, checked: false, ok: true, message: 'not checked'},
    problems,
  }
  const sumsText = (await view.read(own.sums))?.toString('utf8')
  const hasSig = (await view.stat(own.sig))?.kind === 'file'
  if (sumsText === undefined || !hasSig) {
    problems.push(`${rel} is an incomplete seal: ${sumsText === undefined ? SUMS : SIG} is missing`)
    result.signature.message = 'no signature'
    return result
  }
  if (
    opts.allowedSigners !== undefined &&
    !(await lstat(opts.allowedSigners).then(
      (s) => s.isFile(),
      () => false,
    ))
  ) {
    throw new AbortError(`allowed_signers file ${opts.allowedSigners} not found`, {exit: 'NOT_FOUND'})
  }
  // ssh-keygen and openssl read files: the folder's own, or private copies of these few records.
  await view.withFiles([own.sums, own.sig, own.signers, own.tsr], async ([sumsPath, sigPath, signersPath, tsrPath]) => {
    const against = opts.allowedSigners ?? signersPath
    const sig =
      against === undefined
        ? {ok: false, message: `${own.signers} is missing (give --allowed-signers)`}
        : await verifySignature(sumsPath!, sigPath!, against)
    result.signature = {
      ...result.signature,
      ok: sig.ok,
      message: sig.message,
      ...('principal' in sig && sig.principal ? {principal: sig.principal} : {}),
    }
    if (!sig.ok)
      problems.push(
        `the signature over ${rel}/${SUMS} does not verify against ${result.signature.against}: ${sig.message}`,
      )
    result.timestamp = await checkTimestamp(sumsPath!, tsrPath, opts.tsaCa)
  })
  if (!result.timestamp.ok)
    problems.push(
      result.timestamp.present
        ? `the RFC 3161 timestamp ${rel}/${TSR} does not verify against ${opts.tsaCa}: ${result.timestamp.message}`
        : `${rel} has no RFC 3161 timestamp (--tsa-ca was given)`,
    )

  const sums = parseSums(sumsText)
  result.files = sums.size
  let doc: SealDoc | undefined
  try {
    const bytes = await view.read(`${rel}/${SEAL_JSON}`)
    if (bytes === undefined) throw new Error('it is missing')
    doc = JSON.parse(bytes.toString('utf8')) as SealDoc
  } catch (error) {
    problems.push(`${rel}/${SEAL_JSON} is unreadable: ${errorMessage(error)}`)
  }
  if (doc)
    Object.assign(result, {
      signer: doc.signer,
      examiner: doc.examiner,
      sealedAt: doc.sealedAt,
      keyFingerprint: doc.key?.fingerprint,
      auditHead: doc.auditHead,
    })
  if (!sums.has(`${rel}/${SEAL_JSON}`)) problems.push(`${rel}/${SEAL_JSON} is not listed in ${SUMS}`)

  const sealedSeq = doc?.auditHead?.seq ?? Number.POSITIVE_INFINITY
  const after = lines.filter((l) => l.seq > sealedSeq)
  result.afterSeal = after.map((l) => ({seq: l.seq, time: l.time, action: l.action, msg: l.msg}))
  const pathsAfter = new Set<string>()
  const actionsAfter = new Set(after.map((l) => l.action))
  for (const l of after) {
    const p = (l.details as {path?: unknown} | undefined)?.path
    if (typeof p === 'string') pathsAfter.add(p)
  }

  // The audit log: the sealed bytes must be the start of today's log.
  const auditSum = sums.get('audit.log')
  if (!auditSum) problems.push(`audit.log is not listed in ${rel}/${SUMS}`)
  else if (doc) {
    const log = (await view.read('audit.log')) ?? Buffer.alloc(0)
    const prefix = log.subarray(0, doc.auditBytes)
    if (log.length < doc.auditBytes || sha256(prefix) !== auditSum) {
      problems.push(
        `audit.log: the ${doc.auditHead.seq} lines sealed in generation ${generation} were rewritten (the first ${doc.auditBytes} bytes no longer have the sealed SHA-256 ${auditSum})`,
      )
    } else if (log.length > doc.auditBytes && !(doc.auditBytes === 0 || log[doc.auditBytes - 1] === 0x0a)) {
      problems.push('audit.log: the sealed last line was extended')
    }
  }

  for (const [path, want] of sums) {
    if (path === 'audit.log') continue
    const st = await view.stat(path)
    if (!st) {
      problems.push(`${path} was sealed in generation ${generation} but is gone`)
      continue
    }
    if (st.kind !== 'file') {
      problems.push(`${path} was sealed as a file but is now ${st.what ?? 'not a regular file'}`)
      continue
    }
    const got = (await view.digest(path))?.sha256
    if (got === want) continue
    const explained =
      (path === 'case.json' && after.length > 0) ||
      (path === 'manifest.json' && (actionsAfter.has('evidence.add') || actionsAfter.has('evidence.recovered'))) ||
      (isTrackedState(path) && pathsAfter.has(path))
    if (explained) result.changedAfterSeal.push(path)
    else
      problems.push(
        `${path} changed after the seal of generation ${generation} (SHA-256 ${got}, sealed ${want}) and no audit line after the seal accounts for it`,
      )
  }

  const outputs = new Set([own.sums, own.sig, own.tsr, own.signers])
  for (const e of await view.entries()) {
    const path = e.rel
    if (e.kind !== 'file' || isScratch(path) || outputs.has(path) || sums.has(path)) continue
    if (pathsAfter.has(path)) result.addedAfterSeal.push(path)
    else
      problems.push(
        `${path} was added after the seal of generation ${generation} and no audit line after the seal records it`,
      )
  }
  return result
}

export interface TimestampInfo {
  tsr: string
  /** genTime as openssl prints it (e.g. "Dec  2 14:55:21 2026 GMT"). */
  time?: string
  tsa: string
}

async function tsText(tsr: string): Promise<string> {
  const r = await run('openssl', ['ts', '-reply', '-in', tsr, '-text'])
  if (r.exitCode !== 0)
    throw new ExternalCommandError(
      'openssl',
      ['ts', '-reply', '-in', tsr, '-text'],
      lastLine(r.stderr) || `exit ${r.exitCode}`,
    )
  return r.stdout
}

/**
 * RFC 3161: a TimeStampReq for SHA256SUMS (`openssl ts -query -sha256 -cert`, so the reply carries the
 * TSA's certificate), POSTed to the TSA; the reply is kept as SHA256SUMS.tsr when its status is granted
 * and it answers this very query. With a CA file, it is also checked with `openssl ts -verify`.
 */
export async function timestampSums(
  genAbs: string,
  url: string,
  opts: {tsaCa?: string; timeoutMs?: number} = {},
): Promise<TimestampInfo> {
  const sums = join(genAbs, SUMS)
  const tsq = join(genAbs, `${SUMS}.tsq.tmp-${process.pid}-q`)
  const tsrTmp = join(genAbs, `${SUMS}.tsr.tmp-${process.pid}-r`)
  try {
    const q = await run('openssl', ['ts', '-query', '-data', sums, '-sha256', '-cert', '-out', tsq])
    if (q.exitCode !== 0)
      throw new ExternalCommandError('openssl', ['ts', '-query'], lastLine(q.stderr) || `exit ${q.exitCode}`)
    let body: Buffer
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {'content-type': 'application/timestamp-query'},
        body: await readFile(tsq),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      })
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`)
      body = Buffer.from(await res.arrayBuffer())
    } catch (error) {
      throw new AbortError(`The timestamping authority ${url} did not answer: ${errorMessage(error)}`, {
        hint: 'The seal itself is signed and kept; seal again with --tsa when the authority is reachable.',
      })
    }
    await writeFileAtomic(tsrTmp, body, 0o644)
    const text = await tsText(tsrTmp).catch(() => '')
    if (!/Status:\s*Granted/i.test(text))
      throw new AbortError(
        `The timestamping authority ${url} did not grant a timestamp: ${/Status info:[^\n]*\n?([^\n]*)/.exec(text)?.[1]?.trim() || lastLine(text) || 'unreadable reply'}`,
      )
    const match = opts.tsaCa
      ? await run('openssl', ['ts', '-verify', '-queryfile', tsq, '-in', tsrTmp, '-CAfile', opts.tsaCa])
      : undefined
    if (opts.tsaCa && match && match.exitCode !== 0)
      throw new AbortError(
        `The timestamp from ${url} does not verify against ${opts.tsaCa}: ${lastLine(match.stderr) || lastLine(match.stdout)}`,
        {exit: 'INTEGRITY'},
      )
    const {rename} = await import('node:fs/promises')
    await rename(tsrTmp, join(genAbs, TSR))
    const time = /Time stamp:\s*(.+)/.exec(text)?.[1]?.trim()
    return {tsr: join(genAbs, TSR), tsa: url, ...(time ? {time} : {})}
  } finally {
    await rm(tsq, {force: true})
    await rm(tsrTmp, {force: true})
  }
}

export interface TimestampCheck {
  present: boolean
  checked: boolean
  ok: boolean
  time?: string
  message: string
}

/** `openssl ts -verify -data SHA256SUMS -in SHA256SUMS.tsr -CAfile <ca>` on the newest seal (tsr undefined: none). */
export async function checkTimestamp(sums: string, tsr: string | undefined, tsaCa?: string): Promise<TimestampCheck> {
  if (tsr === undefined)
    return {present: false, checked: false, ok: tsaCa === undefined, message: 'no RFC 3161 timestamp'}
  const text = await tsText(tsr).catch(() => '')
  const time = /Time stamp:\s*(.+)/.exec(text)?.[1]?.trim()
  if (tsaCa === undefined)
    return {
      present: true,
      checked: false,
      ok: true,
      ...(time ? {time} : {}),
      message: 'timestamp present, not checked (give --tsa-ca)',
    }
  const v = await run('openssl', ['ts', '-verify', '-data', sums, '-in', tsr, '-CAfile', tsaCa])
  const ok = v.exitCode === 0 && /Verification: OK/.test(v.stdout + v.stderr)
  return {
    present: true,
    checked: true,
    ok,
    ...(time ? {time} : {}),
    message: ok
      ? 'Verification: OK'
      : lastLine(v.stderr) || lastLine(v.stdout) || `openssl ts -verify exit ${v.exitCode}`,
  }
}
