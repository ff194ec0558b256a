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

// user:password@ (the user may be empty, as in redis://:pw@host).
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):([^\s@/]+)@/gi
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g
// NAME=value, NAME: value, "NAME": "value", --name=value, with or without quotes around the value.
const INLINE_ASSIGNMENT = /(^|[\s,;{(])(--?)?(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\3(\s*[=:]\s*)(["']?)([^\s,;"'}]+)\6/g
// --requirepass value, --password value, -p value: a secret-named flag followed by its value.
const FLAG_VALUE = /(^|\s)(--?[A-Za-z][A-Za-z0-9_-]*)(\s+)(?!-)(\S+)/g
// Authorization: Bearer x, Basic x, token x
const AUTH_SCHEME = /\b(Bearer|Basic|Token|Digest)\s+[A-Za-z0-9._~+/=-]{8,}/g
// Token shapes that are secrets whatever they are called.
const TOKEN_SHAPES = /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|sk_live_[A-Za-z0-9]{16,}|rk_live_[A-Za-z0-9]{16,}|sk-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})\b/g

/**
 * Redact secrets embedded in free text: URL passwords, private-key blocks, NAME=value and
 * `--secret-flag value` with a secret name, Authorization schemes, and known token shapes.
 */
export function redactText(text: string): string {
  let out = text.replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
  out = out.replace(PRIVATE_KEY_BLOCK, REDACTED)
  out = out.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`)
  out = out.replace(INLINE_ASSIGNMENT, (m, lead: string, dash: string | undefined, q1: string, name: string, sep: string, q2: string, value: string) =>
    isSecretName(name) && value !== REDACTED && !value.startsWith('[') ? `${lead}${dash ?? ''}${q1}${name}${q1}${sep}${q2}${REDACTED}${q2}` : m,
  )
  out = out.replace(FLAG_VALUE, (m, lead: string, flag: string, space: string, value: string) => (isSecretName(flag.replace(/^-+/, '')) && !value.includes(REDACTED) ? `${lead}${flag}${space}${REDACTED}` : m))
  out = out.replace(TOKEN_SHAPES, REDACTED)
  return out
}

/** In an argument list, the item after a secret-named flag (`["--requirepass", "s3cret"]`) is a secret too. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map((a, i) => {
    const prev = i > 0 ? args[i - 1]! : ''
    if (/^--?[A-Za-z]/.test(prev) && !prev.includes('=') && isSecretName(prev.replace(/^-+/, '')) && !a.startsWith('-')) return REDACTED
    return redactText(a)
  })
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
    if (value.every((v) => typeof v === 'string')) return redactArgs(value as string[]).map((v, i) => (key !== undefined && !SAFE_KEYS.has(key) && isSecretName(key) && (value[i] as string).length > 0 ? REDACTED : v))
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
