import {lstat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {readAuditLines} from '../case/audit-log.js'
import type {CaseStore} from '../case/case-store.js'
import {genDir, sealGenerations, SUMS} from '../case/seal.js'
import {AbortError} from '../errors.js'
import {canonicalJson} from '../util/canonical-json.js'
import {sha256, sha256File} from '../util/fs.js'
import {isoWithOffset} from '../util/time.js'

/** The custody record of a case, under state/ (hashed into the chain at each change like all state). */
export const CUSTODY_FILE = 'custody.json'
export const CUSTODY_PATH = `state/${CUSTODY_FILE}`
export const TRANSFER_ACTION = 'case.transfer'

/** What was handed over: the newest seal (its SHA256SUMS), or an export archive. */
export type HandedOver =
  {kind: 'seal'; generation: number; path: string} | {kind: 'archive'; path: string; size: number}

/** One custody transfer: who handed what to whom, when (with the offset), why, and where it went. */
export interface CustodyTransfer {
  /** 1, 2, ... in the order recorded. */
  n: number
  from: string
  to: string
  reason: string
  /** ISO 8601 with this host's offset, e.g. 2026-12-03T13:04:05.123+01:00. */
  at: string
  destination?: string
  /** SHA-256 of what was handed over (the seal's SHA256SUMS, or the archive). */
  sha256: string
  of: HandedOver
  /** The OS user@host that ran `ir case transfer`. */
  recordedBy: string
}

/** state/custody.json: an append-only list (a changed or removed entry fails `ir case verify`). */
export interface CustodyDoc {
  schema: 1
  caseId: string
  transfers: CustodyTransfer[]
}

export interface TransferOptions {
  store: CaseStore
  id: string
  to: string
  reason: string
  /** Default: the OS user@host. */
  from?: string
  destination?: string
  /** The export archive handed over; default the newest seal's SHA256SUMS. */
  archive?: string
  now?: Date
}

export interface TransferResult extends CustodyTransfer {
  caseId: string
  /** The `case.transfer` line in the audit chain. */
  seq: number
  custodyFile: string
  /** Things the examiner should know (work after the seal not covered by it). */
  warnings: string[]
}

function field(value: string | undefined, flag: string, example: string): string {
  const v = value?.trim() ?? ''
  if (v === '') throw new AbortError(`${flag} is empty`, {exit: 'USAGE', hint: `Give ${flag} "${example}".`})
  if (/[\u0000-\u001f\u007f]/.test(v))
    throw new AbortError(`${flag} holds a control character (a newline or tab)`, {
      exit: 'USAGE',
      hint: 'Give it on one line.',
    })
  return v
}

/**
 * Record a custody transfer, under the case lock: the SHA-256 of what was handed over (the newest
 * seal's SHA256SUMS, or an export archive of this case, which must be one recorded by `case.export`),
 * appended to state/custody.json (hashed into the chain as `case.state`) and a `case.transfer` line
 * holding the same entry. Not destructive: nothing else of the case changes.
 */
export async function transferCase(opts: TransferOptions): Promise<TransferResult> {
  const to = field(opts.to, '--to', 'Bob Examiner, Example CERT')
  const reason = field(opts.reason, '--reason', 'forensic analysis')
  const from = opts.from === undefined ? undefined : field(opts.from, '--from', 'Alice Responder, Example Ltd')
  const destination =
    opts.destination === undefined ? undefined : field(opts.destination, '--destination', 'evidence locker 3')
  const {kase} = await opts.store.open({id: opts.id, create: false})

  let archive: {path: string; sha256: string; size: number} | undefined
  if (opts.archive !== undefined) {
    const path = resolve(opts.archive)
    const st = await lstat(path).catch(() => undefined)
    if (!st?.isFile()) throw new AbortError(`Archive ${path} not found`, {exit: 'NOT_FOUND'})
    archive = {path, ...(await sha256File(path))}
  }

  return kase.withLock(async () => {
    const lines = await readAuditLines(kase.audit.path)
    const warnings: string[] = []
    let of: HandedOver
    let digest: string
    if (archive) {
      const exported = lines.some(
        (l) =>
          l.action === 'case.export' &&
          l.outcome === 'success' &&
          (l.details as {sha256?: unknown} | undefined)?.sha256 === archive.sha256,
      )
      if (!exported)
        throw new AbortError(`${archive.path} is not an export of case ${kase.id} (SHA-256 ${archive.sha256})`, {
          exit: 'PRECONDITION',
          hint: `Hand over an archive made by \`ir case export ${kase.id}\` (its SHA-256 is in the audit chain), or leave --archive out to record the newest seal.`,
        })
      of = {kind: 'archive', path: archive.path, size: archive.size}
      digest = archive.sha256
    } else {
      const generation = (await sealGenerations(kase.dir)).at(-1)
      const sums = generation === undefined ? undefined : join(kase.dir, genDir(generation), SUMS)
      const got = sums === undefined ? undefined : await sha256File(sums).catch(() => undefined)
      if (generation === undefined || !got)
        throw new AbortError(`Case ${kase.id} is not sealed: there is nothing signed to hand over`, {
          exit: 'PRECONDITION',
          hint: `Seal it first: ir case seal ${kase.id} --key <ssh key>; or give --archive <file> made by ir case export.`,
        })
      of = {kind: 'seal', generation, path: `${genDir(generation)}/${SUMS}`}
      digest = got.sha256
      const sealLine = lines.findLast(
        (l) => l.action === 'case.seal' && (l.details as {generation?: unknown} | undefined)?.generation === generation,
      )
      const after = sealLine
        ? lines.filter(
            (l) =>
              l.seq > sealLine.seq &&
              !['case.export', TRANSFER_ACTION].includes(l.action) &&
              !(l.action === 'case.state' && (l.details as {path?: unknown} | undefined)?.path === CUSTODY_PATH),
          )
        : []
      if (after.length > 0)
        warnings.push(
          `${after.length} audit line(s) after seal generation ${generation} (e.g. #${after[0]!.seq} ${after[0]!.action}) are not covered by it: seal again to hand them over`,
        )
    }

    const at = isoWithOffset(opts.now ?? new Date())
    const doc = await kase.readState<CustodyDoc>(CUSTODY_FILE, {schema: 1, caseId: kase.id, transfers: []})
    if (!Array.isArray(doc.transfers))
      throw new AbortError(`${CUSTODY_PATH} holds no list of transfers`, {
        exit: 'INTEGRITY',
        hint: `Run ir case verify ${kase.id}.`,
      })
    const entry: CustodyTransfer = {
      n: doc.transfers.length + 1,
      from: from ?? kase.actor,
      to,
      reason,
      at,
      ...(destination ? {destination} : {}),
      sha256: digest,
      of,
      recordedBy: kase.actor,
    }
    await kase.updateState<CustodyDoc>(CUSTODY_FILE, doc, (cur) => ({
      schema: 1,
      caseId: kase.id,
      transfers: [...(cur.transfers ?? []), entry],
    }))
    const line = await kase.record({
      action: TRANSFER_ACTION,
      outcome: 'success',
      msg: `Custody transferred from ${entry.from} to ${to} at ${at}${destination ? ` (${destination})` : ''}: ${reason}; SHA-256 ${digest} of ${of.kind === 'seal' ? `seal generation ${of.generation} ${SUMS}` : of.path}`,
      details: {...entry, entrySha256: sha256(canonicalJson(entry))},
    })
    return {caseId: kase.id, ...entry, seq: line.seq, custodyFile: join(kase.dir, CUSTODY_PATH), warnings}
  })
}
