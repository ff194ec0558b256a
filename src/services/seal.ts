import type {CaseStore} from '../case/case-store.js'
import {loadSealKey, type SealDoc, timestampSums, type TimestampInfo, writeSeal} from '../case/seal.js'
import {verifyCase, type VerifyProblem} from '../case/verify.js'
import {AbortError, errorMessage, normalizeError} from '../errors.js'

export interface SealOptions {
  store: CaseStore
  id: string
  /** The examiner's SSH private key (or its .pub with the key in ssh-agent). */
  key: string
  /** The principal written to allowed_signers; default the examiner user@host. */
  signer?: string
  /** RFC 3161 timestamping authority URL. */
  tsa?: string
  /** CA file to check the new timestamp against at once. */
  tsaCa?: string
}

export interface SealResult {
  caseId: string
  generation: number
  dir: string
  files: number
  sums: string
  signature: string
  allowedSigners: string
  seal: SealDoc
  timestamp?: TimestampInfo
}

/**
 * Seal a case: the complete verification first (a case that does not verify is refused, exit 6), then,
 * under the case lock, a new seal generation signed with the examiner's SSH key.
 */
export async function sealCase(opts: SealOptions): Promise<SealResult> {
  const {kase} = await opts.store.open({id: opts.id, create: false})
  const signer = opts.signer ?? kase.actor
  if (!/^[^\s,"*?!]+$/.test(signer))
    throw new AbortError(`--signer "${signer}" cannot be an allowed_signers principal`, {
      exit: 'USAGE',
      hint: 'Use one word without spaces, commas or quotes, e.g. alice@example.org.',
    })
  const key = await loadSealKey(opts.key)
  return kase.withLock(async () => {
    const verified = await verifyCase(kase)
    if (!verified.ok) {
      throw new AbortError(`Case ${kase.id} does not verify, so it is not sealed: ${describe(verified.problems)}`, {
        exit: 'INTEGRITY',
        hint: `Run \`ir case verify ${kase.id}\` for every problem.`,
      })
    }
    if (opts.tsa !== undefined && !/^https?:\/\//.test(opts.tsa))
      throw new AbortError(`--tsa ${opts.tsa} is not an http(s) URL`, {exit: 'USAGE'})
    const out = await writeSeal(kase, key, {signer, ...(opts.tsa ? {tsa: opts.tsa} : {})})
    let timestamp: TimestampInfo | undefined
    if (opts.tsa) {
      try {
        timestamp = await timestampSums(out.dir, opts.tsa, opts.tsaCa ? {tsaCa: opts.tsaCa} : {})
      } catch (error) {
        const e = normalizeError(error)
        throw new AbortError(
          `Case ${kase.id} is sealed (generation ${out.generation}, signed), but the timestamp failed: ${errorMessage(error)}`,
          {exit: e.exitName, hint: e.hint ?? 'Seal again with --tsa when the authority is reachable.'},
        )
      }
    }
    return {
      ...(timestamp ? {timestamp} : {}),
      caseId: kase.id,
      generation: out.generation,
      dir: out.dir,
      files: out.files,
      sums: out.sums,
      signature: out.signature,
      allowedSigners: out.allowedSigners,
      seal: out.seal,
    }
  })
}

function describe(problems: VerifyProblem[]): string {
  const first = problems
    .slice(0, 3)
    .map((p) => p.message)
    .join('; ')
  return problems.length > 3 ? `${first}; and ${problems.length - 3} more` : first
}
