import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {REDACTED, redactArgs, redactDeep, redactText} from '../../src/util/redact.js'

interface Line {
  kind: 'S' | 'O'
  line: number
  input: string
  secrets: string[]
  expected: string
}

const corpusPath = fileURLToPath(new URL('../fixtures/redaction-corpus.txt', import.meta.url))

function loadCorpus(): Line[] {
  return readFileSync(corpusPath, 'utf8')
    .split('\n')
    .map((text, i) => ({text, line: i + 1}))
    .filter(({text}) => /^[SO] /.test(text))
    .map(({text, line}) => {
      const body = text.slice(2)
      const secrets = [...body.matchAll(/«([^»]*)»/g)].map((m) => m[1]!)
      return {
        kind: text[0] as 'S' | 'O',
        line,
        input: body.replace(/[«»]/g, ''),
        secrets,
        expected: body.replace(/«[^»]*»/g, REDACTED),
      }
    })
}

const corpus = loadCorpus()
const secretLines = corpus.filter((l) => l.kind === 'S')
const ordinary = corpus.filter((l) => l.kind === 'O')

describe('redaction corpus', () => {
  it('is big enough: at least 60 secret-bearing and 20 ordinary command lines, every secret marked', () => {
    expect(secretLines.length).toBeGreaterThanOrEqual(60)
    expect(ordinary.length).toBeGreaterThanOrEqual(20)
    for (const l of secretLines) expect(l.secrets.length, `line ${l.line} marks no secret`).toBeGreaterThan(0)
  })

  it.each(secretLines.map((l) => [l.line, l] as const))(
    'line %i: every marked value is replaced, the rest kept',
    (_n, l) => {
      const out = redactText(l.input)
      for (const s of l.secrets) expect(out, `secret ${s} survived`).not.toContain(s)
      expect(out).toBe(l.expected)
    },
  )

  it.each(ordinary.map((l) => [l.line, l] as const))('line %i: an ordinary line stays byte-identical', (_n, l) => {
    expect(redactText(l.input)).toBe(l.input)
  })

  it('redacts the same lines when they are a process argv or an exec-form Cmd (items split at spaces)', () => {
    // Only lines without quotes split cleanly into an argv; the secret may then sit in an item of its own.
    for (const l of secretLines.filter((x) => !/["']|: /.test(x.input))) {
      const argv = l.input.split(' ')
      const out = redactArgs(argv).join(' ')
      for (const s of l.secrets)
        expect(out, `line ${l.line}: ${s} survived in ${JSON.stringify(argv)}`).not.toContain(s)
    }
    for (const l of ordinary.filter((x) => !/["']/.test(x.input)))
      expect(redactArgs(l.input.split(' ')), `line ${l.line}`).toEqual(l.input.split(' '))
  })

  it('redacts them in the places a container keeps them: Cmd, Entrypoint, Healthcheck, Args, Path, top, history', () => {
    const inspect = {
      Path: 'sh',
      Args: ['-c', secretLines[0]!.input],
      Config: {
        Cmd: ['mysql', '-uroot', '-pS3cr3t', 'shop'],
        Entrypoint: ['redis-server', '--requirepass', 'reqpass'],
        Healthcheck: {Test: ['CMD-SHELL', 'curl -fsS --header "X-Api-Key: abc123def456" http://localhost:8080/health']},
      },
      history: [
        {created_by: '/bin/sh -c #(nop)  ENV JWT_SECRET change-me-in-prod-9182'},
        {created_by: 'mysql -uroot -pS3cr3t -h db shop'},
      ],
      Processes: [['root', '1', '0', 'sshpass -p ssh-pw ssh deploy@10.0.0.5']],
    }
    const text = JSON.stringify(redactDeep(inspect))
    for (const s of [
      'AKIAIOSFODNN7EXAMPLE',
      'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY',
      'S3cr3t',
      'reqpass',
      'abc123def456',
      'change-me-in-prod-9182',
      'ssh-pw',
    ])
      expect(text).not.toContain(s)
    expect(text).toContain('--requirepass')
    expect(text).toContain('X-Api-Key: [REDACTED]')
  })

  it('handles real newlines and carriage returns as separators too', () => {
    expect(redactText('[default]\naws_secret_access_key=abc123\r\nregion=x')).toBe(
      `[default]\naws_secret_access_key=${REDACTED}\r\nregion=x`,
    )
    expect(redactText('PASSWORD=x1\nPORT=80')).toBe(`PASSWORD=${REDACTED}\nPORT=80`)
  })

  it('stays fast on long and repetitive input (no quadratic backtracking)', () => {
    const inputs = [
      'a-'.repeat(50_000),
      'a.'.repeat(50_000),
      'password='.repeat(20_000),
      'key: '.repeat(20_000),
      'mysql -p'.repeat(20_000),
      'http://a:b@'.repeat(20_000),
      'x'.repeat(1_000_000),
      `${'GET /a?token=abc HTTP/1.1 200\n'.repeat(5000)}`,
    ]
    for (const input of inputs) {
      const start = performance.now()
      redactText(input)
      expect(performance.now() - start, input.slice(0, 20)).toBeLessThan(3000)
    }
  })
})
