import {cp, link, mkdir, readdir, readFile, rm, stat, symlink, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'
import {waitFor} from '../helpers/wait.js'

/**
 * `ir case verify` against deliberate edits: each tamper is made on a fresh copy of one honest case
 * (evidence from a real container, a containment record), and must give exit 6 naming what it found.
 * Then file-system faults (full disk, read-only folder, a file in the way) and one case per id
 * whatever the current folder.
 */
const t = new TestDocker('tamper')
let work: string
let honestRoot: string
const CASE = `TAMPER-${t.runId}`
let web: {id: string; name: string}

interface Artifact {
  id: string
  path: string
  sha256: string
  size: number
  collectedBy: string
}

beforeAll(async () => {
  work = await tempDir('ir-tamper-')
  honestRoot = join(work, 'honest')
  const env = {IR_INCIDENTS_DIR: honestRoot}
  const net = await t.network('net')
  web = await t.run('web', {cmd: ['sh', '-c', 'echo hello from web; exec sleep 3600'], network: net.name})
  for (const args of [
    ['isolate', web.name, '--case', CASE, '--yes'],
    ['collect', web.name, '--case', CASE],
    ['release', web.name, '--case', CASE, '--yes'],
  ]) {
    const r = await runIr(args, {env})
    expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  }
  const v = await runIr(['case', 'verify', CASE], {env})
  expect(v.exitCode, v.stdout).toBe(0)
})

afterAll(async () => {
  await t.cleanup()
})

let copies = 0
/** A fresh copy of the honest case under its own root. */
async function copyCase(): Promise<{root: string; dir: string}> {
  const root = join(work, `copy-${++copies}`)
  await mkdir(root)
  await cp(join(honestRoot, CASE), join(root, CASE), {recursive: true})
  return {root, dir: join(root, CASE)}
}

async function manifestOf(dir: string): Promise<{artifacts: Artifact[]}> {
  return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))
}

async function saveManifest(dir: string, m: unknown): Promise<void> {
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`)
}

const sha256 = async (file: string): Promise<string> => (await execa('sha256sum', [file])).stdout.split(' ')[0]!

const tampers: Array<{name: string; expect: RegExp; edit: (dir: string) => Promise<void>}> = [
  {name: 'manifest deleted', expect: /manifest.*is missing/, edit: (dir) => unlink(join(dir, 'manifest.json'))},
  {
    name: 'artifact changed with its manifest hash and size updated',
    expect: /SHA-256 \(chain [0-9a-f]{64}, manifest [0-9a-f]{64}\)/,
    edit: async (dir) => {
      const m = await manifestOf(dir)
      const a = m.artifacts[0]!
      await writeFile(join(dir, a.path), 'replaced by the attacker\n')
      a.sha256 = await sha256(join(dir, a.path))
      a.size = (await stat(join(dir, a.path))).size
      await saveManifest(dir, m)
    },
  },
  {
    name: 'artifact and its manifest entry deleted',
    expect: /was recorded in the audit chain but its manifest entry is gone/,
    edit: async (dir) => {
      const m = await manifestOf(dir)
      const a = m.artifacts.pop()!
      await unlink(join(dir, a.path))
      await saveManifest(dir, m)
    },
  },
  {
    name: 'provenance field edited (collectedBy)',
    expect: /provenance/,
    edit: async (dir) => {
      const m = await manifestOf(dir)
      m.artifacts[0]!.collectedBy = 'someone-else@elsewhere'
      await saveManifest(dir, m)
    },
  },
  {
    name: 'file added under evidence/',
    expect: /evidence\/planted\.txt is under evidence\/ but in neither the manifest nor the audit chain/,
    edit: (dir) => writeFile(join(dir, 'evidence', 'planted.txt'), 'not collected by ir\n'),
  },
  {
    name: 'artifact replaced by a symlink to an identical copy',
    expect: /is a symbolic link, not the file that was collected/,
    edit: async (dir) => {
      const a = (await manifestOf(dir)).artifacts[0]!
      const elsewhere = join(dir, '..', 'copy-of-artifact')
      await cp(join(dir, a.path), elsewhere)
      await unlink(join(dir, a.path))
      await symlink(elsewhere, join(dir, a.path))
    },
  },
  {
    name: 'artifact hard-linked from outside the case',
    expect: /hard link \(2 names\)/,
    edit: async (dir) => {
      const a = (await manifestOf(dir)).artifacts[0]!
      await link(join(dir, a.path), join(dir, '..', 'second-name'))
    },
  },
  {
    name: 'case.json title edited',
    expect: /case\.json was edited/,
    edit: async (dir) => {
      const meta = JSON.parse(await readFile(join(dir, 'case.json'), 'utf8'))
      meta.title = 'Nothing happened here'
      await writeFile(join(dir, 'case.json'), JSON.stringify(meta, null, 2))
    },
  },
  {
    name: 'state/containment.json edited',
    expect: /state\/containment\.json was edited/,
    edit: async (dir) => {
      const s = JSON.parse(await readFile(join(dir, 'state', 'containment.json'), 'utf8'))
      for (const r of Object.values<{status: string}>(s.containers)) r.status = 'isolated'
      await writeFile(join(dir, 'state', 'containment.json'), JSON.stringify(s, null, 2))
    },
  },
  {
    name: 'audit lines reordered',
    expect: /chain broken/,
    edit: async (dir) => {
      const lines = (await readFile(join(dir, 'audit.log'), 'utf8')).trimEnd().split('\n')
      ;[lines[2], lines[3]] = [lines[3]!, lines[2]!]
      await writeFile(join(dir, 'audit.log'), `${lines.join('\n')}\n`)
    },
  },
  {
    name: 'last audit line deleted',
    expect: /case\.json records \d+ audit lines but the log has \d+/,
    edit: async (dir) => {
      const lines = (await readFile(join(dir, 'audit.log'), 'utf8')).trimEnd().split('\n')
      await writeFile(join(dir, 'audit.log'), `${lines.slice(0, -1).join('\n')}\n`)
    },
  },
]

describe('ir case verify names every tamper', () => {
  for (const tamper of tampers) {
    it(`${tamper.name}: exit 6`, async () => {
      const {root, dir} = await copyCase()
      const before = await runIr(['case', 'verify', CASE], {env: {IR_INCIDENTS_DIR: root}})
      expect(before.exitCode, `the copy verifies before the tamper: ${before.stdout}`).toBe(0)
      await tamper.edit(dir)
      const r = await runIr(['case', 'verify', CASE], {env: {IR_INCIDENTS_DIR: root}})
      expect(r.exitCode, r.stdout + r.stderr).toBe(6)
      expect(r.stdout).toMatch(tamper.expect)
      expect(r.stdout).toMatch(/FAILED verification/)
      const j = await runIr(['case', 'verify', CASE, '--json'], {env: {IR_INCIDENTS_DIR: root}})
      expect(j.exitCode).toBe(6)
      const result = JSON.parse(j.stdout)
      expect(result.ok).toBe(false)
      expect(result.problems.length).toBeGreaterThan(0)
    })
  }

  it('the chain and the manifest agree entry by entry on the honest case (sha256sum -c agrees too)', async () => {
    const dir = join(honestRoot, CASE)
    const m = await manifestOf(dir)
    const sums = m.artifacts.map((a) => `${a.sha256}  ${a.path}`).join('\n')
    const r = await execa('sha256sum', ['-c', '--strict', '-'], {cwd: dir, input: `${sums}\n`, reject: false})
    expect(r.exitCode, r.stdout + r.stderr).toBe(0)
    const audit = (await readFile(join(dir, 'audit.log'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    const added = audit
      .filter((l) => l.action === 'evidence.add')
      .map((l) => l.details.path)
      .sort()
    expect(added).toEqual(m.artifacts.map((a) => a.path).sort())
    expect(audit.some((l) => l.action === 'case.state' && l.details.path === 'state/containment.json')).toBe(true)
  })
})

describe('file-system faults: exit 5, one line, no lock left', () => {
  const asRoot = process.getuid?.() === 0

  function oneLine(stderr: string): void {
    expect(stderr).not.toMatch(/\n\s+at /)
    expect(stderr).not.toMatch(/This is a bug/)
    expect(stderr.split('\n').filter((l) => l.startsWith('Error: '))).toHaveLength(1)
  }

  async function locksUnder(dir: string): Promise<string[]> {
    const out: string[] = []
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, {withFileTypes: true}).catch(() => [])) {
        if (e.name.endsWith('.ir-lock') || e.name === '.ir-lock' || e.name.endsWith('.lock')) out.push(join(d, e.name))
        else if (e.isDirectory()) await walk(join(d, e.name))
      }
    }
    await walk(dir)
    return out
  }

  it('IR_INCIDENTS_DIR naming a file', async () => {
    const file = join(work, 'not-a-folder')
    await writeFile(file, 'x')
    for (const args of [
      ['case', 'create', 'X-1'],
      ['case', 'event', 'X-1', '-m', 'hi'],
      ['collect', web.name],
    ]) {
      const r = await runIr(args, {env: {IR_INCIDENTS_DIR: file}})
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(5)
      oneLine(r.stderr)
      expect(r.stderr).toMatch(/Not a folder|No such|not a folder/i)
    }
  })

  it.skipIf(!asRoot)('a read-only bind mount of the incidents folder', async () => {
    const rw = join(work, 'rw')
    const ro = join(work, 'ro')
    await mkdir(rw)
    await mkdir(ro)
    const id = `RO-${t.runId}`
    expect((await runIr(['case', 'create', id], {env: {IR_INCIDENTS_DIR: rw}})).exitCode).toBe(0)
    await execa('mount', ['--bind', rw, ro])
    try {
      await execa('mount', ['-o', 'remount,bind,ro', ro])
      const before = await readFile(join(rw, id, 'audit.log'), 'utf8')
      for (const args of [
        ['case', 'event', id, '-m', 'hello'],
        ['collect', web.name, '--case', id],
        ['snapshot', web.name, '--case', id, '--yes'],
        ['case', 'create', 'RO-NEW'],
      ]) {
        const r = await runIr(args, {env: {IR_INCIDENTS_DIR: ro}})
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(5)
        oneLine(r.stderr)
        expect(r.stderr).toMatch(/Read-only file system/)
      }
      expect(await readFile(join(rw, id, 'audit.log'), 'utf8')).toBe(before)
      expect(await locksUnder(rw)).toEqual([])
      // Reading still works on a read-only copy.
      expect((await runIr(['case', 'verify', id], {env: {IR_INCIDENTS_DIR: ro}})).exitCode).toBe(0)
    } finally {
      await execa('umount', [ro], {reject: false})
    }
  })

  it.skipIf(!asRoot)(
    'a full disk (8 MB tmpfs) during a snapshot: the partial is kept and the failure is in the audit',
    async () => {
      const mnt = join(work, 'tmpfs')
      await mkdir(mnt)
      await execa('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt])
      const big = await t.run('big', {
        cmd: ['sh', '-c', 'dd if=/dev/urandom of=/blob bs=1048576 count=20 2>/dev/null; touch /ready; exec sleep 3600'],
      })
      try {
        await waitFor(
          async () =>
            (await execa('docker', ['exec', big.name, 'test', '-f', '/ready'], {reject: false})).exitCode === 0,
          {timeout: 60_000, interval: 500, what: 'the test container to write its data'},
        )
        const id = `FULL-${t.runId}`
        const env = {IR_INCIDENTS_DIR: mnt}
        expect((await runIr(['case', 'create', id], {env})).exitCode).toBe(0)
        const r = await runIr(['snapshot', big.name, '--case', id, '--yes'], {env})
        expect(r.exitCode, r.stderr).toBe(5)
        // Which write meets the full disk first depends on timing: either the whole command fails in one
        // "Error:" line, or the snapshot ends partial with one line per failed step. Both exit 5, both
        // keep the partial, and both put the failure in the audit.
        expect(r.stderr).not.toMatch(/\n\s+at /)
        expect(r.stderr).not.toMatch(/This is a bug/)
        expect(r.stderr.split('\n').filter((l) => l.startsWith('Error: ')).length).toBeLessThanOrEqual(1)
        expect(r.stderr).toMatch(/No space left on device writing .*\.partial: \d+ bytes written, kept as \.partial/)
        expect(await locksUnder(mnt)).toEqual([])
        const audit = (await readFile(join(mnt, id, 'audit.log'), 'utf8'))
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l))
        // The command's failure, or the snapshot's own line: partial with its failed steps, or failed with its error.
        const failure = [
          audit.find((l) => l.action === 'command.failed')?.msg ?? '',
          JSON.stringify(
            audit.find((l) => l.action === 'snapshot' && l.outcome === 'partial')?.details?.failures ?? '',
          ),
          audit.find((l) => l.action === 'snapshot' && l.outcome === 'failure')?.msg ?? '',
        ].join('\n')
        // A step that met the full disk names its .partial; a whole command that failed names the file it
        // could not write (an artifact's .partial, audit.log or case.json), never "somewhere".
        expect(failure).toMatch(/No space left on device (?:while )?writing \/\S+/)
        const partials = (await readdir(join(mnt, id, 'evidence', big.name))).filter((f) => f.endsWith('.partial'))
        expect(partials.length).toBeGreaterThan(0)
        const v = await runIr(['case', 'verify', id, '--json'], {env})
        expect(v.exitCode, v.stdout).toBe(0)
        expect(JSON.parse(v.stdout).partials.length).toBeGreaterThan(0)
      } finally {
        await execa('umount', ['-l', mnt], {reject: false})
      }
    },
  )
})

describe('one case, one folder', () => {
  it('the same id from two folders opens one case folder (root from the config file)', async () => {
    const home = join(work, 'home')
    const root = join(work, 'config-root')
    await mkdir(join(home, '.config', 'ir'), {recursive: true})
    await writeFile(join(home, '.config', 'ir', 'config.json'), JSON.stringify({incidentsDir: root}))
    const a = join(work, 'folder-a')
    const b = join(work, 'folder-b')
    await mkdir(a)
    await mkdir(b)
    const env = {HOME: home, XDG_CONFIG_HOME: join(home, '.config')}
    const id = `ONE-${t.runId}`
    expect((await runIr(['case', 'create', id], {env, cwd: a})).exitCode).toBe(0)
    const e = await runIr(['case', 'event', id, '-m', 'from the other folder'], {env, cwd: b})
    expect(e.exitCode, e.stderr).toBe(0)
    expect(await readdir(root)).toEqual([id])
    await expect(stat(join(a, 'incidents'))).rejects.toThrow()
    await expect(stat(join(b, 'incidents'))).rejects.toThrow()
    const lines = (await readFile(join(root, id, 'audit.log'), 'utf8')).trimEnd().split('\n')
    expect(lines.map((l) => JSON.parse(l).action)).toEqual(['case.open', 'timeline.event'])
    // --incidents-dir wins over IR_INCIDENTS_DIR, which wins over the config file.
    const flagRoot = join(work, 'flag-root')
    const envRoot = join(work, 'env-root')
    expect(
      (await runIr(['case', 'create', 'P-1', '--incidents-dir', flagRoot], {env: {...env, IR_INCIDENTS_DIR: envRoot}}))
        .exitCode,
    ).toBe(0)
    expect((await runIr(['case', 'create', 'P-2'], {env: {...env, IR_INCIDENTS_DIR: envRoot}})).exitCode).toBe(0)
    expect(await readdir(flagRoot)).toEqual(['P-1'])
    expect(await readdir(envRoot)).toEqual(['P-2'])
  })

  it('a case in an older ./incidents still opens, with a note, and is never created a second time', async () => {
    const project = join(work, 'legacy-project')
    const id = `OLD-${t.runId}`
    expect((await runIr(['case', 'create', id], {env: {IR_INCIDENTS_DIR: join(project, 'incidents')}})).exitCode).toBe(
      0,
    )
    const home = join(work, 'home-legacy')
    const newRoot = join(work, 'new-root')
    await mkdir(join(home, '.config', 'ir'), {recursive: true})
    await writeFile(join(home, '.config', 'ir', 'config.json'), JSON.stringify({incidentsDir: newRoot}))
    const env = {HOME: home, XDG_CONFIG_HOME: join(home, '.config')}
    const r = await runIr(['case', 'event', id, '-m', 'still here'], {env, cwd: project})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/the \.\/incidents folder of an older ir/)
    expect(await readFile(join(project, 'incidents', id, 'audit.log'), 'utf8')).toMatch(/still here/)
    await expect(stat(join(newRoot, id))).rejects.toThrow()
    await rm(project, {recursive: true, force: true})
  })

  it('a command that fails before it changed anything leaves no new case; --case "" is refused', async () => {
    const root = join(work, 'untouched-root')
    const env = {IR_INCIDENTS_DIR: root}
    const r = await runIr(['snapshot', `no-such-container-${t.runId}`, '--case', 'NEVER-1', '--yes'], {env})
    expect(r.exitCode).toBe(4)
    expect(r.stderr).toMatch(/removed again/)
    expect(await readdir(root).catch(() => [])).toEqual([])
    const empty = await runIr(['collect', web.name, '--case', ''], {env})
    expect(empty.exitCode, empty.stderr).toBe(2)
    expect(empty.stderr).toMatch(/case id is empty/)
    expect(await readdir(root).catch(() => [])).toEqual([])
  })
})
