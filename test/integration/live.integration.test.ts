import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {readdir, readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {filesContaining, runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

// Live state from /proc (issue 15): a container running a miner stand-in from /tmp/.x, a listener on 4444, a
// process whose executable was deleted after it started, a value that exists only in a shell's memory, and an
// established TCP connection to a peer container of this test.
const t = new TestDocker('live')
let env: Record<string, string>
let incidents: string
const CASE = `CASE-LIVE-${t.runId}`
const SECRET = `pw-${t.runId}-secretvalue`
// Built at run time from two halves and arithmetic: never on disk, never on a command line.
const MEMVALUE = `MEMV${'ALUE'}-${6_172_839 * 2}`
let victim: {id: string; name: string}
let peerIp: string

interface ManifestArtifact {
  path: string
  type: string
  sha256: string
  size: number
}

const manifest = async (): Promise<ManifestArtifact[]> =>
  JSON.parse(await readFile(join(incidents, CASE, 'manifest.json'), 'utf8')).artifacts

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const c of createReadStream(path)) h.update(c as Buffer)
  return h.digest('hex')
}

/** Does the file hold this text? Read in chunks with an overlap, so memory stays flat. */
async function fileHolds(path: string, needle: string): Promise<boolean> {
  let tail = ''
  for await (const c of createReadStream(path, {encoding: 'latin1', highWaterMark: 1 << 20})) {
    const s = tail + (c as string)
    if (s.includes(needle)) return true
    tail = s.slice(-needle.length)
  }
  return false
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await fn()) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`timed out waiting for ${what}`)
}

beforeAll(async () => {
  incidents = await tempDir()
  env = {IR_INCIDENTS_DIR: incidents}
  const net = await t.network('net')
  const peer = await t.run('peer', {cmd: ['sh', '-c', 'sleep 3600 | nc -ll -p 5555'], network: net.name})
  peerIp = Object.values((await t.inspect(peer.id)).NetworkSettings.Networks)[0]!.IPAddress
  const script = [
    'mkdir -p /tmp/.x',
    `echo 'while :; do sleep 3600; done' > /tmp/.x/miner.sh`,
    'sh /tmp/.x/miner.sh &',
    'nc -ll -p 4444 </dev/null &',
    'cp /bin/busybox /tmp/.x/sleep',
    '/tmp/.x/sleep 3600 &',
    'sleep 1',
    'rm /tmp/.x/sleep',
    `(sleep 3600 | nc ${peerIp} 5555) &`,
    'a=MEMV; b=ALUE; v="${a}${b}-$((6172839*2))"',
    'while :; do sleep 3600; done',
  ].join('\n')
  victim = await t.run('victim', {cmd: ['sh', '-c', script], network: net.name, env: [`DB_PASSWORD=${SECRET}`]})
  await waitFor('the victim to delete its executable and connect', async () => {
    const r = await execa('docker', ['exec', victim.id, 'sh', '-c', 'netstat -tn; ls /tmp/.x'], {
      reject: false,
      timeout: 10_000,
    })
    return r.stdout.includes(`${peerIp}:5555`) && r.stdout.includes('ESTABLISHED') && !/\bsleep\b/.test(r.stdout)
  })
}, 60_000)

afterAll(async () => {
  await t.cleanup()
})

describe('live state captured from /proc while the container is frozen', () => {
  let snap: {live: {status: string; processes: number; frozen: boolean}; artifacts: Array<{path: string; type: string}>}
  let live: string

  it('ir snapshot captures the processes, sockets, executables and memory, and leaves the container running', async () => {
    const r = await runIr(['snapshot', victim.name, '--case', CASE, '--yes', '--no-export', '--memory', '--json'], {
      env,
    })
    expect(r.exitCode, r.stderr).toBe(0)
    snap = JSON.parse(r.stdout).containers[0]
    expect(snap.live.status).toBe('captured')
    expect(snap.live.frozen).toBe(true)
    expect(snap.live.processes).toBeGreaterThanOrEqual(7)
    expect((await t.inspect(victim.id)).State.Status).toBe('running')
    const p = snap.artifacts.find((a) => a.type === 'live-processes')!.path
    live = join(incidents, CASE, p.replace(/\/processes\.json$/, ''))
    // Every live artifact is in the manifest with the hash of its bytes on disk.
    const byPath = new Map((await manifest()).map((a) => [a.path, a]))
    for (const a of snap.artifacts.filter((x) => x.path.includes('/live-'))) {
      const m = byPath.get(a.path)!
      expect(m, a.path).toBeDefined()
      expect(await sha256(join(incidents, CASE, a.path))).toBe(m.sha256)
    }
  })

  it('holds every process with its command line, and redacts the environment', async () => {
    const doc = JSON.parse(await readFile(join(live, 'processes.json'), 'utf8'))
    const ps = doc.processes as Array<{nspid: number; cmdline: string[]; environ: string[]; name: string}>
    const top = await execa('docker', ['exec', victim.id, 'ps', '-o', 'pid,args'], {timeout: 10_000})
    for (const line of top.stdout.split('\n').slice(1)) {
      const [pid, ...args] = line.trim().split(/\s+/)
      if (args[0] === 'ps') continue // the ps itself
      const p = ps.find((x) => x.nspid === Number(pid))
      expect(p, `process ${pid} ${args.join(' ')}`).toBeDefined()
    }
    expect(ps.some((p) => p.cmdline.join(' ') === 'sh /tmp/.x/miner.sh')).toBe(true)
    expect(ps.some((p) => p.cmdline.join(' ') === 'nc -ll -p 4444')).toBe(true)
    expect(ps[0]!.environ).toContain('DB_PASSWORD=[REDACTED]')
    expect(
      await filesContaining(join(incidents, CASE), SECRET).then((f) => f.filter((x) => !x.endsWith('.raw'))),
    ).toEqual([])
  })

  it('recovers the deleted executable with the SHA-256 of the original file', async () => {
    const doc = JSON.parse(await readFile(join(live, 'processes.json'), 'utf8'))
    const p = (doc.processes as Array<{exe?: {path: string; deleted: boolean; sha256: string; artifact: string}}>).find(
      (x) => x.exe?.path === '/tmp/.x/sleep',
    )!
    expect(p.exe!.deleted).toBe(true)
    const original = await execa('docker', ['exec', victim.id, 'sha256sum', '/bin/busybox'], {timeout: 10_000})
    const want = original.stdout.split(/\s+/)[0]
    expect(p.exe!.sha256).toBe(want)
    expect(await sha256(join(incidents, CASE, p.exe!.artifact))).toBe(want)
    expect((await stat(join(incidents, CASE, p.exe!.artifact))).mode & 0o777).toBe(0o600)
  })

  it('maps the listener and the established connection to their processes', async () => {
    const doc = JSON.parse(await readFile(join(live, 'sockets.json'), 'utf8'))
    const sockets = doc.sockets as Array<{
      proto: string
      state: string
      local: {port: number}
      remote: {address: string; port: number}
      processes: Array<{nspid: number; name: string}>
    }>
    const listener = sockets.find((s) => s.state === 'LISTEN' && s.local?.port === 4444)!
    expect(listener, JSON.stringify(sockets)).toBeDefined()
    expect(listener.processes.map((p) => p.name)).toContain('nc')
    const conn = sockets.find((s) => s.state === 'ESTABLISHED' && s.remote?.port === 5555)!
    expect(conn, JSON.stringify(sockets)).toBeDefined()
    expect(conn.remote.address.replace(/^::ffff:/, '')).toBe(peerIp)
    expect(conn.processes[0]?.name).toBe('nc')
    expect(conn.processes[0]?.nspid).toBeGreaterThan(1)
  })

  it('finds the value that exists only in memory in the memory evidence', async () => {
    const raws = snap.artifacts.filter((a) => a.type === 'process-memory')
    expect(raws.length).toBeGreaterThan(0)
    const holding: string[] = []
    for (const a of raws) if (await fileHolds(join(incidents, CASE, a.path), MEMVALUE)) holding.push(a.path)
    expect(holding.length).toBeGreaterThan(0)
    // It is in no other file of the case: nothing copies memory contents out.
    const elsewhere = (await filesContaining(join(incidents, CASE), MEMVALUE)).filter((f) => !f.endsWith('.raw'))
    expect(elsewhere).toEqual([])
    const index = JSON.parse(
      await readFile(join(incidents, CASE, holding[0]!.replace(/\.raw$/, '.regions.json')), 'utf8'),
    )
    const total = (index.regions as Array<{bytes: number}>).reduce((n, r) => n + r.bytes, 0)
    expect(total).toBe((await stat(join(incidents, CASE, holding[0]!))).size)
    expect((await stat(join(incidents, CASE, holding[0]!))).mode & 0o777).toBe(0o600)
  })

  it('names what happened: the script from /tmp/.x, the deleted executable, the listener, the connection', async () => {
    const r = await runIr(['snapshot', victim.name, '--case', CASE, '--yes', '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout).containers[0]
    const f = s.findings as Array<{id: string; severity: string; message: string; artifact: string; path?: string}>
    const find = (id: string, re: RegExp) => f.find((x) => x.id === id && re.test(x.message))
    expect(find('dropped-executable', /\/tmp\/\.x\/miner\.sh/), JSON.stringify(f)).toBeDefined()
    expect(find('writable-path-script', /\/tmp\/\.x\/miner\.sh/)).toBeDefined()
    expect(find('hidden-folder', /\/tmp\/\.x/)).toBeDefined()
    expect(find('deleted-executable', /\/tmp\/\.x\/sleep/)?.severity).toBe('critical')
    expect(find('unexpected-listener', /tcp 4444.*nc/)).toBeDefined()
    expect(find('known-shape', /netcat/)).toBeDefined()
    // The peer is another container of this test: a private address, still a connection out worth naming.
    expect(find('remote-connection', new RegExp(`${peerIp.replace(/\./g, '\\.')}:5555`))).toBeDefined()
    // Each names an artifact of the case, and the findings file is one too.
    const paths = new Set((await manifest()).map((a) => a.path))
    for (const x of f) expect(paths.has(x.artifact), x.artifact).toBe(true)
    expect(s.artifacts.some((a: {type: string}) => a.type === 'findings')).toBe(true)
    // The human view says it in plain words.
    const h = await runIr(['snapshot', victim.name, '--case', CASE, '--yes', '--no-export'], {env})
    expect(h.stdout).toMatch(/what the evidence shows/)
    expect(h.stdout).toMatch(/CRITICAL\s+process \d+ \(sleep\) runs an executable deleted from disk: \/tmp\/\.x\/sleep/)
    // The report's "What happened" shows them, with the IOCs: the recovered binary's SHA-256, the peer's address.
    const out = await tempDir()
    const rep = await runIr(['report', '--case', CASE, '--format', 'md', '--output', out, '--no-input'], {env})
    expect(rep.exitCode, rep.stderr).toBe(0)
    const md = await readFile(
      join(
        out,
        (await readdir(out)).find((n) => n.endsWith('.md'))!,
      ),
      'utf8',
    )
    const section = md.slice(md.indexOf('### What happened'), md.indexOf('## 3.'))
    expect(section).toMatch(/runs an executable deleted from disk: \/tmp\/\.x\/sleep/)
    expect(section).toMatch(/\/tmp\/\.x\/miner\.sh/)
    expect(section).toMatch(/listening on tcp 4444/)
    const deleted = f.find((x) => x.id === 'deleted-executable')!
    expect(section).toContain(deleted.artifact.split('/').pop())
    expect(section).toContain(`${peerIp}:5555`)
    expect(section).not.toContain(MEMVALUE)
    // The process tree: the miner under the container's shell, the listener and the deleted binary flagged.
    expect(section).toMatch(/\*\*Process tree of /)
    expect(section).toMatch(/^ {2}- ⚑ \d+ \*\*sh\*\*: sh \/tmp\/\.x\/miner\.sh$/m)
    expect(section).toMatch(/^ {2}- ⚑ \d+ \*\*nc\*\*: nc -ll -p 4444$/m)
    expect(section).toMatch(/^ {2}- ⚑ \d+ \*\*sleep\*\*: \/tmp\/\.x\/sleep 3600$/m)
    expect(section).not.toContain(SECRET)
    // The IOCs as a STIX 2.1 bundle: the recovered binary by its hash, the peer by its address and port.
    const stix = await runIr(['case', 'iocs', CASE, '--format', 'stix'], {env})
    expect(stix.exitCode, stix.stderr).toBe(0)
    const bundle = JSON.parse(stix.stdout) as {type: string; objects: Array<Record<string, unknown>>}
    expect(bundle.type).toBe('bundle')
    const exeSha = (JSON.parse(r.stdout).containers[0].findings as Array<{id: string; iocs?: Array<{sha256?: string}>}>)
      .find((x) => x.id === 'deleted-executable')!
      .iocs!.find((i) => i.sha256)!.sha256!
    expect(
      bundle.objects.some((o) => o.type === 'indicator' && o.pattern === `[file:hashes.'SHA-256' = '${exeSha}']`),
    ).toBe(true)
    expect(bundle.objects.some((o) => o.type === 'ipv4-addr' && o.value === peerIp)).toBe(true)
    const csv = await runIr(['case', 'iocs', CASE], {env})
    expect(csv.stdout.split('\r\n')[0]).toBe('case_id,container,type,value,sha256')
    expect(csv.stdout).toContain(`address,${peerIp}:5555`)
    expect(stix.stdout + csv.stdout).not.toContain(MEMVALUE)
  })

  it('reads a paused container from /proc too (Podman refuses top there), and leaves it paused', async () => {
    await t.docker.getContainer(victim.id).pause()
    try {
      const r = await runIr(['snapshot', victim.name, '--case', CASE, '--yes', '--no-export', '--json'], {env})
      expect(r.exitCode, r.stderr).toBe(0)
      const s = JSON.parse(r.stdout).containers[0]
      expect(s.live).toMatchObject({status: 'captured', frozen: true})
      expect(s.live.processes).toBe(snap.live.processes)
      expect((await t.inspect(victim.id)).State.Status).toBe('paused')
    } finally {
      await t.docker.getContainer(victim.id).unpause()
    }
  })

  it('without --memory the live state has no dumps; --no-live skips it; the case verifies', async () => {
    const r = await runIr(['snapshot', victim.name, '--case', CASE, '--yes', '--no-export', '--json'], {
      env,
    })
    expect(r.exitCode, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout).containers[0]
    expect(s.live.status).toBe('captured')
    expect(s.artifacts.filter((a: {type: string}) => a.type === 'process-memory')).toEqual([])
    expect(s.artifacts.some((a: {type: string}) => a.type === 'live-sockets')).toBe(true)
    const n = await runIr(['snapshot', victim.name, '--case', CASE, '--yes', '--no-export', '--no-live', '--json'], {
      env,
    })
    expect(n.exitCode, n.stderr).toBe(0)
    expect(JSON.parse(n.stdout).containers[0].live).toBeUndefined()
    const v = await runIr(['case', 'verify', CASE], {env})
    expect(v.exitCode, v.stdout + v.stderr).toBe(0)
  })

  it('two snapshots at once of one running container both read it frozen, one after the other; it ends running', async () => {
    const args = ['snapshot', victim.name, '--case', CASE, '--yes', '--no-export', '--memory', '--json']
    const [a, b] = await Promise.all([runIr(args, {env}), runIr(args, {env})])
    for (const r of [a, b]) {
      expect(r.exitCode, r.stderr).toBe(0)
      const s = JSON.parse(r.stdout).containers[0]
      // frozen is checked after the last read: an unpause by the other snapshot in between would make it false.
      expect(s.live).toMatchObject({status: 'captured', frozen: true})
      const doc = JSON.parse(
        await readFile(
          join(incidents, CASE, s.artifacts.find((x: {type: string}) => x.type === 'live-processes').path),
          'utf8',
        ),
      )
      expect(doc.frozen).toBe(true)
    }
    expect((await t.inspect(victim.id)).State.Status).toBe('running')
  })

  it('ir isolate --capture reads the connection with its process before the cut; snapshots leave it paused', async () => {
    const r = await runIr(['isolate', victim.name, '--case', CASE, '--yes', '--capture', '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const c = JSON.parse(r.stdout).containers[0]
    expect(c.status).toBe('isolated')
    expect(c.live).toMatchObject({status: 'captured', frozen: true})
    const path = (c.evidence as string[]).find((p) => p.endsWith('/sockets.json'))!
    expect(path, JSON.stringify(c.evidence)).toBeDefined()
    const doc = JSON.parse(await readFile(join(incidents, CASE, path), 'utf8'))
    const conn = (
      doc.sockets as Array<{
        state: string
        remote?: {address: string; port: number}
        processes: Array<{pid: number; name: string}>
      }>
    ).find((s) => s.state === 'ESTABLISHED' && s.remote?.port === 5555)!
    expect(conn, JSON.stringify(doc.sockets)).toBeDefined()
    expect(conn.remote!.address.replace(/^::ffff:/, '')).toBe(peerIp)
    expect(conn.processes[0]?.name).toBe('nc')
    expect(conn.processes[0]?.pid).toBeGreaterThan(1)
    // And after the capture, the cut: no endpoint left.
    const after = await t.inspect(victim.id)
    expect(after.State.Status).toBe('paused')
    expect(Object.keys(after.NetworkSettings.Networks ?? {})).toEqual([])
    // The capture is in the manifest and in the isolate's audit entry.
    const paths = new Set((await manifest()).map((a) => a.path))
    expect(paths.has(path)).toBe(true)
    const audit = (await readFile(join(incidents, CASE, 'audit.log'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as {action: string; details?: {evidence?: string[]; live?: {status: string}}})
    expect(
      audit.some(
        (e) => e.action === 'isolate' && e.details?.evidence?.includes(path) && e.details.live?.status === 'captured',
      ),
    ).toBe(true)
    // Two snapshots of the isolated container at once: both read it frozen, and neither unpauses it.
    const args = ['snapshot', victim.name, '--case', CASE, '--yes', '--no-export', '--json']
    const both = await Promise.all([runIr(args, {env}), runIr(args, {env})])
    for (const s of both) {
      expect(s.exitCode, s.stderr).toBe(0)
      expect(JSON.parse(s.stdout).containers[0].live).toMatchObject({status: 'captured', frozen: true})
    }
    expect((await t.inspect(victim.id)).State.Status).toBe('paused')
  })
})
