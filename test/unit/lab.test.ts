import {readdir, readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {parseDotenv} from '../../src/services/rotate/dotenv.js'
import {substitute} from '../../src/services/rotate/interpolate.js'
import {
  BASE_IMAGE_CHANGES,
  busyboxRootfsTar,
  ensureBaseImage,
  isStaticElf,
  splitImageRef,
} from '../../src/services/lab/base-image.js'
import {
  generateLabSecrets,
  LAB_TEMPLATE_DIR,
  materialiseLab,
  readLabMarker,
  removeLabDir,
  validateProjectName,
} from '../../src/services/lab/files.js'
import {labDown} from '../../src/services/lab/down.js'
import {withLabLock} from '../../src/services/lab/lock.js'
import {renderLabDown} from '../../src/render/lab.js'
import {displayPath, nextSteps} from '../../src/services/lab/model.js'
import type {ContainerSummary} from '../../src/docker/types.js'
import {engineFailure, FakeEngine} from '../helpers/fake-engine.js'
import {tempDir} from '../helpers/cli.js'

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o7777

async function labIn(dir: string, over: {project?: string; port?: number} = {}) {
  return materialiseLab({
    dir,
    project: over.project ?? 'ir-lab',
    port: over.port ?? 18080,
    baseImage: 'ir-test/busybox:latest',
    caseId: 'LAB-1',
  })
}

async function envOf(dir: string): Promise<Record<string, string>> {
  const text = await readFile(join(dir, '.env'), 'utf8')
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  )
}

describe('lab secrets', () => {
  it('are fresh, URL-safe and long enough on every call', () => {
    const a = generateLabSecrets()
    const b = generateLabSecrets()
    for (const v of [...Object.values(a), ...Object.values(b)]) expect(v).toMatch(/^[A-Za-z0-9_-]{32,}$/)
    expect(a.API_KEY).toMatch(/^lab_sk_/)
    expect(new Set([...Object.values(a), ...Object.values(b)]).size).toBe(6)
  })
})

describe('lab materialisation', () => {
  it('writes the project with .env and the compose secret at 0600 and a fresh secret per run', async () => {
    const dir = join(await tempDir('ir-lab-unit-'), 'ir-lab')
    const first = await labIn(dir)
    expect(first.files).toEqual(
      expect.arrayContaining([
        'compose.yml',
        'web/Dockerfile',
        'web/entrypoint.sh',
        'web/index.html',
        '.env',
        'secrets/db_root_password.txt',
        'run/docker.sock',
        '.ir-lab.json',
      ]),
    )
    expect(await mode(join(dir, '.env'))).toBe(0o600)
    expect(await mode(join(dir, 'secrets/db_root_password.txt'))).toBe(0o600)
    expect(await mode(join(dir, '.ir-lab.json'))).toBe(0o600)
    expect(await mode(join(dir, 'web/entrypoint.sh'))).toBe(0o755)
    expect(await mode(dir)).toBe(0o700)
    expect((await stat(join(dir, 'run/docker.sock'))).isFile()).toBe(true)
    const env1 = await envOf(dir)
    expect(env1).toMatchObject({
      COMPOSE_PROJECT_NAME: 'ir-lab',
      IR_LAB_PROJECT: 'ir-lab',
      IR_LAB_PORT: '18080',
      IR_LAB_BASE_IMAGE: 'ir-test/busybox:latest',
    })
    expect(env1.API_KEY).toMatch(/^lab_sk_[A-Za-z0-9_-]{32}$/)
    expect(env1.DB_PASSWORD).toMatch(/^[A-Za-z0-9_-]{32}$/)
    // The .env parses as ir rotate reads it, with no warnings.
    const parsed = parseDotenv(await readFile(join(dir, '.env'), 'utf8'), '.env')
    expect(parsed.warnings).toEqual([])
    expect(Object.fromEntries(parsed.entries.map((e) => [e.name, e.value]))).toEqual(env1)
    const dbSecret1 = (await readFile(join(dir, 'secrets/db_root_password.txt'), 'utf8')).trim()
    expect(dbSecret1).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(await readLabMarker(dir)).toMatchObject({kind: 'ir-lab', project: 'ir-lab', port: 18080, caseId: 'LAB-1'})

    // A second `up` into the same lab folder: new values everywhere, and files ir did not write are kept.
    await writeFile(join(dir, '.env.ir-backup-20261127T000000Z'), 'API_KEY=old\n', {mode: 0o600})
    await labIn(dir, {port: 18181})
    const env2 = await envOf(dir)
    expect(env2.API_KEY).not.toBe(env1.API_KEY)
    expect(env2.DB_PASSWORD).not.toBe(env1.DB_PASSWORD)
    expect(env2.IR_LAB_PORT).toBe('18181')
    expect((await readFile(join(dir, 'secrets/db_root_password.txt'), 'utf8')).trim()).not.toBe(dbSecret1)
    expect(await readFile(join(dir, '.env.ir-backup-20261127T000000Z'), 'utf8')).toBe('API_KEY=old\n')
    expect(await mode(join(dir, '.env'))).toBe(0o600)
  })

  it('refuses a folder that is not empty and not a lab folder, and writes nothing there', async () => {
    const dir = await tempDir('ir-lab-unit-')
    await writeFile(join(dir, 'compose.yml'), 'services: {mine: {image: x}}\n')
    await expect(labIn(dir)).rejects.toMatchObject({
      exitName: 'PRECONDITION',
      message: expect.stringContaining('not an ir lab folder'),
    })
    expect(await readFile(join(dir, 'compose.yml'), 'utf8')).toBe('services: {mine: {image: x}}\n')
    await expect(stat(join(dir, '.env'))).rejects.toThrow()
    expect(await removeLabDir(dir)).toBe(false)
    expect((await stat(join(dir, 'compose.yml'))).isFile()).toBe(true)
  })

  it('removes a folder only when it is a lab folder', async () => {
    const dir = join(await tempDir('ir-lab-unit-'), 'lab')
    await labIn(dir)
    expect(await removeLabDir(dir)).toBe(true)
    await expect(stat(dir)).rejects.toThrow()
  })

  it('validates the lab name as a compose project name', () => {
    expect(validateProjectName('ir-lab')).toBe('ir-lab')
    expect(validateProjectName('lab_2')).toBe('lab_2')
    for (const bad of ['', 'IR-Lab', '-x', 'a b', 'x/y', '../x'])
      expect(() => validateProjectName(bad)).toThrow(/Invalid lab name/)
  })
})

describe('the shipped compose project', () => {
  it('is valid YAML and labels every service, network, volume and built image ir.lab=true with the project', async () => {
    const dir = join(await tempDir('ir-lab-unit-'), 'lab')
    await labIn(dir, {project: 'lab-x', port: 18999})
    const env = await envOf(dir)
    const raw = await readFile(join(dir, 'compose.yml'), 'utf8')
    expect(raw).toBe(await readFile(join(LAB_TEMPLATE_DIR, 'compose.yml'), 'utf8'))
    // Interpolate as compose does, from the lab's .env.
    const doc = parse(substitute(raw, (n) => env[n])) as {
      services: Record<
        string,
        {
          labels: Record<string, string>
          build?: {labels: Record<string, string>; context: string; args: Record<string, string>}
          image?: string
          stop_grace_period: string
          ports?: string[]
          volumes?: string[]
          env_file?: string
          secrets?: string[]
          environment?: Record<string, string>
        }
      >
      networks: Record<string, {labels: Record<string, string>}>
      volumes: Record<string, {labels: Record<string, string>}>
      secrets: Record<string, {file: string}>
    }
    const want = {'ir.lab': 'true', 'ir.lab.project': 'lab-x'}
    expect(Object.keys(doc.services).sort()).toEqual(['db', 'web', 'worker'])
    for (const [name, s] of Object.entries(doc.services)) {
      expect(s.labels, name).toMatchObject(want)
      expect(s.stop_grace_period, name).toBe('1s')
    }
    for (const n of Object.values(doc.networks)) expect(n.labels).toMatchObject(want)
    for (const v of Object.values(doc.volumes)) expect(v.labels).toMatchObject(want)
    const {web, worker, db} = doc.services as Required<typeof doc.services>
    expect(web!.build!.labels).toMatchObject(want)
    expect(web!.build!.args.BASE_IMAGE).toBe('ir-test/busybox:latest')
    expect(worker!.image).toBe('ir-test/busybox:latest')
    expect(web!.ports).toEqual(['127.0.0.1:18999:80'])
    expect(web!.environment).toMatchObject({API_KEY: env.API_KEY, VNC_PASSWORD: 'vncpassword'})
    // The fake socket is the lab's own empty file, never the engine's.
    expect(web!.volumes).toEqual(['./run/docker.sock:/var/run/docker.sock'])
    expect(web!.volumes!.join(' ')).not.toMatch(/^\/var\/run\/docker\.sock/)
    expect(worker!.env_file).toBe('.env')
    expect(db!.secrets).toEqual(['db_root_password'])
    expect(doc.secrets.db_root_password!.file).toBe('./secrets/db_root_password.txt')
    // The Dockerfile builds on the local base image only and plants the compromise from its entrypoint.
    const dockerfile = await readFile(join(dir, 'web/Dockerfile'), 'utf8')
    expect(dockerfile).toMatch(/^FROM \$\{BASE_IMAGE\}$/m)
    expect(dockerfile).not.toMatch(/^RUN /m)
    const entry = await readFile(join(dir, 'web/entrypoint.sh'), 'utf8')
    expect(entry).toContain('/tmp/.x/miner.sh')
    expect(entry).toMatch(/nc -ll -p 4444/)
  })
})

describe('what ir lab up prints next', () => {
  it('uses the real container name, the case id and the folder as typed', () => {
    const steps = nextSteps({
      target: 'ir-lab-web-1',
      caseId: 'LAB-1',
      dir: '/home/me/ir-lab',
      project: 'ir-lab',
      cwd: '/home/me',
    })
    expect(steps.map((s) => s.command)).toEqual([
      'ir respond',
      'ir isolate --case LAB-1 ir-lab-web-1 --yes',
      'ir snapshot --case LAB-1 ir-lab-web-1 --yes',
      'ir collect --case LAB-1 ir-lab-web-1',
      'ir rotate --case LAB-1 --project-directory ./ir-lab',
      'ir rebuild --case LAB-1 --project-directory ./ir-lab --project-name ir-lab --offline',
      'ir report --case LAB-1',
      'ir lab down --dir ./ir-lab --yes',
    ])
  })

  it('shows folders outside the current one absolute, and quotes what a shell would split', () => {
    expect(displayPath('/tmp/lab', '/home/me')).toBe('/tmp/lab')
    expect(displayPath('/home/me/my lab', '/home/me')).toBe(`'./my lab'`)
    expect(displayPath('/home/me', '/home/me')).toBe('.')
  })
})

describe('the lab base image', () => {
  it('splits references like the engine', () => {
    expect(splitImageRef('ir-test/busybox:latest')).toEqual({repo: 'ir-test/busybox', tag: 'latest'})
    expect(splitImageRef('registry:5000/x')).toEqual({repo: 'registry:5000/x', tag: 'latest'})
    expect(splitImageRef('registry:5000/x:1.2')).toEqual({repo: 'registry:5000/x', tag: '1.2'})
  })

  it('tells a static ELF from a dynamic one', () => {
    const elf = (types: number[]): Buffer => {
      const b = Buffer.alloc(64 + types.length * 56)
      b.writeUInt32BE(0x7f454c46, 0)
      b[4] = 2
      b[5] = 1
      b.writeBigUInt64LE(64n, 0x20)
      b.writeUInt16LE(56, 0x36)
      b.writeUInt16LE(types.length, 0x38)
      types.forEach((t, i) => b.writeUInt32LE(t, 64 + i * 56))
      return b
    }
    expect(isStaticElf(elf([6, 1, 1]))).toBe(true)
    expect(isStaticElf(elf([6, 3, 1]))).toBe(false)
    expect(isStaticElf(Buffer.from('#!/bin/sh\n'))).toBeUndefined()
  })

  it('packs the rootfs of the test image recipe: busybox, applet links, users, /tmp 1777', async () => {
    const tar = await import('tar-stream')
    const bytes = await busyboxRootfsTar(Buffer.from('BUSYBOX'), ['busybox', 'sh', 'httpd', 'nc', '[', 'bad/name'])
    const entries = new Map<string, {type: string; mode: number; uid: number; linkname?: string; body: string}>()
    const ex = tar.extract()
    const done = new Promise<void>((resolve, reject) => {
      ex.on('entry', (h, stream, next) => {
        const chunks: Buffer[] = []
        stream.on('data', (c: unknown) => chunks.push(c as Buffer))
        stream.on('end', () => {
          entries.set(h.name, {
            type: h.type ?? 'file',
            mode: h.mode ?? 0,
            uid: h.uid ?? 0,
            ...(h.linkname ? {linkname: h.linkname} : {}),
            body: Buffer.concat(chunks).toString(),
          })
          next()
        })
      })
      ex.on('finish', resolve)
      ex.on('error', reject)
    })
    Readable.from([bytes]).pipe(ex)
    await done
    expect(entries.get('bin/busybox')).toMatchObject({type: 'file', mode: 0o755, body: 'BUSYBOX'})
    for (const a of ['sh', 'httpd', 'nc', '['])
      expect(entries.get(`bin/${a}`)).toMatchObject({type: 'symlink', linkname: 'busybox'})
    expect(entries.has('bin/bad/name')).toBe(false)
    expect([...entries.keys()].filter((k) => k === 'bin/busybox')).toHaveLength(1)
    expect(entries.get('tmp/')).toMatchObject({type: 'directory', mode: 0o1777})
    expect(entries.get('www/')?.type).toBe('directory')
    expect(entries.get('home/developer/')).toMatchObject({type: 'directory', uid: 1000})
    expect(entries.get('etc/passwd')?.body).toMatch(/^developer:x:1000:1000:/m)
    expect(entries.get('etc/passwd')?.body).toMatch(/^root:x:0:0:/m)
    expect(BASE_IMAGE_CHANGES).toEqual(['CMD ["/bin/sh"]', 'ENV PATH=/bin', 'LABEL ir.test=true'])
  })

  it('is not rebuilt when present, and a missing busybox is an error naming busybox-static', async () => {
    const present = new FakeEngine([])
    expect(await ensureBaseImage({engine: present, ref: 'ir-test/busybox:latest'})).toMatchObject({built: false})
    expect(present.calls).toEqual([])
    const missing = new FakeEngine([])
    ;(missing.images as {inspect: unknown}).inspect = async () => {
      throw engineFailure('inspect image ir-test/busybox:latest', 'No such image: ir-test/busybox:latest')
    }
    const dir = await tempDir('ir-lab-unit-')
    await expect(
      ensureBaseImage({engine: missing, ref: 'ir-test/busybox:latest', busyboxPath: join(dir, 'no-busybox')}),
    ).rejects.toMatchObject({
      exitName: 'NOT_FOUND',
      hint: expect.stringContaining('busybox-static'),
    })
    expect(missing.calls).toEqual([])
  })
})

describe('ir lab down removes the lab and nothing else (fake engine)', () => {
  function engineWith(o: {
    containers: ContainerSummary[]
    images: Array<{id: string; repoTags: string[]; labels: Record<string, string>}>
  }): FakeEngine {
    const e = new FakeEngine([])
    const lab = (labels: Record<string, string>, filters?: Record<string, string[]>): boolean =>
      (filters?.label ?? []).every((f) => labels[f.split('=')[0]!] === f.split('=')[1])
    Object.assign(e.containers, {
      list: async (opts?: {filters?: Record<string, string[]>}) =>
        o.containers.filter((c) => lab(c.labels, opts?.filters)),
      unpause: async (id: string) => {
        e.calls.push(`unpause ${id}`)
        const c = o.containers.find((x) => x.id === id)
        if (c) c.state = 'running'
        return 'done'
      },
      remove: async (id: string) => {
        e.calls.push(`remove ${id} (${o.containers.find((x) => x.id === id)?.state})`)
        o.containers = o.containers.filter((x) => x.id !== id)
        return 'done'
      },
    })
    Object.assign(e.images, {
      list: async (opts?: {filters?: Record<string, string[]>}) => o.images.filter((i) => lab(i.labels, opts?.filters)),
      inspect: async (ref: string) => {
        const i = o.images.find((x) => x.id === ref || x.repoTags.includes(ref))
        if (!i) throw engineFailure(`inspect image ${ref}`, `No such image: ${ref}`)
        return {id: i.id, repoTags: i.repoTags, labels: i.labels, created: '', size: 0, user: ''}
      },
      untag: async (ref: string) => {
        e.calls.push(`untag ${ref}`)
        o.images = o.images.filter((x) => !x.repoTags.includes(ref))
        return 'done'
      },
      remove: async (ref: string) => {
        e.calls.push(`remove image ${ref}`)
        return 'done'
      },
    })
    return e
  }

  it('unpauses an isolated container before removing it, keeps evidence and the base image, and never lists beyond the lab labels', async () => {
    const labLabels = {'ir.lab': 'true', 'ir.lab.project': 'ir-lab', 'com.docker.compose.project': 'ir-lab'}
    const c = (id: string, state: string, labels: Record<string, string>): ContainerSummary => ({
      id,
      names: [id],
      image: 'x',
      imageId: 'x',
      state,
      status: state,
      labels,
    })
    const e = engineWith({
      containers: [
        c('web', 'paused', labLabels),
        c('db', 'running', labLabels),
        c('other', 'running', {'com.docker.compose.project': 'shop'}),
        c('lab2', 'running', {'ir.lab': 'true', 'ir.lab.project': 'other-lab'}),
      ],
      images: [
        {id: 'sha256:web', repoTags: ['ir-lab_web:latest'], labels: {'ir.lab': 'true', 'ir.lab.project': 'ir-lab'}},
        {
          id: 'sha256:ev',
          repoTags: ['ir-evidence/lab-1:web'],
          labels: {'ir.lab': 'true', 'ir.lab.project': 'ir-lab', 'ir.evidence': 'true'},
        },
        {id: 'sha256:base', repoTags: ['ir-test/busybox:latest'], labels: {'ir.test': 'true'}},
        {id: 'sha256:shop', repoTags: ['shop_web:latest'], labels: {}},
      ],
    })
    const dir = await tempDir('ir-lab-unit-')
    const r = await labDown({
      engine: e,
      dir: join(dir, 'none'),
      project: 'ir-lab',
      baseImage: 'ir-test/busybox:latest',
      purgeDir: false,
    })
    expect(r.ok).toBe(true)
    expect(e.calls.indexOf('unpause web')).toBeGreaterThanOrEqual(0)
    expect(e.calls).toContain('remove web (running)')
    expect(e.calls).toContain('remove db (running)')
    expect(e.calls.filter((x) => /other|lab2/.test(x))).toEqual([])
    expect(e.calls.filter((x) => /untag|remove image/.test(x))).toEqual(['untag ir-lab_web:latest'])
    expect(r.kept).toEqual([
      expect.objectContaining({
        kind: 'image',
        name: 'ir-evidence/lab-1:web',
        detail: expect.stringContaining('evidence'),
      }),
    ])
    expect(r.compose).toMatchObject({ran: false})
  })

  it('run in the wrong folder: speaks of no lab folder that does not exist, and names the one compose recorded', async () => {
    const root = await tempDir('ir-lab-unit-')
    const real = join(root, 'real lab')
    await labIn(real)
    const labels = {
      'ir.lab': 'true',
      'ir.lab.project': 'ir-lab',
      'com.docker.compose.project': 'ir-lab',
      'com.docker.compose.project.working_dir': real,
    }
    const web: ContainerSummary = {
      id: 'web',
      names: ['web'],
      image: 'x',
      imageId: 'x',
      state: 'running',
      status: '',
      labels,
    }
    const down = (dir: string, purgeDir = false) =>
      labDown({
        engine: engineWith({containers: [{...web}], images: []}),
        dir,
        project: 'ir-lab',
        baseImage: 'ir-test/busybox:latest',
        purgeDir,
      })

    const nowhere = await down(join(root, 'ir-lab'))
    expect(nowhere).toMatchObject({folder: 'none', recordedDir: real, ok: true})
    const text = renderLabDown(nowhere)
    expect(text).not.toMatch(/lab folder .* is kept/)
    expect(text).toContain(`There is no folder ${join(root, 'ir-lab')}: nothing in it was touched.`)
    expect(text).toContain(
      `Compose recorded the lab's files in ${real}; remove them with: ir lab down --dir '${real}' --purge-dir --yes`,
    )
    // --purge-dir on a folder that does not exist: nothing is "kept" either.
    expect((await down(join(root, 'ir-lab'), true)).kept).toEqual([])

    const notLab = await down(root)
    expect(notLab.folder).toBe('not-a-lab')
    expect(renderLabDown(notLab)).toContain(`${root} is not a lab folder: nothing in it was touched.`)

    const right = await down(real)
    expect(right).toMatchObject({folder: 'lab'})
    expect(right.recordedDir).toBeUndefined()
    expect(renderLabDown(right)).toContain(`The lab folder ${real} is kept (--purge-dir removes it).`)
  })
})

describe('ir lab up: one at a time per lab name and per folder', () => {
  it('a second up refuses at once (PRECONDITION), for the same name or the same folder; the lock goes with the first', async () => {
    const root = await tempDir('ir-lab-lock-')
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    const first = withLabLock({project: 'ir-lab', dir: '/x/ir-lab', root}, () => held.then(() => 'first'))
    await new Promise((r) => setTimeout(r, 50))
    const started = Date.now()
    await expect(withLabLock({project: 'ir-lab', dir: '/y/other', root}, async () => 'second')).rejects.toMatchObject({
      exitName: 'PRECONDITION',
      message: 'Another ir lab up is already starting the lab "ir-lab"',
      hint: expect.stringContaining('ir lab status'),
    })
    await expect(withLabLock({project: 'lab-b', dir: '/x/ir-lab', root}, async () => 'third')).rejects.toMatchObject({
      exitName: 'PRECONDITION',
      message: 'Another ir lab up is already writing the lab folder /x/ir-lab',
    })
    expect(Date.now() - started).toBeLessThan(1000)
    // A refused second up released nothing of the first, and took nothing of its own.
    expect(await withLabLock({project: 'lab-c', dir: '/z', root}, async () => 'free')).toBe('free')
    release()
    expect(await first).toBe('first')
    expect(await withLabLock({project: 'ir-lab', dir: '/x/ir-lab', root}, async () => 'again')).toBe('again')
    expect(await readdir(root)).toEqual([])
  })
})
