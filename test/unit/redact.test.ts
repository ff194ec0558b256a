import {describe, expect, it} from 'vitest'

import {isSecretName, REDACTED, redactDeep, redactEnvEntry, redactText} from '../../src/util/redact.js'

describe('redaction', () => {
  it('redacts env entries by name and keeps the others', () => {
    expect(redactEnvEntry('DB_PASSWORD=hunter2')).toBe(`DB_PASSWORD=${REDACTED}`)
    expect(redactEnvEntry('VNC_PASSWORD=secret')).toBe(`VNC_PASSWORD=${REDACTED}`)
    expect(redactEnvEntry('AWS_SECRET_ACCESS_KEY=abc')).toBe(`AWS_SECRET_ACCESS_KEY=${REDACTED}`)
    expect(redactEnvEntry('GITHUB_TOKEN=ghp_x')).toBe(`GITHUB_TOKEN=${REDACTED}`)
    expect(redactEnvEntry('PATH=/usr/bin')).toBe('PATH=/usr/bin')
  })

  it('redacts URL passwords, private keys and inline NAME=value in free text', () => {
    expect(redactText('postgres://app:pw123@db:5432/x')).toBe(`postgres://app:${REDACTED}@db:5432/x`)
    expect(redactText('x -----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- y')).toBe(
      `x ${REDACTED} y`,
    )
    expect(redactText('run --api-token=abc123 --port=80')).toBe(`run --api-token=${REDACTED} --port=80`)
  })

  it('redacts deeply without mutating the input, including Env arrays and secret-named keys', () => {
    const input = {
      Config: {Env: ['API_KEY=k1', 'MODE=x'], Labels: {'com.example.auth-token': 't', team: 'blue'}},
      Cmd: ['--password=p1'],
      sha256: 'abc',
    }
    const out = redactDeep(input)
    expect(out.Config.Env).toEqual([`API_KEY=${REDACTED}`, 'MODE=x'])
    expect(out.Config.Labels).toEqual({'com.example.auth-token': REDACTED, team: 'blue'})
    expect(out.Cmd).toEqual([`--password=${REDACTED}`])
    expect(out.sha256).toBe('abc')
    expect(input.Config.Env[0]).toBe('API_KEY=k1')
  })
})

describe('redaction of the forms a review found missing', () => {
  it('covers empty URL users, quoted and colon forms, flags with separate values, auth schemes and token shapes', () => {
    const cases: Array<[string, string]> = [
      ['REDIS_URL=redis://:pw-1@redis:6379', 'pw-1'],
      ['PASSWORD="hunter2"', 'hunter2'],
      ['password: hunter3', 'hunter3'],
      ['{"password":"x-secret-x"}', 'x-secret-x'],
      ['Authorization: Bearer abcdefghijklmnop', 'abcdefghijklmnop'],
      ['redis-server --requirepass s3cretvalue', 's3cretvalue'],
      ['token in logs ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 'ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'],
      ['aws AKIAABCDEFGHIJKLMNOP here', 'AKIAABCDEFGHIJKLMNOP'],
    ]
    for (const [text, secret] of cases) expect(redactText(text), text).not.toContain(secret)
    expect(redactText('PORT=8080 MODE=prod')).toBe('PORT=8080 MODE=prod')
  })

  it('redacts the value after a secret-named flag in argument arrays', () => {
    const out = redactDeep({
      Cmd: ['redis-server', '--requirepass', 's3cret', '--port', '6379'],
      Args: ['-c', 'echo hi'],
    })
    expect(out.Cmd).toEqual(['redis-server', '--requirepass', REDACTED, '--port', '6379'])
    expect(out.Args).toEqual(['-c', 'echo hi'])
  })
})

describe('secret names are judged by their words (issue 18: Authors was always [REDACTED])', () => {
  it('keeps innocent names that merely contain a secret marker', () => {
    for (const name of [
      'authors',
      'Authors',
      'author',
      'authority',
      'authenticationDatabase',
      'PWD',
      'OLDPWD',
      'monkey',
      'keyboard',
      'keyserver',
      'recv-keys',
      'compass',
      'bypass',
      'passenger',
      'TOKENIZERS_PARALLELISM',
      'API_URL',
      'API_PORT',
      'auth.database',
      'SESSION_DRIVER',
      'COOKIE_DOMAIN',
      'MYSQL_PASSWORD_FILE',
      'PGPASSFILE',
      'TOKEN_TTL',
      'AUTH_TYPE',
      'PASSWORD_MIN_LENGTH',
      'keyTimes',
      'sha256',
      'capital',
      'rapid',
      'concert',
    ]) {
      expect(isSecretName(name), name).toBe(false)
    }
  })

  it('still redacts auth, authorization, *_auth_token and the usual secret names', () => {
    for (const name of [
      'auth',
      'AUTH',
      'authorization',
      'Authorization',
      'proxy-authorization',
      'GITLAB_AUTH_TOKEN',
      'npm_auth_token',
      '_authToken',
      'REDIS_AUTH',
      'oauth',
      'basicAuth',
      'X-Api-Key',
      'apiKey',
      'APIKEY',
      'api_key',
      'clientSecret',
      'client_secret',
      'accessToken',
      'DB_PASSWORD',
      'PGPASSWORD',
      'MYSQL_PWD',
      'requirepass',
      'storepass',
      'ROOT_PASS',
      'passwd',
      'SECRET_KEY_BASE',
      'AWS_SECRET_ACCESS_KEY',
      'privateKey',
      'private_key',
      'SENTRY_DSN',
      'session',
      'cookie',
      'credentials',
      'creds',
      'passphrase',
      'key',
      'com.example.auth-token',
      'X-Auth-Token',
      'PRIVATE-TOKEN',
      'SESSION_ID',
      'PHPSESSID',
    ]) {
      expect(isSecretName(name), name).toBe(true)
    }
  })

  it('keeps the authors of a report and of saved answers, and redacts an auth value beside them', () => {
    const out = redactDeep({
      header: {authors: ['Alice Example', 'Bob Example'], author: 'Carol'},
      answers: {
        authors: 'Alice Example, Bob Example',
        auth: 'hunter2',
        webhook_auth_token: 'tok-1',
        authorization: 'Basic abc',
      },
    })
    expect(out.header.authors).toEqual(['Alice Example', 'Bob Example'])
    expect(out.header.author).toBe('Carol')
    expect(out.answers).toEqual({
      authors: 'Alice Example, Bob Example',
      auth: REDACTED,
      webhook_auth_token: REDACTED,
      authorization: REDACTED,
    })
    expect(redactText('authors: Alice Example')).toBe('authors: Alice Example')
    expect(redactText('auth: hunter2')).toBe(`auth: ${REDACTED}`)
  })
})
