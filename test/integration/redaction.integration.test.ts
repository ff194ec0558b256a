import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {Readable} from 'node:stream'

import tar from 'tar-stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {allFiles, runIr, tempDir} from '../helpers/cli.js'
import {TEST_IMAGE, TestDocker} from '../helpers/docker.js'

/**
 * Secrets planted in every place a container keeps a command string (Cmd, Entrypoint, health check,
 * labels, env) must appear in no file of the case after `ir snapshot` and `ir collect`: not in the
 * stored inspect, the process list, the engine events, nor inside the saved image tar (its config
 * JSON, container_config and history), nor in the collect archive.
 */
const t = new TestDocker('red')
const CASE = `CASE-RED-${t.runId}`
const s = (what: string): string => `${what}${t.runId}Zq7`
const SECRETS = {
  aws: s('wJalrXUtnAws'),
  mysql: s('MyS3cretPw'),
  header: s('HdrApiKey'),
  entry: s('EntryRedisPw'),
  env: s('EnvDbPw'),
  label: s('LabelTok'),
  labelUrl: s('LabelUrlPw'),
  curl: s('CurlPw'),
  dump: s('DumpPw'),
}
let incidents: string
let env: Record<string, string>
let victim: {id: string; name: string}

/** Every byte stream a file holds: itself, its gunzipped form, and (for tars) each member, recursively. */
async function* streamsOf(name: string, bytes: Buffer): AsyncGenerator<{name: string; bytes: Buffer}> {
  yield {name, bytes}
  let body = bytes
  if (name.endsWith('.gz')) {
    body = gunzipSync(bytes)
    yield {name: `${name}!gunzip`, bytes: body}
  }
  // A tar by name, or by its ustar magic (the OCI layout's blobs/sha256/<digest> layers have no .tar name).
  const ustar = body.length > 262 && body.subarray(257, 262).toString('latin1') === 'ustar'
  if (/\.tar(\.gz)?$/.test(name) || name.endsWith('layer.tar') || ustar) {
    for (const m of await tarMembers(body)) yield* streamsOf(`${name}!${m.name}`, m.bytes)
  }
}

async function tarMembers(bytes: Buffer): Promise<Array<{name: string; bytes: Buffer}>> {
  const out: Array<{name: string; bytes: Buffer}> = []
  const extract = tar.extract()
  Readable.from([bytes]).pipe(extract)
  for await (const entry of extract) {
    const chunks: Buffer[] = []
    for await (const c of entry) chunks.push(c as Buffer)
    out.push({name: entry.header.name, bytes: Buffer.concat(chunks)})
  }
  return out
}

beforeAll(async () => {
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  const name = t.name('victim')
  // Nothing here prints a secret or writes one to the filesystem: only the config and the argv hold them.
  const script = [
    `printf "[default]\\naws_secret_access_key=${SECRETS.aws}\\n" >/dev/null`,
    `true mysql -uroot -p${SECRETS.mysql} -h db shop`,
    `true curl -u admin:${SECRETS.curl} http://127.0.0.1:1/`,
    `true mysqldump --password ${SECRETS.dump} --all-databases`,
    // Not a tail call (busybox sh would exec it): sh stays in the process list with its argv.
    'sleep 3600 & wait',
  ].join('; ')
  const c = await t.docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Entrypoint: ['env', `REDIS_PASSWORD=${SECRETS.entry}`],
    Cmd: ['sh', '-c', script],
    Env: [`DB_PASSWORD=${SECRETS.env}`, 'MODE=prod'],
    Labels: {
      ...t.labels,
      'com.example.api-token': SECRETS.label,
      'com.example.db': `postgres://app:${SECRETS.labelUrl}@db:5432/app`,
    },
    Healthcheck: {
      Test: [
        'CMD-SHELL',
        `wget -q -T 1 --header "X-Api-Key: ${SECRETS.header}" -O /dev/null http://127.0.0.1:1/ || true`,
      ],
      Interval: 1_000_000_000,
      Timeout: 2_000_000_000,
      Retries: 3,
    },
  })
  await c.start()
  victim = {id: c.id, name}
  // Let the health check run at least once (its exec shows in the engine events and the inspect).
  await new Promise((r) => setTimeout(r, 2500))
})

afterAll(async () => {
  await t.cleanup()
})

describe('planted secrets in command strings reach no file of the case', () => {
  it('the container really carries them (so the test can fail)', async () => {
    const i = await t.inspect(victim.id)
    const raw = JSON.stringify(i)
    for (const v of Object.values(SECRETS)) expect(raw).toContain(v)
    const top = JSON.stringify(await t.docker.getContainer(victim.id).top())
    expect(top).toContain(SECRETS.mysql)
  })

  it('ir snapshot and ir collect store none of them, anywhere, and keep the rest readable', async () => {
    const snap = await runIr(['snapshot', victim.name, '--case', CASE, '--yes', '--json'], {env})
    expect(snap.exitCode, snap.stderr).toBe(0)
    const col = await runIr(['collect', victim.name, '--case', CASE, '--json'], {env})
    expect(col.exitCode, col.stderr).toBe(0)
    for (const out of [snap.stdout, snap.stderr, col.stdout, col.stderr])
      for (const v of Object.values(SECRETS)) expect(out).not.toContain(v)

    const dir = join(incidents, CASE)
    const files = await allFiles(dir)
    const names = files.map((f) => f.slice(dir.length + 1))
    expect(
      names.some((n) => /image-.*\.tar$/.test(n)),
      names.join('\n'),
    ).toBe(true)
    expect(names.some((n) => /processes-.*\.json$/.test(n))).toBe(true)
    expect(names.some((n) => /collect-.*\.tar\.gz$/.test(n))).toBe(true)

    const hits: string[] = []
    let scanned = 0
    const seen = {config: false, history: false, containerConfig: false, inspect: false, top: false, events: false}
    for (const f of files) {
      for await (const part of streamsOf(f, await readFile(f))) {
        scanned++
        for (const [what, v] of Object.entries(SECRETS))
          if (part.bytes.includes(v)) hits.push(`${what} in ${part.name.slice(dir.length + 1)}`)
        const text = part.bytes.length < 4 * 1024 * 1024 ? part.bytes.toString('utf8') : ''
        // The image config inside the saved tar: redacted, yet it still says what ran.
        // The image config inside the saved tar, in either layout (<id>.json, or an OCI blob holding rootfs and config).
        const imageConfig =
          /image-[^!]*\.tar!(?:[0-9a-f]{64}\.json|blobs\/sha256\/[0-9a-f]{64})$/.test(part.name) &&
          text.startsWith('{') &&
          /"rootfs"/.test(text) &&
          /"config"\s*:\s*\{"/.test(text)
        if (imageConfig) {
          const cfg = JSON.parse(text) as {
            config: {Cmd: string[]; Env: string[]; Healthcheck?: {Test: string[]}; Labels: Record<string, string>}
            container_config?: {Cmd: string[]}
            history: Array<{created_by?: string}>
          }
          seen.config = true
          expect(cfg.config.Env).toContain('DB_PASSWORD=[REDACTED]')
          expect(cfg.config.Env).toContain('MODE=prod')
          expect(cfg.config.Cmd.join(' ')).toContain('aws_secret_access_key=[REDACTED]')
          expect(cfg.config.Cmd.join(' ')).toContain('-p[REDACTED] -h db shop')
          expect(cfg.config.Healthcheck?.Test.join(' ')).toContain('X-Api-Key: [REDACTED]')
          expect(cfg.config.Labels['com.example.api-token']).toBe('[REDACTED]')
          if (cfg.container_config) {
            seen.containerConfig = true
            expect(cfg.container_config.Cmd.join(' ')).toContain('curl -u admin:[REDACTED]')
          }
          const history = cfg.history.map((h) => h.created_by ?? '').join('\n')
          if (history.includes('sleep 3600')) seen.history = true
        }
        if (/inspect\.json$/.test(part.name)) {
          seen.inspect = true
          expect(text).toContain('--password [REDACTED] --all-databases')
          expect(text).toContain('REDIS_PASSWORD=[REDACTED]')
        }
        if (/(processes-.*\.json|top\.json)$/.test(part.name)) {
          seen.top = true
          expect(text).toContain('-p[REDACTED]')
          expect(text).toContain('sleep 3600')
        }
        if (/events\.jsonl$/.test(part.name) && text.trim() !== '') seen.events = true
      }
    }
    expect(hits, `planted secrets found (${scanned} streams scanned)`).toEqual([])
    // Docker 25+ and the containerd store no longer write container_config into a commit's config.
    const legacyEngine = (process.env.IR_ENGINE ?? 'docker20') === 'docker20'
    // Podman's commit history says "/bin/sh", not the command that ran; its file event logger can lag behind a
    // busy engine, so the container's events may not be there yet.
    const podman = process.env.IR_ENGINE === 'podman5'
    expect(seen).toEqual({
      config: true,
      history: podman ? seen.history : true,
      containerConfig: legacyEngine ? true : seen.containerConfig,
      inspect: true,
      top: true,
      events: podman ? seen.events : true,
    })
    // The case still verifies after all this.
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout + v.stderr).toBe(0)
  })

  it('the evidence image committed in the engine has a redacted config too', async () => {
    const images = await t.docker.listImages({filters: {label: [`ir.test.run=${t.runId}`]}})
    const evidence = images.find((i) =>
      i.RepoTags?.some((r) => r.replace(/^(?:docker\.io|localhost)\//, '').startsWith('ir-evidence/')),
    )
    expect(evidence).toBeDefined()
    const cfg = (await t.docker.getImage(evidence!.Id).inspect()).Config
    const text = JSON.stringify({
      Cmd: cfg.Cmd,
      Entrypoint: cfg.Entrypoint,
      Env: cfg.Env,
      Labels: cfg.Labels,
      Healthcheck: (cfg as {Healthcheck?: unknown}).Healthcheck,
    })
    for (const v of Object.values(SECRETS)) expect(text).not.toContain(v)
  })
})

describe('ESC, BEL and CSI from a responder through the CLI', () => {
  const HOSTILE = 'x\u001b[2J\u001b]0;pwned\u0007y\u001b[31mz\u009b1m'
  const RAW = /[\u0000-\u0008\u000b-\u000c\u000e-\u001f\u007f-\u009f]/
  it('are neutralised on the terminal, in the CSV and JSONL timeline on stdout and in report.md/.html/.json', async () => {
    const id = `CASE-CTL-${t.runId}`
    expect((await runIr(['case', 'create', id, '--title', `Title ${HOSTILE}`], {env})).exitCode).toBe(0)
    expect(
      (await runIr(['case', 'event', id, '--message', `Alert ${HOSTILE}`, '--at', '2026-11-27T10:00:00Z'], {env}))
        .exitCode,
    ).toBe(0)
    const show = await runIr(['case', 'show', id], {env})
    expect(show.exitCode, show.stderr).toBe(0)
    expect(show.stdout).toContain('Title x\\x1b[2J\\x1b]0;pwned\\x07y')
    expect(show.stdout + show.stderr).not.toMatch(RAW)
    const list = await runIr(['case', 'list'], {env})
    expect(list.stdout).not.toMatch(RAW)
    const csv = await runIr(['case', 'timeline', id, '--format', 'csv'], {env})
    expect(csv.stdout.replace(/\r/g, '')).not.toMatch(RAW)
    expect(csv.stdout).toContain('Alert x\\x1b[2J\\x1b]0;pwned\\x07y\\x1b[31mz\\x9b1m')
    const jsonl = await runIr(['case', 'timeline', id, '--format', 'jsonl'], {env})
    expect(jsonl.stdout).not.toMatch(RAW)
    expect(
      jsonl.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as {message: string}).message),
    ).toContain(`Alert ${HOSTILE}`)
    const asJson = await runIr(['case', 'show', id, '--json'], {env})
    expect(asJson.stdout).not.toMatch(RAW)
    expect((JSON.parse(asJson.stdout) as {case: {title: string}}).case.title).toBe(`Title ${HOSTILE}`)
    // A container reference from the command line comes back in the engine's error message.
    const bad = await runIr(['collect', `nope${HOSTILE}`, '--case', id], {env})
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr).toContain('nopex\\x1b[2J')
    expect(bad.stdout + bad.stderr).not.toMatch(RAW)
    const rep = await runIr(['report', '--case', id, '--no-input', '--json'], {env})
    expect(rep.exitCode, rep.stderr).toBe(0)
    const reportFiles = (await allFiles(join(incidents, id))).filter((f) => /report.*\.(md|html|json)$/.test(f))
    expect(reportFiles.map((f) => f.split('.').at(-1)).sort()).toEqual(expect.arrayContaining(['html', 'json', 'md']))
    for (const f of reportFiles) {
      const text = await readFile(f, 'utf8')
      expect(text, f).not.toMatch(RAW)
      expect(text, f).toMatch(/\\x1b|\\u001b/)
      if (f.endsWith('.json')) expect(() => JSON.parse(text)).not.toThrow()
    }
  })

  it('keeps the authors in the report and in the saved answers (issue 18), and redacts an auth value', async () => {
    const id = `CASE-AUTH-${t.runId}`
    expect((await runIr(['case', 'create', id, '--title', 'Authors'], {env})).exitCode).toBe(0)
    const answers = join(incidents, `answers-${t.runId}.yml`)
    await writeFile(
      answers,
      `authors:\n  - Alice Example\n  - Bob Example\nsummary: "The miner used the token auth=${SECRETS.label} from the label."\n`,
    )
    const rep = await runIr(['report', '--case', id, '--no-input', '--answers', answers], {env})
    expect(rep.exitCode, rep.stderr).toBe(0)
    const md = await readFile(join(incidents, id, 'report.md'), 'utf8')
    expect(md).toMatch(/\| Authors \| Alice Example, Bob Example \|/)
    expect(md).not.toContain(SECRETS.label)
    const stateFiles = (await allFiles(join(incidents, id, 'state'))).filter((f) => /answers/.test(f))
    expect(stateFiles.length).toBe(1)
    const saved = JSON.parse(await readFile(stateFiles[0]!, 'utf8')) as {answers: {authors: string[]; summary: string}}
    expect(saved.answers.authors).toEqual(['Alice Example', 'Bob Example'])
    expect(saved.answers.summary).toBe('The miner used the token auth=[REDACTED] from the label.')
  })
})
