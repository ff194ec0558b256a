import {describe, expect, it} from 'vitest'

import {REDACTED, redactDeep, redactEnvEntry, redactText} from '../../src/case/redact.js'

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
    expect(redactText('x -----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- y')).toBe(`x ${REDACTED} y`)
    expect(redactText('run --api-token=abc123 --port=80')).toBe(`run --api-token=${REDACTED} --port=80`)
  })

  it('redacts deeply without mutating the input, including Env arrays and secret-named keys', () => {
    const input = {Config: {Env: ['API_KEY=k1', 'MODE=x'], Labels: {'com.example.auth-token': 't', team: 'blue'}}, Cmd: ['--password=p1'], sha256: 'abc'}
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
    const out = redactDeep({Cmd: ['redis-server', '--requirepass', 's3cret', '--port', '6379'], Args: ['-c', 'echo hi']})
    expect(out.Cmd).toEqual(['redis-server', '--requirepass', REDACTED, '--port', '6379'])
    expect(out.Args).toEqual(['-c', 'echo hi'])
  })
})
