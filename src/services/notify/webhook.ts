import {REDACTED} from '../../util/redact.js'

export type NotifyFormat = 'json' | 'slack'

export interface DeliveryOptions {
  /** Per attempt. */
  timeoutMs: number
  /** Attempts after the first (a network error, a timeout, HTTP 408, 429 or 5xx). */
  retries: number
  /** Ends every attempt and the waits between them (the command's end budget ran out). */
  signal: AbortSignal
  /** The wait before retry n is backoffMs * 2^(n-1). */
  backoffMs?: number
}

export interface DeliveryResult {
  ok: boolean
  /** The HTTP status of the last answer, when there was one. */
  status?: number
  attempts: number
  durationMs: number
  /** Why it failed (never holding the URL). */
  error?: string
  /** The command ended before the message was delivered. */
  abandoned?: boolean
}

/** Slack's incoming webhooks take `{"text": ...}`; everything else gets ir's JSON message. */
export function inferFormat(url: string): NotifyFormat {
  try {
    return new URL(url).hostname.toLowerCase() === 'hooks.slack.com' ? 'slack' : 'json'
  } catch {
    return 'json'
  }
}

/**
 * The webhook as it may be shown or recorded: scheme, host and port only. A webhook's path and query
 * are its secret (Slack's /services/T../B../<token>, Discord's /api/webhooks/<id>/<token>, ?token=),
 * and so is any user:password; all of them are replaced.
 */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url)
    const hasPath = u.pathname !== '/' && u.pathname !== ''
    return `${u.protocol}//${u.host}${hasPath || u.search !== '' ? `/${REDACTED}` : '/'}`
  } catch {
    return REDACTED
  }
}

/** Every fragment of the URL an error text might quote (its path, query, whole), replaced. */
export function scrubUrl(text: string, url: string): string {
  let out = text
  try {
    const u = new URL(url)
    const parts = [url, u.href, `${u.pathname}${u.search}`, u.pathname, u.search, u.username, u.password]
      .filter((p) => p.length > 1)
      .sort((a, b) => b.length - a.length)
    for (const p of parts) out = out.split(p).join(p === url || p === u.href ? displayUrl(url) : REDACTED)
  } catch {
    out = out.split(url).join(REDACTED)
  }
  return out
}

/** Check a webhook URL given on the command line, in IR_NOTIFY_URL or in a playbook. */
export function checkUrl(url: string): string | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return 'is not a URL'
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `must be http:// or https:// (not ${u.protocol})`
  return undefined
}

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'no answer within the timeout'
    const cause = (error as {cause?: {code?: string; message?: string}}).cause
    if (cause?.code) return `${error.message}: ${cause.code}`
    if (cause?.message) return `${error.message}: ${cause.message}`
    return error.message
  }
  return String(error)
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    timer.unref()
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, {once: true})
  })
}

/**
 * POST one JSON body, each attempt bounded by its timeout, retried a bounded number of times with
 * exponential backoff. Never throws: the result says what happened.
 */
export async function deliver(url: string, body: unknown, opts: DeliveryOptions): Promise<DeliveryResult> {
  const started = Date.now()
  const backoff = opts.backoffMs ?? 200
  let attempts = 0
  let status: number | undefined
  let error: string | undefined
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0) await wait(backoff * 2 ** (attempt - 1), opts.signal)
    if (opts.signal.aborted) break
    attempts++
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {'content-type': 'application/json', 'user-agent': 'ir-notify'},
        body: JSON.stringify(body),
        redirect: 'error',
        signal: AbortSignal.any([AbortSignal.timeout(opts.timeoutMs), opts.signal]),
      })
      status = res.status
      // Drain the answer so the connection is released (bounded by the same signal).
      await res.arrayBuffer().catch(() => undefined)
      if (res.ok) return {ok: true, status, attempts, durationMs: Date.now() - started}
      error = `HTTP ${res.status}`
      if (!retryable(res.status)) break
    } catch (e) {
      status = undefined
      error = opts.signal.aborted ? 'the command ended before it was delivered' : scrubUrl(describe(e), url)
    }
  }
  return {
    ok: false,
    ...(status === undefined ? {} : {status}),
    attempts,
    durationMs: Date.now() - started,
    error: opts.signal.aborted && !error ? 'the command ended before it was delivered' : (error ?? 'not sent'),
    ...(opts.signal.aborted ? {abandoned: true} : {}),
  }
}
