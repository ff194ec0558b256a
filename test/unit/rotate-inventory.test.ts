import {mkdir, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {beforeAll, describe, expect, it} from 'vitest'

import type {ContainerDetails, Engine} from '../../src/docker/types.js'
import {buildInventory, type CredentialItem} from '../../src/services/rotate/inventory.js'
import {tempDir} from '../helpers/cli.js'

let dir: string
const V = {
  api: 'apikey-Qw3rTy9UiOp1AsDf2GhJ',
  db: 'dbpass-Zx8Cv7Bn6Mm5Lk4Jh3',
  stripe: 'sk_live_Ab12Cd34Ef56Gh78Ij90',
  mail: 'mailpw-unique-7731',
  def: 'ghp_Default0Default1Default2Default3Def',
}

function item(items: CredentialItem[], name: string): CredentialItem {
  const found = items.find((i) => i.name === name)
  if (!found) throw new Error(`${name} not in inventory: ${items.map((i) => i.name).join(', ')}`)
  return found
}

beforeAll(async () => {
  dir = await tempDir('ir-rotate-inv-')
  await mkdir(join(dir, 'secrets'))
  await mkdir(join(dir, 'env-as-folder.env'))
  await symlink(join(dir, 'nowhere.env'), join(dir, 'dangling.env'))
  await writeFile(join(dir, 'secrets', 'db_root.txt'), 'root-pw-file-content')
  await writeFile(
    join(dir, '.env'),
    [
      '# app',
      `API_KEY=${V.api}`,
      `export DB_PASSWORD="${V.db}"`,
      'this line is broken',
      'APP_PORT=8080',
      'MAIL_SECRET_VAR_ALIAS=x',
      `MAILPW=${V.mail}`,
      'UNTERMINATED="oops',
      '',
    ].join('\n'),
  )
  await writeFile(join(dir, 'web.env'), `STRIPE_KEY=${V.stripe}\nLOG_LEVEL=info\nbad line here\n`)
  await writeFile(
    join(dir, 'compose.yaml'),
    `name: shop
x-common-env: &common
  SHARED_TOKEN: \${SHARED_TOKEN:-${V.def}}
services:
  web:
    image: shop/web
    env_file:
      - web.env
      - path: optional-missing.env
        required: false
      - path: env-as-folder.env
    environment:
      <<: *common
      DB_PASS: \${DB_PASSWORD}
      SMTP_PASSWORD: \${MAILPW}
      MODE: production
      LITERAL_API_TOKEN: literal-token-Zq9Xw8Ce7Vr6
    secrets:
      - db_root
      - source: api_from_env
        target: /etc/app/api
  worker:
    image: shop/worker
    env_file: dangling.env
    environment:
      - API_KEY
      - QUEUE=jobs
    command: ["worker", "--db-password", "\${DB_PASSWORD}"]
secrets:
  db_root:
    file: ./secrets/db_root.txt
  api_from_env:
    environment: API_KEY
  registry:
    external: true
`,
  )
})

describe('rotate inventory from a compose project', () => {
  it('finds .env, environment, env_file, secrets and interpolated credentials, each once with its sources', async () => {
    const inv = await buildInventory({cwd: dir, env: {}})
    const names = inv.items.map((i) => i.name)
    expect(new Set(names).size).toBe(names.length)
    expect(inv.project).toMatchObject({
      dir,
      name: 'shop',
      composeFiles: [join(dir, 'compose.yaml')],
      services: ['web', 'worker'],
    })

    const api = item(inv.items, 'API_KEY')
    expect(api).toMatchObject({
      kind: 'env-var',
      canGenerate: true,
      editableFiles: [join(dir, '.env')],
      services: ['web', 'worker'],
    })
    expect(api.sources).toEqual(
      expect.arrayContaining([
        {type: 'dotenv', file: join(dir, '.env'), line: 2},
        expect.objectContaining({type: 'compose-environment', file: join(dir, 'compose.yaml'), service: 'worker'}),
        expect.objectContaining({type: 'compose-secret', composeName: 'api_from_env'}),
      ]),
    )

    const db = item(inv.items, 'DB_PASSWORD')
    expect(db.canGenerate).toBe(true)
    expect(db.sources).toEqual(
      expect.arrayContaining([
        {type: 'dotenv', file: join(dir, '.env'), line: 3},
        {type: 'compose-interpolation', file: join(dir, 'compose.yaml'), line: 14, service: 'web', via: 'DB_PASS'},
        expect.objectContaining({type: 'compose-interpolation', service: 'worker'}),
      ]),
    )

    // Not secret-looking by its own name, but handed to the container as SMTP_PASSWORD.
    const mail = item(inv.items, 'MAILPW')
    expect(mail.reasons).toContain('by-name')
    expect(mail.sources).toContainEqual({
      type: 'compose-interpolation',
      file: join(dir, 'compose.yaml'),
      line: 15,
      service: 'web',
      via: 'SMTP_PASSWORD',
    })

    const stripe = item(inv.items, 'STRIPE_KEY')
    expect(stripe).toMatchObject({canGenerate: true, editableFiles: [join(dir, 'web.env')]})
    expect(stripe.sources).toEqual([{type: 'env-file', file: join(dir, 'web.env'), line: 1, service: 'web'}])
    expect(stripe.reasons).toEqual(['by-name', 'by-shape:stripe-key'])

    const shared = item(inv.items, 'SHARED_TOKEN')
    expect(shared.canGenerate).toBe(false)
    expect(shared.notes.join(' ')).toMatch(/default value/)
    expect(shared.reasons).toContain('by-shape:github-token')

    const literal = item(inv.items, 'LITERAL_API_TOKEN')
    expect(literal.canGenerate).toBe(false)
    expect(literal.notes.join(' ')).toMatch(/set literally/)

    const fileSecret = item(inv.items, 'db_root')
    expect(fileSecret).toMatchObject({kind: 'compose-secret', canGenerate: false, services: ['web']})
    expect(fileSecret.sources[0]).toMatchObject({path: join(dir, 'secrets', 'db_root.txt'), line: 30})
    expect(item(inv.items, 'registry').kind).toBe('swarm-secret')

    for (const plain of ['APP_PORT', 'MODE', 'LOG_LEVEL', 'QUEUE']) expect(names).not.toContain(plain)
  })

  it('warns about malformed lines and unreadable files by file and line, and still reads the rest', async () => {
    const inv = await buildInventory({cwd: dir, env: {}})
    const w = inv.warnings.map((x) => `${x.file}|${x.line ?? ''}|${x.message}`)
    expect(w).toContainEqual(
      expect.stringMatching(new RegExp(`^${join(dir, '.env')}\\|4\\|.*:4: not a NAME=value line`)),
    )
    expect(w).toContainEqual(expect.stringMatching(new RegExp(`^${join(dir, '.env')}\\|8\\|.*unterminated`)))
    expect(w).toContainEqual(expect.stringMatching(new RegExp(`^${join(dir, 'web.env')}\\|3\\|`)))
    expect(w).toContainEqual(expect.stringMatching(/env-as-folder\.env is a folder, not a file/))
    expect(w).toContainEqual(expect.stringMatching(/dangling\.env is a broken symbolic link/))
    expect(w.join('\n')).not.toMatch(/optional-missing/)
    expect(JSON.stringify(inv)).not.toContain('oops')
    expect(inv.items.length).toBeGreaterThan(5)
  })

  it('never carries a value, a hash or a length in the inventory', async () => {
    const inv = await buildInventory({cwd: dir, env: {}})
    const json = JSON.stringify(inv)
    for (const v of [...Object.values(V), 'root-pw-file-content', 'literal-token-Zq9Xw8Ce7Vr6'])
      expect(json).not.toContain(v)
    for (const i of inv.items)
      expect(Object.keys(i).sort()).toEqual([
        'canGenerate',
        'editableFiles',
        'id',
        'kind',
        'name',
        'notes',
        'reasons',
        'seenByCompromised',
        'services',
        'sources',
      ])
  })

  it('ranks what a compromised container could read first: its env (by name, by value or by compose service) and mounted key files', async () => {
    const keys = await tempDir('ir-rotate-keys-')
    await mkdir(join(keys, '.ssh'))
    await writeFile(join(keys, '.ssh', 'id_rsa'), 'k')
    await writeFile(join(keys, '.ssh', 'id_rsa.pub'), 'p')
    await writeFile(join(keys, 'site.pem'), 'k')
    await writeFile(join(keys, 'readme.txt'), 'r')
    const details: ContainerDetails = {
      id: 'c'.repeat(64),
      name: 'shop-worker-1',
      image: 'shop/worker',
      imageId: 'sha256:x',
      state: 'running',
      pid: 1,
      networkMode: 'bridge',
      endpoints: [],
      mounts: [
        {type: 'bind', source: keys, destination: '/keys', rw: false},
        {type: 'bind', source: join(dir, 'secrets', 'db_root.txt'), destination: '/run/secrets/db_root', rw: false},
        {type: 'bind', source: '/no/such/host/path', destination: '/data', rw: true},
      ],
      labels: {'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'worker'},
      logDriver: 'json-file',
      raw: {
        Config: {
          Env: ['PATH=/usr/bin', `API_KEY=${V.api}`, `RENAMED=${V.db}`, 'VNC_PASSWORD=vnc-unique-default', 'PWD=/app'],
        },
      },
    }
    const engine = {
      swarmObjects: async () => ({
        secrets: [{id: 's1', name: 'prod_db_password', labels: {}}],
        configs: [{id: 'c1', name: 'nginx_conf', labels: {}}],
      }),
    } as unknown as Engine
    const inv = await buildInventory({cwd: dir, env: {}, engine, containers: [{details, why: 'named'}]})
    const seen = inv.items.filter((i) => i.seenByCompromised).map((i) => i.name)
    const firstUnseen = inv.items.findIndex((i) => !i.seenByCompromised)
    expect(inv.items.slice(0, firstUnseen).every((i) => i.seenByCompromised)).toBe(true)
    expect(seen).toEqual(
      expect.arrayContaining([
        'API_KEY',
        'DB_PASSWORD',
        'VNC_PASSWORD',
        'db_root',
        join(keys, '.ssh', 'id_rsa'),
        join(keys, 'site.pem'),
      ]),
    )
    expect(seen).not.toContain(join(keys, '.ssh', 'id_rsa.pub'))
    expect(seen).not.toContain('PWD')
    expect(item(inv.items, 'DB_PASSWORD').sources).toContainEqual({
      type: 'container-env',
      container: 'shop-worker-1',
      service: 'worker',
      via: 'RENAMED',
    })
    const vnc = item(inv.items, 'VNC_PASSWORD')
    expect(vnc.reasons).toContain('known-default:vnc')
    expect(vnc.notes[0]).toMatch(/classic forgotten default/)
    expect(item(inv.items, 'db_root').sources).toContainEqual(
      expect.objectContaining({type: 'container-mount', container: 'shop-worker-1', mountedAt: '/run/secrets/db_root'}),
    )
    expect(item(inv.items, join(keys, 'site.pem'))).toMatchObject({kind: 'file', reasons: ['by-file-name']})
    expect(item(inv.items, 'prod_db_password')).toMatchObject({kind: 'swarm-secret', seenByCompromised: false})
    expect(item(inv.items, 'nginx_conf')).toMatchObject({kind: 'swarm-config', reasons: ['swarm-config']})
    expect(inv.warnings.map((w) => w.message)).toContainEqual(
      expect.stringMatching(/\/no\/such\/host\/path .*not on this machine/),
    )
    expect(inv.containers).toEqual([expect.objectContaining({name: 'shop-worker-1', service: 'worker', why: 'named'})])
    expect(JSON.stringify(inv)).not.toContain('vnc-unique-default')
  })

  it('bounds the walk of a mounted folder and says so', async () => {
    const big = await tempDir('ir-rotate-big-')
    for (let i = 0; i < 30; i++) await writeFile(join(big, `f${String(i).padStart(2, '0')}.txt`), '')
    await writeFile(join(big, 'zz.key'), '')
    const details = {
      id: 'd'.repeat(64),
      name: 'big',
      labels: {},
      mounts: [{type: 'bind', source: big, destination: '/big', rw: true}],
      raw: {Config: {Env: []}},
    } as unknown as ContainerDetails
    const inv = await buildInventory({
      cwd: await tempDir(),
      env: {},
      containers: [{details, why: 'isolated'}],
      walkLimits: {depth: 2, entries: 10},
    })
    expect(inv.items.map((i) => i.name)).not.toContain(join(big, 'zz.key'))
    expect(inv.warnings.map((w) => w.message)).toContainEqual(
      expect.stringMatching(/stopped checking .* after 10 entries/),
    )
  })

  it('uses -f and --project-directory, and refuses a missing -f file', async () => {
    const other = await tempDir('ir-rotate-f-')
    await writeFile(
      join(other, 'stack.yml'),
      'services:\n  a:\n    environment:\n      ADMIN_PASSWORD: ${ADMIN_PASSWORD}\n',
    )
    await writeFile(join(other, '.env'), 'ADMIN_PASSWORD=adm-Unique-123456\n')
    const inv = await buildInventory({cwd: dir, composeFiles: [join(other, 'stack.yml')], env: {}})
    expect(inv.project.dir).toBe(other)
    expect(item(inv.items, 'ADMIN_PASSWORD')).toMatchObject({canGenerate: true, services: ['a']})
    await expect(buildInventory({cwd: dir, composeFiles: ['nope.yml'], env: {}})).rejects.toThrow(/nope\.yml not found/)
  })
})
