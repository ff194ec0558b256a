/**
 * Recognising credentials by name and by the shape of their value. Values are inspected in memory
 * only: nothing here returns, stores or logs a value, its hash or its length.
 */

/** Name words that mark a credential wherever they appear (DB_PASSWORD, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY). */
const STRONG_WORDS = new Set([
  'KEY',
  'KEYS',
  'SECRET',
  'SECRETS',
  'TOKEN',
  'TOKENS',
  'PASS',
  'PASSWD',
  'PASSWORD',
  'PASSWORDS',
  'PASSPHRASE',
  'PWD',
  'PW',
  'CREDENTIAL',
  'CREDENTIALS',
  'CREDS',
  'DSN',
  'APIKEY',
  'SECRETKEY',
  'ACCESSKEY',
  'AUTHTOKEN',
  'PRIVATEKEY',
])

/** Words that only mark a credential when the value is not plainly something else (API_URL, AUTH_ENABLED, PRIVATE_NETWORK). */
const WEAK_WORDS = new Set(['API', 'AUTH', 'PRIVATE'])

/** Words glued together without separators: VNCPASS, DBPASSWORD, MYSQLPWD, SSHKEY. */
const COMPOUND =
  /^[A-Z0-9]+(PASSWORD|PASSWD|PASSPHRASE|PASS|PWD|SECRET|TOKEN|(API|SECRET|ACCESS|PRIVATE|SSH|MASTER|SIGNING|ENCRYPTION|LICENSE|AUTH)KEY)S?$/
const NOT_COMPOUND = new Set(['BYPASS', 'COMPASS', 'SURPASS', 'OVERPASS', 'UNDERPASS', 'TRESPASS', 'ENCOMPASS'])

/** A last word that makes a secret-sounding name describe a secret rather than hold one (PASSWORD_FILE, TOKEN_TTL). */
const META_WORDS = new Set([
  'FILE',
  'PATH',
  'DIR',
  'LENGTH',
  'LEN',
  'MIN',
  'MAX',
  'ENABLED',
  'ENABLE',
  'DISABLED',
  'DISABLE',
  'MODE',
  'TYPE',
  'METHOD',
  'ALGORITHM',
  'ALGO',
  'TTL',
  'EXPIRY',
  'EXPIRES',
  'TIMEOUT',
  'HEADER',
  'NAME',
  'PROVIDER',
  'VERSION',
  'HOST',
  'PORT',
  'URL',
  'URI',
  'ENDPOINT',
])

/** Whole names that look secret but are not: the shell's working directory, official images' public-key fingerprints. */
const NOT_SECRET_NAMES = new Set(['PWD', 'OLDPWD', 'GPG_KEY', 'GPG_KEYS', 'PYTHON_GPG_KEY'])

export type NameStrength = 'strong' | 'weak'

export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean)
}

/** How strongly a variable name says "credential", or undefined when it does not. */
export function nameStrength(name: string): NameStrength | undefined {
  if (NOT_SECRET_NAMES.has(name.toUpperCase())) return undefined
  const words = nameWords(name)
  let strong = false
  let weak = false
  for (const w of words) {
    if (STRONG_WORDS.has(w) || (COMPOUND.test(w) && !NOT_COMPOUND.has(w))) strong = true
    else if (WEAK_WORDS.has(w)) weak = true
  }
  if (strong && words.length > 1 && META_WORDS.has(words.at(-1)!)) return 'weak'
  if (strong) return 'strong'
  return weak ? 'weak' : undefined
}

/** A VNC password: the classic forgotten default (VNC_PASSWORD, VNCPASS, X11VNC_PASSWORD, VNC_PW). */
export function isVncPasswordName(name: string): boolean {
  const upper = name.toUpperCase()
  if (!upper.includes('VNC')) return false
  return /(PASSWORD|PASSWD|PASS|PWD|PW|SECRET)/.test(upper.replace(/VNC/g, '_'))
}

/** A value that plainly is not a secret: a flag, a small number, a path, a host name, a URL without userinfo. */
export function isPlainValue(value: string): boolean {
  const v = value.trim()
  if (v === '') return true
  if (/^(true|false|yes|no|on|off|null|none|enabled|disabled|0|1)$/i.test(v)) return true
  if (/^-?\d{1,6}(\.\d+)?$/.test(v)) return true
  if (/^(\/|\.\/|\.\.\/|~\/)[^\s]*$/.test(v)) return true
  if (/^[a-z][a-z0-9+.-]*:\/\/[^\s@]*$/i.test(v)) return true
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?$/i.test(v) && !/\d{4,}/.test(v)) return true
  if (/^[a-z]{1,12}$/i.test(v)) return true
  return false
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0
  const counts = new Map<string, number>()
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  let h = 0
  for (const n of counts.values()) {
    const p = n / s.length
    h -= p * Math.log2(p)
  }
  return h
}

export const HIGH_ENTROPY_MIN_LENGTH = 20
export const ENTROPY_THRESHOLD = 3.5
export const HEX_ENTROPY_THRESHOLD = 3.0

/** A long random-looking string: length >= 20, no spaces, mixed characters, Shannon entropy over the threshold. */
export function isHighEntropy(value: string): boolean {
  const v = value.trim()
  if (v.length < HIGH_ENTROPY_MIN_LENGTH || /\s/.test(v)) return false
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^(\/|\.\/|~\/)/.test(v)) return false
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(v)).length
  if (classes < 2) return false
  const threshold = /^[0-9a-fA-F-]+$/.test(v) ? HEX_ENTROPY_THRESHOLD : ENTROPY_THRESHOLD
  return shannonEntropy(v) >= threshold
}

/** Known token formats, most specific first. The label is what the inventory shows (by-shape:<label>). */
const TOKEN_PREFIXES: ReadonlyArray<[label: string, re: RegExp]> = [
  ['github-token', /(?:^|[^A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})/],
  ['gitlab-token', /(?:^|[^A-Za-z0-9_])gl(?:pat|rt|dt|ptt|ft|soat)-[A-Za-z0-9_-]{20,}/],
  ['slack-token', /(?:^|[^A-Za-z0-9_])(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,})/],
  ['aws-access-key-id', /(?:^|[^A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/],
  [
    'stripe-key',
    /(?:^|[^A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|(?:^|[^A-Za-z0-9_])whsec_[A-Za-z0-9]{20,}/,
  ],
  ['openai-or-anthropic-key', /(?:^|[^A-Za-z0-9_-])sk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{20,}/],
  ['google-api-key', /(?:^|[^A-Za-z0-9_])AIza[0-9A-Za-z_-]{35}/],
  ['sendgrid-key', /(?:^|[^A-Za-z0-9_])SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/],
  ['npm-token', /(?:^|[^A-Za-z0-9_])npm_[A-Za-z0-9]{36}/],
  ['pypi-token', /(?:^|[^A-Za-z0-9_])pypi-[A-Za-z0-9_-]{50,}/],
  ['huggingface-token', /(?:^|[^A-Za-z0-9_])hf_[A-Za-z0-9]{30,}/],
  ['digitalocean-token', /(?:^|[^A-Za-z0-9_])do[opr]_v1_[a-f0-9]{64}/],
  ['shopify-token', /(?:^|[^A-Za-z0-9_])shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}/],
  ['docker-hub-token', /(?:^|[^A-Za-z0-9_])dckr_pat_[A-Za-z0-9_-]{20,}/],
  ['vault-token', /(?:^|[^A-Za-z0-9_])hv[sb]\.[A-Za-z0-9_-]{20,}/],
  ['mailgun-key', /(?:^|[^A-Za-z0-9_])key-[0-9a-zA-Z]{32}(?![0-9a-zA-Z])/],
]

const PRIVATE_KEY = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:[^\s@/]+@/i
const URL_WITH_USER = /[a-z][a-z0-9+.-]*:\/\/([^\s:@/]+)@/i
const CONNECTION_STRING_PASSWORD = /(?:^|;)\s*(?:password|pwd)\s*=\s*[^;\s]+/i
const JWT = /(?:^|[^A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/

/** Which credential shape a value has, if any: 'private-key', 'url-userinfo', a token label, 'jwt' or 'high-entropy'. */
export function valueShape(value: string): string | undefined {
  if (PRIVATE_KEY.test(value)) return 'private-key'
  if (URL_WITH_PASSWORD.test(value)) return 'url-userinfo'
  const user = URL_WITH_USER.exec(value)?.[1]
  if (user && (tokenLabel(user) || isHighEntropy(user))) return 'url-userinfo'
  if (CONNECTION_STRING_PASSWORD.test(value)) return 'connection-string-password'
  const token = tokenLabel(value)
  if (token) return token
  if (JWT.test(value)) return 'jwt'
  if (isHighEntropy(value)) return 'high-entropy'
  return undefined
}

export function tokenLabel(value: string): string | undefined {
  for (const [label, re] of TOKEN_PREFIXES) if (re.test(value)) return label
  return undefined
}

export interface Classification {
  credential: boolean
  /** by-name, by-shape:<which>, known-default:vnc */
  reasons: string[]
}

/**
 * Is NAME=value a credential? By name (strong words always; weak words unless the value is plainly
 * not a secret) and by the value's shape. `value` undefined means the value is not known here.
 */
export function classify(name: string, value: string | undefined): Classification {
  const reasons: string[] = []
  const strength = nameStrength(name)
  if (strength === 'strong') reasons.push('by-name')
  else if (strength === 'weak' && (value === undefined || !isPlainValue(value))) reasons.push('by-name')
  if (value !== undefined) {
    const shape = valueShape(value)
    if (shape) reasons.push(`by-shape:${shape}`)
  }
  if (isVncPasswordName(name)) {
    if (!reasons.includes('by-name')) reasons.push('by-name')
    reasons.push('known-default:vnc')
  }
  return {credential: reasons.length > 0, reasons}
}

export const VNC_NOTE =
  'VNC password: a classic forgotten default (often a stock or empty value set in an image or compose file). Rotate it, and check the VNC server is not reachable from outside.'

/** File names that hold credentials: keys, keystores, credential and password files. */
const CREDENTIAL_FILE_PATTERNS: ReadonlyArray<RegExp> = [
  /\.(pem|key|p12|pfx|jks|keystore|kdbx|ovpn|ppk|asc|gpg)$/i,
  /^id_(rsa|dsa|ecdsa|ed25519|ecdsa_sk|ed25519_sk)$/,
  /^id_[a-z0-9_]+$/i,
  /^(credentials|credentials\.json|credentials\.xml|\.credentials)$/i,
  /^\.?htpasswd$/i,
  /^\.(pgpass|netrc|npmrc|pypirc|git-credentials|vault-token|my\.cnf|boto|s3cfg|dockercfg)$/i,
  /^kubeconfig$/i,
  /^\.env(\..+)?$/,
  /^(secrets?|passwords?|tokens?)(\.[a-z0-9]+)?$/i,
  /^service[-_]?account.*\.json$/i,
]

/** Whether a file (by its base name, plus its parent folder for ~/.kube/config and ~/.docker/config.json) looks like a credential. */
export function isCredentialFileName(base: string, parent = ''): boolean {
  if (base.endsWith('.pub')) return false
  if (parent === '.kube' && base === 'config') return true
  if (parent === '.docker' && base === 'config.json') return true
  if (parent === '.aws' && base === 'credentials') return true
  return CREDENTIAL_FILE_PATTERNS.some((re) => re.test(base))
}
