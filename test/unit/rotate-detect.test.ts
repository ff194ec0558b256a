import {describe, expect, it} from 'vitest'

import {
  classify,
  isCredentialFileName,
  isHighEntropy,
  isVncPasswordName,
  nameStrength,
  shannonEntropy,
  valueShape,
} from '../../src/services/rotate/detect.js'

describe('credential names', () => {
  it.each([
    'DB_PASSWORD',
    'API_KEY',
    'GITHUB_TOKEN',
    'AWS_SECRET_ACCESS_KEY',
    'MYSQL_ROOT_PWD',
    'SMTP_PASS',
    'DJANGO_SECRET',
    'GOOGLE_CREDENTIALS',
    'SENTRY_DSN',
    'VNCPASS',
    'dbPassword',
    'apiKey',
    'REDIS_PASSWD',
    'VNC_PW',
    'AWS_ACCESS_KEY_ID',
  ])('%s is a strong credential name', (name) => expect(nameStrength(name)).toBe('strong'))

  it.each(['API_URL', 'AUTH_ENABLED', 'PRIVATE_NETWORK', 'PASSWORD_FILE', 'TOKEN_TTL', 'KEY_PATH'])(
    '%s is a weak name (needs a secret-looking value)',
    (name) => expect(nameStrength(name)).toBe('weak'),
  )

  it.each([
    'PWD',
    'OLDPWD',
    'GPG_KEY',
    'PATH',
    'HOME',
    'MONKEY',
    'BYPASS_CACHE',
    'COMPASS_DIR',
    'AUTHOR',
    'KEYBOARD',
    'RAPID_MODE',
    'PORT',
  ])('%s is not a credential name', (name) => expect(nameStrength(name)).toBeUndefined())

  it('uses the value to decide weak names', () => {
    expect(classify('API_URL', 'https://api.example.com/v1').credential).toBe(false)
    expect(classify('AUTH_ENABLED', 'true').credential).toBe(false)
    expect(classify('PASSWORD_FILE', '/run/secrets/db').credential).toBe(false)
    expect(classify('AUTH_HEADER_VALUE', 'Zm9vYmFyYmF6cXV4cXV1eA').credential).toBe(true)
    expect(classify('API_HOST', 'api.example.com').credential).toBe(false)
  })

  it('keeps strong names whatever the value (a numeric PIN is still a password)', () => {
    expect(classify('DB_PASSWORD', '123456')).toEqual({credential: true, reasons: ['by-name']})
    expect(classify('REDIS_PASSWORD', '').credential).toBe(true)
    expect(classify('DB_PASSWORD', undefined).credential).toBe(true)
  })

  it('flags a VNC password as the classic forgotten default', () => {
    for (const n of ['VNC_PASSWORD', 'VNCPASS', 'X11VNC_PASSWORD', 'VNC_PW', 'vnc_passwd'])
      expect(isVncPasswordName(n), n).toBe(true)
    for (const n of ['VNC_PORT', 'PASSWORD', 'VNC_RESOLUTION']) expect(isVncPasswordName(n), n).toBe(false)
    expect(classify('VNC_PASSWORD', 'password').reasons).toEqual(['by-name', 'known-default:vnc'])
    expect(classify('VNCPASS', 'secret').reasons).toContain('known-default:vnc')
  })
})

describe('credential values', () => {
  it('recognises private-key blocks', () => {
    expect(valueShape('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA\n-----END OPENSSH PRIVATE KEY-----')).toBe(
      'private-key',
    )
    expect(valueShape('-----BEGIN PRIVATE KEY-----')).toBe('private-key')
    expect(valueShape('-----BEGIN PGP PRIVATE KEY BLOCK-----')).toBe('private-key')
    expect(valueShape('-----BEGIN CERTIFICATE-----')).not.toBe('private-key')
  })

  it('recognises URLs with a password (userinfo) and connection strings', () => {
    expect(valueShape('postgres://app:s3cret@db:5432/app')).toBe('url-userinfo')
    expect(valueShape('https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r.git')).toBe('url-userinfo')
    expect(valueShape('https://example.com/path')).toBeUndefined()
    expect(valueShape('ssh://git@github.com/o/r')).toBeUndefined()
    expect(valueShape('Server=db;Database=app;User Id=sa;Password=hunter2;')).toBe('connection-string-password')
  })

  it.each([
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'github-token'],
    ['gho_abcdefghijklmnopqrstuvwxyz0123456789', 'github-token'],
    ['github_pat_11ABCDEFG0123456789_abcdefghijklmnop', 'github-token'],
    ['glpat-abcdefghij0123456789', 'gitlab-token'],
    ['xoxb-123456789012-abcdefghij', 'slack-token'],
    ['xoxp-123456789012-abcdefghij', 'slack-token'],
    ['AKIAIOSFODNN7EXAMPLE', 'aws-access-key-id'],
    ['sk_live_abcdefghij0123456789', 'stripe-key'],
    ['sk-proj-abcdefghij0123456789ABCDEF', 'openai-or-anthropic-key'],
    ['AIzaSyA-abcdefghijklmnopqrstuvwxyz01234', 'google-api-key'],
    ['SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789abcdefg', 'sendgrid-key'],
    ['Bearer npm_abcdefghijklmnopqrstuvwxyz0123456789', 'npm-token'],
  ])('%s is a %s', (value, label) => expect(valueShape(value)).toBe(label))

  it('recognises a JWT', () => {
    expect(
      valueShape('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'),
    ).toBe('jwt')
  })

  it('measures Shannon entropy', () => {
    expect(shannonEntropy('')).toBe(0)
    expect(shannonEntropy('aaaa')).toBe(0)
    expect(shannonEntropy('abcd')).toBeCloseTo(2)
    expect(shannonEntropy('0123456789abcdef')).toBeCloseTo(4)
  })

  it('flags long high-entropy strings, not words, paths, URLs or short strings', () => {
    expect(isHighEntropy('q8Zr2LxW0pVt6NcYb3Hs')).toBe(true) // 20 chars, mixed
    expect(isHighEntropy('9f86d081884c7d659a2feaa0c55ad015')).toBe(true) // hex
    expect(isHighEntropy('q8Zr2LxW0pVt6NcYb3H')).toBe(false) // 19 chars
    expect(isHighEntropy('my_application_database_name')).toBe(false)
    expect(isHighEntropy('aaaaaaaaaaaaaaaaaaaaaaaa1')).toBe(false)
    expect(isHighEntropy('/var/lib/app/data/Zr2LxW0pVt6Nc')).toBe(false)
    expect(isHighEntropy('https://example.com/a1B2c3D4e5F6')).toBe(false)
    expect(isHighEntropy('this has spaces in it 12345 ABC')).toBe(false)
    expect(valueShape('q8Zr2LxW0pVt6NcYb3Hs')).toBe('high-entropy')
  })

  it('gives a by-shape reason whatever the name', () => {
    expect(classify('UPSTREAM', 'postgres://u:p4ss@db/x')).toEqual({
      credential: true,
      reasons: ['by-shape:url-userinfo'],
    })
    expect(classify('SETTING', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789').reasons).toEqual(['by-shape:github-token'])
    expect(classify('GREETING', 'hello world').credential).toBe(false)
    expect(classify('PORT', '8080').credential).toBe(false)
  })
})

describe('credential file names', () => {
  it.each([
    ['server.pem', ''],
    ['tls.key', ''],
    ['id_rsa', '.ssh'],
    ['id_ed25519', ''],
    ['credentials', '.aws'],
    ['.htpasswd', ''],
    ['store.p12', ''],
    ['cert.pfx', ''],
    ['keystore.jks', ''],
    ['.pgpass', ''],
    ['.netrc', ''],
    ['.npmrc', ''],
    ['kubeconfig', ''],
    ['config', '.kube'],
    ['config.json', '.docker'],
    ['.env', ''],
  ])('%s (in %s) looks like a credential', (base, parent) => expect(isCredentialFileName(base, parent)).toBe(true))

  it.each(['id_rsa.pub', 'README.md', 'config', 'nginx.conf', 'index.html'])('%s does not', (base) =>
    expect(isCredentialFileName(base)).toBe(false),
  )
})
