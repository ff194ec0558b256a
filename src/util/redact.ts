/**
 * Redaction of secret-looking values in everything written to a case (audit log, evidence JSON,
 * reports, the image config inside a saved image, compose and CLI output). Redaction keeps names
 * and structure and replaces values. Over-redacting is safe, under-redacting is not; but a name is
 * judged by its words (`DB_PASSWORD`, `clientSecret`, `X-Api-Key`), not by a substring, so that
 * `authors`, `monkey` or `PWD` keep their values. What is and is not covered: docs/redaction.md.
 */

export const REDACTED = '[REDACTED]'

/** Whole names (lower-cased, `-` and `.` read as `_`) that look secret by their words but are not. */
const INNOCENT_NAMES = new Set([
  'pwd',
  'oldpwd',
  'recv_keys',
  'recv_key',
  'keyserver',
  'keyring',
  'primary_key',
  'foreign_key',
  'sort_key',
  'partition_key',
  'cache_key',
])

/** A last word that makes a secret-looking name describe a secret instead of holding one. */
const DESCRIPTIVE_LAST_WORD = new Set([
  'file',
  'files',
  'path',
  'dir',
  'directory',
  'length',
  'len',
  'min',
  'max',
  'size',
  'bits',
  'count',
  'enabled',
  'enable',
  'disabled',
  'disable',
  'required',
  'type',
  'method',
  'mode',
  'algorithm',
  'algo',
  'expiry',
  'expires',
  'expiration',
  'ttl',
  'timeout',
  'lifetime',
  'id',
  'name',
  'names',
  'user',
  'username',
  'url',
  'uri',
  'endpoint',
  'host',
  'port',
  'provider',
  'backend',
  'plugin',
  'realm',
  'scheme',
  'strategy',
  'format',
  'version',
  'policy',
  'stdin',
  'cache',
  'domain',
  'source',
  'header',
  'prefix',
  'store',
])

/** Words that contain a secret marker without being one. */
const INNOCENT_WORDS = new Set([
  'monkey',
  'turkey',
  'hockey',
  'jockey',
  'donkey',
  'whiskey',
  'hotkey',
  'compass',
  'bypass',
  'encompass',
  'overpass',
  'underpass',
  'trespass',
  'surpass',
  'tokenizer',
  'tokenizers',
  'tokenize',
  'tokenizing',
])

/** The words of a name: split at non-alphanumerics and camelCase boundaries, lower-cased. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase())
}

/** Words that mark a secret wherever they are in a name: `SECRET_KEY_BASE`, `DB_PASSWORD_RO`. */
function isStrongSecretWord(w: string): boolean {
  if (INNOCENT_WORDS.has(w)) return false
  if (/password|passwd|passphrase|secret|credential|apikey|privkey|token/.test(w)) return true
  if (w.endsWith('key') && w.length > 3 && w !== 'key') return true
  if (w.endsWith('keys') && w.length > 4 && w !== 'keys') return true
  if (w === 'pass' || w.endsWith('pass') || w === 'pwd' || w.endsWith('pwd')) return true
  if (w === 'authorization' || (w.endsWith('auth') && w !== 'auth')) return true
  if (/^auth(token|key|secret|pass|pw|code)s?$/.test(w)) return true
  return w === 'creds' || /sess(ion)?id$/.test(w)
}

/**
 * Words that mark a secret only as the last word of a name (`REDIS_AUTH`, `X-Api-Key`, `SENTRY_DSN`)
 * or alone: as a first word they name a group of settings (`auth.database`, `SESSION_DRIVER`).
 */
const WEAK_SECRET_WORDS = new Set([
  'key',
  'keys',
  'auth',
  'authn',
  'authz',
  'session',
  'sessionid',
  'sessid',
  'cookie',
  'cookies',
  'salt',
  'signature',
  'dsn',
  'jwt',
  'bearer',
  'otp',
  'totp',
])

/**
 * Whether a name (env variable, flag, header, JSON key, label) holds a secret value: one of its
 * words is a secret word (`password`, `secret`, `token`, `key`, `pass`, `pwd`, `auth`,
 * `authorization`, `credential`, `cookie`, `session`, `salt`, `signature`, `dsn`, `jwt`, ...), and
 * its last word does not make it a description of one (`PASSWORD_FILE`, `TOKEN_TTL`, `AUTH_TYPE`).
 */
export function isSecretName(name: string): boolean {
  const words = wordsOf(name)
  if (words.length === 0) return false
  if (INNOCENT_NAMES.has(words.join('_'))) return false
  const last = words.at(-1)!
  // A session id is the secret itself (SESSION_ID, PHPSESSID); other ids only name one (AWS_ACCESS_KEY_ID).
  if (last === 'id' && words.includes('session')) return true
  if (words.length > 1 && DESCRIPTIVE_LAST_WORD.has(last)) return false
  if (/^[a-z]+(file|path|dir)$/.test(last) && isStrongSecretWord(last.replace(/(file|path|dir)$/, ''))) return false
  return words.some(isStrongSecretWord) || WEAK_SECRET_WORDS.has(last)
}

/** Our own record fields that look like secret names but only hold hashes, paths or flags. */
const SAFE_KEYS = new Set(['sha256', 'prev', 'hash', 'auditHead'])

/** Values that cannot be a secret: booleans and placeholders (`ALLOW_EMPTY_PASSWORD=yes`). */
const HARMLESS_VALUE = /^(true|false|yes|no|on|off|none|null|nil|disabled|enabled|required|optional|prompt|\*+|x+)$/i
/** A shell variable reference or substitution is not itself a secret. */
const SHELL_REFERENCE = /^\$(\{[A-Za-z_][A-Za-z0-9_]*(:?[-=?+][^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*|\(.*\)?)$/
/** A file path (the value of `--key /etc/tls/key.pem`) is where a secret is, not the secret. */
const PATH_VALUE = /^(\/|\.\/|\.\.\/|~\/)[\w./@+-]*$/

function keepValue(value: string): boolean {
  return (
    value === '' ||
    value.includes(REDACTED) ||
    HARMLESS_VALUE.test(value) ||
    SHELL_REFERENCE.test(value) ||
    PATH_VALUE.test(value)
  )
}

// A position right after a separator: start, any non-word character, or a literal `\n`/`\t`/`\r`.
const AFTER_SEP = String.raw`(?:(?<=\\[ntr])|(?<![A-Za-z0-9_]))`

const PRIVATE_KEY_BLOCK =
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)/g
// user:password@ (the user may be empty, as in redis://:pw@host).
const URL_USERINFO = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s:/@"'`]*):([^\s@/"'`]+)@/gi
// Bearer x, Basic x, Token x anywhere.
const AUTH_SCHEME = /\b(Bearer|Basic|Digest|Negotiate)\s+(?!\[REDACTED\])([A-Za-z0-9._~+/=-]{8,})/g
// Token shapes that are secrets whatever they are called.
const TOKEN_SHAPES = new RegExp(
  AFTER_SEP +
    '(' +
    [
      'gh[pousr]_[A-Za-z0-9]{20,}',
      'github_pat_[A-Za-z0-9_]{20,}',
      'glpat-[A-Za-z0-9_-]{20,}',
      'xox[abposr]-[A-Za-z0-9-]{10,}',
      'xapp-[A-Za-z0-9-]{10,}',
      '(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}',
      '(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}',
      'sk-[A-Za-z0-9_-]{20,}',
      'AIza[0-9A-Za-z_-]{35}',
      'SG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}',
      'eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}',
      'npm_[A-Za-z0-9]{30,}',
      'hv[sb]\\.[A-Za-z0-9_-]{20,}',
      'dop_v1_[a-f0-9]{40,}',
      'pypi-[A-Za-z0-9_-]{40,}',
    ].join('|') +
    ')(?![A-Za-z0-9_])',
  'g',
)
// Slack, Discord and similar webhooks carry their secret in the path.
const WEBHOOK = /\b(https:\/\/(?:hooks\.slack\.com\/services|discord(?:app)?\.com\/api\/webhooks))\/[A-Za-z0-9/_-]+/g
// NAME=value, NAME: value, "NAME": "value", --name=value, X-Api-Key: value (the value is found by valueAt).
// (Names are bounded in length, so that a long run of `a-a-a-...` stays linear.)
const ASSIGNMENT = new RegExp(
  `${AFTER_SEP}(-{1,2})?(["']?)([A-Za-z_][A-Za-z0-9_.-]{0,127})\\2([ \\t]{0,16})([=:])([ \\t]{0,16})`,
  'g',
)
// --password value, -storepass value: a secret-named flag followed by its value as the next word.
const FLAG_VALUE = new RegExp(`(?<=^|[\\s"'(]|\\\\[ntr])(--?[A-Za-z][A-Za-z0-9_.-]{0,127})([ \\t]+)`, 'g')
// Dockerfile's legacy `ENV NAME value` form: the value is the rest of the line.
const ENV_LEGACY = new RegExp(`${AFTER_SEP}(ENV[ \\t]+)([A-Za-z_][A-Za-z0-9_]*)([ \\t]+)(?![= \\t])`, 'g')

type Range = [start: number, end: number]

/** Where a value starting at `i` ends: a quoted value (its inside), or the run up to a terminator. */
function valueAt(text: string, i: number, runOn: boolean): Range | undefined {
  const c = text[i]
  if (c === undefined) return undefined
  if (c === '"' || c === "'" || c === '`') {
    let j = i + 1
    while (j < text.length && text[j] !== c) j += text[j] === '\\' && c !== "'" ? 2 : 1
    return [i + 1, Math.min(j, text.length)]
  }
  if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === "'")) {
    const close = text.indexOf(`\\${text[i + 1]}`, i + 2)
    return [i + 2, close < 0 ? text.length : close]
  }
  let j = i
  while (j < text.length) {
    const ch = text[j]!
    if (ch === '\\' && /[ntr"']/.test(text[j + 1] ?? '')) break
    if (ch === '\n' || ch === '\r' || ch === '"' || ch === "'" || ch === '`' || ch === '}') break
    if (ch === '&' && text[j + 1] === '&') break
    if (ch === '|' && text[j + 1] === '|') break
    // A run-on value (a cookie header) goes on over spaces; any other value stops at the first one.
    if (!runOn && /[\s;,|<>)]/.test(ch)) break
    if (runOn && ch === ',' && /\s/.test(text[j + 1] ?? '')) break
    j++
  }
  while (runOn && j > i && /[ \t]/.test(text[j - 1]!)) j--
  return j > i ? [i, j] : undefined
}

function applyRanges(text: string, ranges: Range[]): string {
  if (ranges.length === 0) return text
  ranges.sort((a, b) => a[0] - b[0])
  let out = ''
  let pos = 0
  for (const [s, e] of ranges) {
    if (s < pos) continue
    out += text.slice(pos, s) + REDACTED
    pos = e
  }
  return out + text.slice(pos)
}

/** Each match of a global regex, resuming after the range the callback consumed (linear on repeats). */
function scan(re: RegExp, text: string, onMatch: (m: RegExpExecArray) => Range | undefined): Range[] {
  const ranges: Range[] = []
  re.lastIndex = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const r = onMatch(m)
    if (r) {
      ranges.push(r)
      re.lastIndex = Math.max(r[1], m.index + 1)
    } else if (m[0].length === 0) re.lastIndex = m.index + 1
  }
  return ranges
}

function redactAssignments(text: string): string {
  const ranges = scan(ASSIGNMENT, text, (m) => {
    const [whole, , , name, , sep] = m as unknown as [string, string | undefined, string, string, string, string]
    if (!isSecretName(name)) return undefined
    // `http://` is a scheme, not NAME: value; `key::` is no value either.
    const at = m.index + whole.length
    if (sep === ':' && (text.startsWith('//', at) || text[at] === ':')) return undefined
    let start = at
    const scheme = /^(Bearer|Basic|Token|Digest|Negotiate|Bot)[ \t]+/i.exec(text.slice(at, at + 32))
    if (sep === ':' && scheme) start += scheme[0].length
    // A value is one word (`X-Api-Key: abc`, `pass:x -in f`, `password: x`), after an auth scheme too;
    // a cookie header runs on to the end of the header (`Cookie: a=1; b=2`).
    const r = valueAt(text, start, sep === ':' && /cookies?$/i.test(name))
    if (!r || keepValue(text.slice(r[0], r[1]))) return undefined
    return r
  })
  return applyRanges(text, ranges)
}

function redactFlagValues(text: string): string {
  const ranges = scan(FLAG_VALUE, text, (m) => {
    const flag = m[1]!.replace(/^-+/, '')
    if (/^no[-_]/i.test(flag) || !isSecretName(flag)) return undefined
    const at = m.index + m[0].length
    // An option (`-x`), a redirection, or a `k=v,...` list (its secret-named items are assignments).
    if (/^([-<>|&;]|[A-Za-z_][\w.-]*=)/.test(text.slice(at, at + 130))) return undefined
    const r = valueAt(text, at, false)
    return r && !keepValue(text.slice(r[0], r[1])) ? r : undefined
  })
  return applyRanges(text, ranges)
}

function legacyEnvRanges(text: string): Range[] {
  const ranges: Range[] = []
  for (const m of text.matchAll(ENV_LEGACY)) {
    if (!isSecretName(m[2]!)) continue
    const at = m.index + m[0].length
    let end = at
    while (
      end < text.length &&
      text[end] !== '\n' &&
      text[end] !== '"' &&
      !(text[end] === '\\' && text[end + 1] === 'n')
    )
      end++
    if (end > at && !keepValue(text.slice(at, end))) ranges.push([at, end])
  }
  return ranges
}

// `machine host login user password value` (.netrc), and `-u user:pass` style `user password` pairs there.
const NETRC = /\b(machine[ \t]+\S+[ \t]+login[ \t]+\S+[ \t]+password[ \t]+)(?!\[REDACTED\])([^\s"'\\]+)/g

// ---- Client-specific arguments: -p<value> of mysql, -a of redis-cli, curl -u user:pass, ...

interface Token {
  start: number
  end: number
  /** The token without surrounding quotes. */
  text: string
  inner: Range
}

function tokenize(segment: string, offset: number): Token[] {
  const out: Token[] = []
  for (const m of segment.matchAll(/(?:[^\s"']+|"(?:\\.|[^"\\])*"?|'[^']*'?)+/g)) {
    const raw = m[0]
    const q = raw[0] === '"' || raw[0] === "'" ? 1 : 0
    const qe = q && raw.length > 1 && raw.at(-1) === raw[0] ? 1 : 0
    const start = offset + m.index
    out.push({
      start,
      end: start + raw.length,
      text: raw.slice(q, raw.length - qe),
      inner: [start + q, start + raw.length - qe],
    })
  }
  return out
}

function unquotedRange(text: string, r: Range): Range {
  const v = text.slice(r[0], r[1])
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) return [r[0] + 1, r[1] - 1]
  if (v.length >= 1 && (v[0] === '"' || v[0] === "'")) return [r[0] + 1, r[1]]
  return r
}

type ClientRule = (tokens: Token[], text: string) => Range[]

/** `-p<value>` attached (and, where `spaced`, `-p <value>`) for a one-letter password flag. */
function letterFlag(letter: string, spaced: boolean): ClientRule {
  return (tokens, text) => {
    const out: Range[] = []
    tokens.forEach((t, i) => {
      const raw = text.slice(t.start, t.end)
      if (raw === `-${letter}`) {
        const next = tokens[i + 1]
        if (spaced && next && !next.text.startsWith('-')) out.push(next.inner)
      } else if (raw.startsWith(`-${letter}`) && raw.length > 2) {
        out.push(unquotedRange(text, [t.start + 2, t.end]))
      }
    })
    return out
  }
}

const mysqlRule = letterFlag('p', false)
const sshpassRule = letterFlag('p', true)
const mongoRule = letterFlag('p', true)

const CLIENT_RULES: Array<{names: RegExp; rule: ClientRule}> = [
  {
    names:
      /^(mysql|mysqladmin|mysqldump|mysqlcheck|mysqlimport|mysqlshow|mysqlpump|mysqlsh|mysqlslap|mariadb|mariadb-dump|mariadb-admin|mariadb-check|mariadb-import)$/,
    rule: mysqlRule,
  },
  {names: /^sshpass$/, rule: sshpassRule},
  {names: /^(mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport|mongostat|mongotop)$/, rule: mongoRule},
  {
    names: /^(redis-cli|keydb-cli|valkey-cli)$/,
    rule: (tokens, text) => {
      const out = letterFlag('a', true)(tokens, text)
      const auth = tokens.findIndex((t) => t.text.toUpperCase() === 'AUTH')
      // AUTH password, or AUTH user password (a following all-caps word is the next command).
      if (auth >= 0)
        for (const [k, t] of tokens.slice(auth + 1, auth + 3).entries())
          if (k === 0 || !/^[A-Z]+$/.test(t.text)) out.push(t.inner)
      return out
    },
  },
  {
    names: /^curl$/,
    rule: (tokens, text) => {
      const out: Range[] = []
      tokens.forEach((t, i) => {
        const raw = text.slice(t.start, t.end)
        let cred: Token | undefined
        let from = 0
        if (/^(-u|-U|--user|--proxy-user)$/.test(raw)) cred = tokens[i + 1]
        else if (/^--(user|proxy-user)=/.test(raw)) [cred, from] = [t, raw.indexOf('=') + 1]
        else if (/^-[uU]./.test(raw)) [cred, from] = [t, 2]
        if (/^--oauth2-bearer$/.test(raw) && tokens[i + 1]) out.push(tokens[i + 1]!.inner)
        if (!cred) return
        const body = text.slice(cred.start + from, cred.end)
        const colon = body.indexOf(':')
        if (colon >= 0) out.push(unquotedRange(text, [cred.start + from + colon + 1, cred.end]))
      })
      return out.map((r) => (text[r[1] - 1] === '"' || text[r[1] - 1] === "'" ? [r[0], r[1] - 1] : r))
    },
  },
  {
    names: /^htpasswd$/,
    rule: (tokens) => {
      const flags = tokens
        .filter((t) => /^-[a-zA-Z]+$/.test(t.text))
        .map((t) => t.text)
        .join('')
      if (!flags.includes('b')) return []
      const positional = tokens.filter((t) => !t.text.startsWith('-'))
      const pass = positional[flags.includes('n') ? 1 : 2]
      return pass ? [pass.inner] : []
    },
  },
  {
    names: /^(docker|podman|nerdctl|buildah|skopeo|helm|oras|crane|az)$/,
    // Only `docker login`, `helm registry login`: `docker run -p 8080:80 app login` publishes a port.
    rule: (tokens, text) =>
      tokens
        .filter((t) => !t.text.startsWith('-'))
        .slice(0, 2)
        .some((t) => t.text === 'login')
        ? letterFlag('p', true)(tokens, text)
        : [],
  },
  {names: /^(sqlcmd|bcp|osql|mosquitto_pub|mosquitto_sub|mosquitto_rr)$/, rule: letterFlag('P', true)},
  {
    names: /^(ldapsearch|ldapadd|ldapmodify|ldapdelete|ldapwhoami|ldappasswd|ldapcompare|ldapmodrdn)$/,
    rule: letterFlag('w', true),
  },
  {names: /^openssl$/, rule: letterFlag('k', true)},
  {
    names: /^(smbclient|rpcclient|smbmap|mount\.cifs)$/,
    rule: (tokens, text) => {
      const out: Range[] = []
      tokens.forEach((t, i) => {
        const cred =
          t.text === '-U' || t.text === '--user' ? tokens[i + 1] : /^(--user=|-U)./.test(t.text) ? t : undefined
        if (!cred) return
        const pct = text.slice(cred.start, cred.end).indexOf('%')
        if (pct >= 0) out.push(unquotedRange(text, [cred.start + pct + 1, cred.end]))
      })
      return out.map((r) => (text[r[1] - 1] === '"' || text[r[1] - 1] === "'" ? [r[0], r[1] - 1] : r))
    },
  },
  {
    names: /^rabbitmqctl$/,
    rule: (tokens) => {
      const i = tokens.findIndex((t) => t.text === 'add_user' || t.text === 'change_password')
      const pass = i >= 0 ? tokens.slice(i + 1).filter((t) => !t.text.startsWith('-'))[1] : undefined
      return pass ? [pass.inner] : []
    },
  },
]

// A client's command word (alone or as the end of a path) and, looking ahead, its arguments up to
// the end of that shell command.
const CLIENT_SEGMENT = new RegExp(
  `(?<![\\w.-])(${CLIENT_RULES.map((c) => c.names.source.replace(/^\^\(?|\)?\$$/g, '')).join('|')})(?![\\w.-])(?=((?:(?!\\\\[nr]|&&|\\|\\|)[^;|\\n\\r]){0,1024}))`,
  'g',
)

function clientRanges(text: string): Range[] {
  const ranges: Range[] = []
  for (const m of text.matchAll(CLIENT_SEGMENT)) {
    const client = CLIENT_RULES.find((c) => c.names.test(m[1]!))
    if (!client) continue
    const offset = m.index + m[1]!.length
    const tokens = tokenize(m[2] ?? '', offset)
    for (const r of client.rule(tokens, text)) if (r[1] > r[0] && !keepValue(text.slice(r[0], r[1]))) ranges.push(r)
  }
  return ranges
}

/**
 * Redact secrets embedded in free text (a command line, a log line, a message): private-key
 * blocks, URL passwords, webhooks, `NAME=value` and `NAME: value` with a secret name after any
 * separator (quotes, `;`, `&&`, the literal `\n`), secret-named flags and their values, the
 * password arguments of common clients (`mysql -pX`, `redis-cli -a X`, `curl -u user:X`, ...),
 * Authorization schemes, and known token shapes anywhere.
 */
export function redactText(text: string): string {
  if (text === '') return text
  let out = text.replace(PRIVATE_KEY_BLOCK, REDACTED)
  out = out.replace(URL_USERINFO, (m, scheme: string, user: string, pass: string) =>
    pass === REDACTED ? m : `${scheme}${user}:${REDACTED}@`,
  )
  out = out.replace(WEBHOOK, (_m, base: string) => `${base}/${REDACTED}`)
  out = out.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`)
  out = applyRanges(out, clientRanges(out))
  out = redactAssignments(out)
  out = redactFlagValues(out)
  out = applyRanges(out, legacyEnvRanges(out))
  out = out.replace(NETRC, (_m, head: string) => `${head}${REDACTED}`)
  out = out.replace(TOKEN_SHAPES, REDACTED)
  return out
}

/**
 * An argument list (Cmd, Entrypoint, a process's argv): the item after a secret-named flag
 * (`["--requirepass", "s3cret"]`) is a secret, a client's password argument is found across items
 * (`["mysql", "-u", "root", "-ps3cret"]`), and each item is redacted as text.
 */
export function redactArgs(args: readonly string[]): string[] {
  const joined = args.join(' ')
  const ranges = [...clientRanges(joined), ...legacyEnvRanges(joined)]
  let offset = 0
  return args.map((a, i) => {
    const start = offset
    offset += a.length + 1
    const prev = i > 0 ? args[i - 1]! : ''
    if (
      /^--?[A-Za-z]/.test(prev) &&
      !prev.includes('=') &&
      !/^--?no[-_]/i.test(prev) &&
      isSecretName(prev.replace(/^-+/, '')) &&
      !/^([-<>|&;]|[A-Za-z_][\w.-]*=)/.test(a) &&
      !keepValue(a)
    )
      return REDACTED
    // The parts of the joined line's ranges that fall in this item.
    const own = ranges
      .filter(([s, e]) => s < start + a.length && e > start)
      .map(([s, e]): Range => [Math.max(s, start) - start, Math.min(e, start + a.length) - start])
    return redactText(applyRanges(a, own))
  })
}

/** Redact one `NAME=value` environment entry. */
export function redactEnvEntry(entry: string): string {
  const eq = entry.indexOf('=')
  if (eq < 0) return entry
  const name = entry.slice(0, eq)
  const value = entry.slice(eq + 1)
  if (isSecretName(name)) return value === '' || HARMLESS_VALUE.test(value) ? entry : `${name}=${REDACTED}`
  return `${name}=${redactText(value)}`
}

/**
 * Deep-copy a value with secrets redacted: values under secret-looking keys, `NAME=value`
 * entries of Env arrays, and secrets embedded in any string. Never mutates its input.
 */
export function redactDeep<T>(value: T): T {
  return walk(value, undefined) as T
}

function secretKey(key: string | undefined): boolean {
  return key !== undefined && !SAFE_KEYS.has(key) && isSecretName(key)
}

function walk(value: unknown, key: string | undefined): unknown {
  if (value === null || value === undefined) return value
  if (typeof value === 'string') {
    if (secretKey(key)) return value.length === 0 || HARMLESS_VALUE.test(value) ? value : REDACTED
    return redactText(value)
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    if (secretKey(key) && typeof value === 'number') return REDACTED
    return value
  }
  if (Array.isArray(value)) {
    if (key === 'Env' || key === 'env')
      return value.map((v) => (typeof v === 'string' ? redactEnvEntry(v) : walk(v, undefined)))
    if (value.every((v) => typeof v === 'string'))
      return redactArgs(value).map((v, i) => (secretKey(key) && (value[i] as string).length > 0 ? REDACTED : v))
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
