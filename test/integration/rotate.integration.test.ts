import {chmod, mkdir, readdir, readFile, stat, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {filesContaining, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

const t = new TestDocker('rot')
const S = {
  api: `apikey-${t.runId}-Qw3rTy9UiOp1`,
  db: `dbpass-${t.runId}-Zx8Cv7Bn6Mm5`,
  stripe: `sk_live_${t.runId}Ab12Cd34Ef56`,
  vnc: `vncpw-${t.runId}`,
  only: `onlyincontainer-${t.runId}-Lk4Jh3`,
}
const CASE = `CASE-ROT-${t.runId}`
let project: string
let keys: string
let env: Record<string, string>
let app: {id: string; name: string}

const DOTENV = [
  '# Production settings for the shop',
  `export API_KEY="${S.api}"   # issued 2025-01`,
  '',
  `DB_PASSWORD='${S.db}'`,
  'APP_PORT=8080',
  'this line is not valid',
  '# end',
  '',
].join('\n')

interface Item {
  id: string
  name: string
  kind: string
  seenByCompromised: boolean
  canGenerate: boolean
  reasons: string[]
  notes: string[]
  sources: Array<Record<string, unknown>>
}

beforeAll(async () => {
  project = await tempDir('ir-rotate-project-')
  keys = await tempDir('ir-rotate-keys-')
  env = {IR_INCIDENTS_DIR: await tempDir('ir-rotate-cases-')}
  await writeFile(join(project, '.env'), DOTENV)
  await chmod(join(project, '.env'), 0o644)
  await writeFile(join(project, 'app.env'), `STRIPE_KEY=${S.stripe}\nLOG_LEVEL=info\n`)
  await symlink(join(project, 'gone.env'), join(project, 'dangling.env'))
  await mkdir(join(project, 'secrets'))
  await writeFile(join(project, 'secrets', 'tls.key'), 'not really a key')
  await writeFile(
    join(project, 'compose.yaml'),
    `services:
  web:
    image: shop/web
    env_file: [app.env, dangling.env]
    environment:
      DB_PASS: \${DB_PASSWORD}
      API_KEY: \${API_KEY}
    secrets:
      - tls_key
secrets:
  tls_key:
    file: ./secrets/tls.key
`,
  )
  await mkdir(join(keys, '.ssh'))
  await writeFile(join(keys, '.ssh', 'id_rsa'), 'k')
  await writeFile(join(keys, '.ssh', 'id_rsa.pub'), 'p')
  app = await t.run('app', {
    cmd: ['sleep', '3600'],
    env: [`API_KEY=${S.api}`, `VNC_PASSWORD=${S.vnc}`, `WORKER_TOKEN=${S.only}`, 'APP_MODE=prod'],
    hostConfig: {Binds: [`${keys}:/home/app:ro`]},
  })
})

afterAll(async () => {
  await t.cleanup()
})

describe('ir rotate against the real engine', () => {
  it('inventories the compose project, .env, env_file, compose secret and the container, container-visible first', async () => {
    const r = await runIr(['rotate', '--case', CASE, '--container', app.name, '--list', '--json'], {cwd: project, env})
    expect(r.exitCode, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {
      inventory: Item[]
      containers: Array<{name: string; why: string}>
      warnings: Array<{file?: string; line?: number; message: string}>
    }
    const byName = (n: string): Item => {
      const i = out.inventory.find((x) => x.name === n)
      if (!i) throw new Error(`${n} missing from ${out.inventory.map((x) => x.name).join(', ')}`)
      return i
    }
    const names = out.inventory.map((i) => i.name)
    expect(new Set(names).size).toBe(names.length)
    expect(out.containers).toEqual([expect.objectContaining({name: app.name, why: 'named'})])

    const api = byName('API_KEY')
    expect(api).toMatchObject({seenByCompromised: true, canGenerate: true, kind: 'env-var'})
    expect(api.sources).toEqual(
      expect.arrayContaining([
        {type: 'dotenv', file: join(project, '.env'), line: 2},
        expect.objectContaining({
          type: 'compose-interpolation',
          file: join(project, 'compose.yaml'),
          line: 7,
          service: 'web',
        }),
        {type: 'container-env', container: app.name},
      ]),
    )
    const vnc = byName('VNC_PASSWORD')
    expect(vnc).toMatchObject({seenByCompromised: true, canGenerate: false})
    expect(vnc.reasons).toContain('known-default:vnc')
    expect(vnc.notes.join(' ')).toMatch(/classic forgotten default/)
    expect(byName('WORKER_TOKEN')).toMatchObject({
      seenByCompromised: true,
      sources: [{type: 'container-env', container: app.name}],
    })
    expect(byName(join(keys, '.ssh', 'id_rsa'))).toMatchObject({
      kind: 'file',
      seenByCompromised: true,
      sources: [expect.objectContaining({mountedAt: '/home/app/.ssh/id_rsa'})],
    })
    expect(names).not.toContain(join(keys, '.ssh', 'id_rsa.pub'))

    const db = byName('DB_PASSWORD')
    expect(db).toMatchObject({seenByCompromised: false, canGenerate: true})
    expect(db.sources).toEqual(
      expect.arrayContaining([
        {type: 'dotenv', file: join(project, '.env'), line: 4},
        expect.objectContaining({type: 'compose-interpolation', line: 6, via: 'DB_PASS'}),
      ]),
    )
    expect(byName('STRIPE_KEY')).toMatchObject({
      canGenerate: true,
      sources: [{type: 'env-file', file: join(project, 'app.env'), line: 1, service: 'web'}],
    })
    expect(byName('tls_key')).toMatchObject({
      kind: 'compose-secret',
      sources: expect.arrayContaining([expect.objectContaining({path: join(project, 'secrets', 'tls.key')})]),
    })
    for (const plain of ['APP_PORT', 'APP_MODE', 'LOG_LEVEL']) expect(names).not.toContain(plain)

    // Ranking: everything a compromised container could read comes before the rest.
    const firstUnseen = out.inventory.findIndex((i) => !i.seenByCompromised)
    expect(firstUnseen).toBeGreaterThanOrEqual(4)
    expect(out.inventory.slice(firstUnseen).every((i) => !i.seenByCompromised)).toBe(true)

    // A malformed line and an unreadable env_file are warnings naming file and line; the rest was still read.
    expect(r.stderr).toContain(`${join(project, '.env')}:6: not a NAME=value line`)
    expect(r.stderr).toMatch(/dangling\.env is a broken symbolic link/)
    expect(out.warnings).toContainEqual(expect.objectContaining({file: join(project, '.env'), line: 6}))

    for (const v of Object.values(S)) {
      expect(r.stdout).not.toContain(v)
      expect(r.stderr).not.toContain(v)
    }
  })

  it('refuses to write without a TTY and --yes, and names credentials it does not know', async () => {
    const noYes = await runIr(['rotate', '--case', CASE, '--generate', 'API_KEY'], {cwd: project, env})
    expect(noYes.exitCode).toBe(7)
    expect(noYes.stderr).toMatch(/--yes/)
    const unknown = await runIr(['rotate', '--case', CASE, '--generate', 'NO_SUCH_CREDENTIAL', '--yes'], {
      cwd: project,
      env,
    })
    expect(unknown.exitCode).toBe(4)
    expect(unknown.stderr).toContain('NO_SUCH_CREDENTIAL')
    expect(await readFile(join(project, '.env'), 'utf8')).toBe(DOTENV)
  })

  it('--generate API_KEY --yes writes a new value atomically, keeps every other byte, 0600, with a backup, and leaks nothing', async () => {
    const r = await runIr(['rotate', '--generate', 'API_KEY', '--yes', '--case', CASE, '--length', '40'], {
      cwd: project,
      env,
    })
    expect(r.exitCode, r.stderr).toBe(0)
    const after = await readFile(join(project, '.env'), 'utf8')
    const newValue = /^export API_KEY="([^"]*)"/m.exec(after)?.[1] ?? ''
    expect(newValue).toMatch(/^[A-Za-z0-9_-]{40}$/)
    expect(newValue).not.toBe(S.api)
    expect(after).toBe(DOTENV.replace(S.api, newValue))
    expect((await stat(join(project, '.env'))).mode & 0o777).toBe(0o600)

    const backups = (await readdir(project)).filter((f) => /^\.env\.ir-backup-\d{8}T\d{6}Z/.test(f))
    expect(backups).toHaveLength(1)
    expect(await readFile(join(project, backups[0]!), 'utf8')).toBe(DOTENV)
    expect((await stat(join(project, backups[0]!))).mode & 0o777).toBe(0o600)
    expect((await readdir(project)).filter((f) => f.includes('ir-tmp'))).toEqual([])

    const caseDir = join(env.IR_INCIDENTS_DIR!, CASE)
    for (const v of [S.api, newValue, ...Object.values(S)]) {
      expect(await filesContaining(caseDir, v), v).toEqual([])
      expect(r.stdout).not.toContain(v)
      expect(r.stderr).not.toContain(v)
    }
    const audit = (await readFile(join(caseDir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {action: string; target?: string; details?: Record<string, unknown>})
    const decision = audit.find((l) => l.action === 'rotate.decision' && l.target === 'API_KEY')
    expect(decision?.details).toMatchObject({
      name: 'API_KEY',
      decision: 'generated',
      files: [join(project, '.env')],
      services: ['web'],
    })
    expect(audit.filter((l) => l.action === 'rotate.summary').at(-1)?.details).toMatchObject({
      rotated: 1,
      restart: ['web'],
    })
    expect(r.stdout).toMatch(/Restart to pick up the new values: web/)

    const verify = await runIr(['case', 'verify', CASE], {env})
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0)
  })

  it('--require-all fails while credentials are left, --json shows decisions without values', async () => {
    const r = await runIr(
      [
        'rotate',
        '--case',
        CASE,
        '--container',
        app.name,
        '--mark-rotated',
        'STRIPE_KEY',
        '--skip',
        'DB_PASSWORD=owned by the DBA team',
        '--yes',
        '--require-all',
        '--json',
      ],
      {cwd: project, env},
    )
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/--require-all: \d+ credential\(s\) not rotated: .*VNC_PASSWORD/)
    const out = JSON.parse(r.stdout) as {
      inventory: Array<{name: string; decision?: string; decisionReason?: string}>
      summary: {generated: number; markedRotated: number; skipped: number; remaining: number}
    }
    const decided = Object.fromEntries(
      out.inventory.filter((i) => i.decision).map((i) => [i.name, [i.decision, i.decisionReason]]),
    )
    expect(decided).toEqual({
      API_KEY: ['generated', undefined],
      STRIPE_KEY: ['marked-rotated', undefined],
      DB_PASSWORD: ['skipped', 'owned by the DBA team'],
    })
    expect(out.summary).toMatchObject({generated: 1, markedRotated: 1, skipped: 1})
    expect(out.summary.remaining).toBeGreaterThan(0)
    for (const v of Object.values(S)) expect(r.stdout).not.toContain(v)
  })

  it('includes the containers isolated in the case without --container', async () => {
    const other = await t.run('isolated', {cmd: ['sleep', '3600'], env: [`SESSION_SECRET=${S.only}-iso`]})
    const iso = await runIr(['isolate', other.name, '--case', CASE, '--yes'], {env})
    expect(iso.exitCode, iso.stderr).toBe(0)
    const r = await runIr(['rotate', '--case', CASE, '--list', '--json'], {cwd: project, env})
    expect(r.exitCode, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {inventory: Item[]; containers: Array<{name: string; why: string}>}
    expect(out.containers).toEqual([expect.objectContaining({name: other.name, why: 'isolated'})])
    expect(out.inventory[0]).toMatchObject({name: 'SESSION_SECRET', seenByCompromised: true})
    expect(r.stdout).not.toContain(`${S.only}-iso`)
  })
})
