/**
 * Redaction of secret-looking values in everything written to a case (audit log, evidence JSON,
 * reports). Redaction keeps names and structure, replaces values. Over-redacting is safe;
 * under-redacting is not, so the name pattern is deliberately broad.
 */

export const REDACTED = '[REDACTED]'

/** Names that hold secrets: KEY, SECRET, TOKEN, PASS(WORD), PWD, CREDENTIAL, AUTH, PRIVATE, API, DSN. */
const SECRET_NAME = /(KEY|SECRET|TOKEN|PASS|PWD|CREDENTIAL|AUTH|PRIVATE|API|DSN|SESSION|COOKIE|SALT|SIGNATURE|CERT)/i

/** Our own record fields that look like secret names but only hold hashes, paths or flags. */
const SAFE_KEYS = new Set(['sha256', 'prev', 'hash', 'auditHead', 'Author', 'author'])

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name)
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]+):([^\s@/]+)@/gi
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g
const INLINE_ASSIGNMENT = /(^|[\s,;"'])(--?)?([A-Za-z_][A-Za-z0-9_.-]*)([=:])([^\s,;"']+)/g

/** Redact secrets embedded in free text: URL passwords, private-key blocks, NAME=value with a secret name. */
export function redactText(text: string): string {
  let out = text.replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
  out = out.replace(PRIVATE_KEY_BLOCK, REDACTED)
  out = out.replace(INLINE_ASSIGNMENT, (m, lead: string, dash: string | undefined, name: string, sep: string, value: string) =>
    isSecretName(name) && value !== REDACTED ? `${lead}${dash ?? ''}${name}${sep}${REDACTED}` : m,
  )
  return out
}

/** Redact one `NAME=value` environment entry. */
export function redactEnvEntry(entry: string): string {
  const eq = entry.indexOf('=')
  if (eq < 0) return entry
  const name = entry.slice(0, eq)
  return isSecretName(name) ? `${name}=${REDACTED}` : `${name}=${redactText(entry.slice(eq + 1))}`
}

/**
 * Deep-copy a value with secrets redacted: values under secret-looking keys, `NAME=value`
 * entries of Env arrays, and secrets embedded in any string. Never mutates its input.
 */
export function redactDeep<T>(value: T): T {
  return walk(value, undefined) as T
}

function walk(value: unknown, key: string | undefined): unknown {
  if (value === null || value === undefined) return value
  if (typeof value === 'string') {
    if (key !== undefined && !SAFE_KEYS.has(key) && isSecretName(key)) return value.length === 0 ? value : REDACTED
    return redactText(value)
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    if (key !== undefined && !SAFE_KEYS.has(key) && isSecretName(key) && typeof value === 'number') return REDACTED
    return value
  }
  if (Array.isArray(value)) {
    if (key === 'Env' || key === 'env') return value.map((v) => (typeof v === 'string' ? redactEnvEntry(v) : walk(v, undefined)))
    return value.map((v) => walk(v, undefined))
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = walk(v, k)
    }
    return out
  }
  return value
}
