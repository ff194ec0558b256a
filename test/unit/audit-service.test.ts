import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
import {verifyCase} from '../../src/case/verify.js'
import type {
  ContainerClient,
  ContainerDetails,
  ContainerSummary,
  Engine,
  ImageClient,
  ImageInfo,
} from '../../src/docker/types.js'
import {AbortError} from '../../src/errors.js'
import {auditContainers, hasFindingsAtOrAbove} from '../../src/services/audit.js'
import {
  cgroupNamesContainer,
  hostUidToContainer,
  observePid1,
  parseStatusUid,
  parseUidMap,
  pid1FromTop,
} from '../../src/services/audit/pid1.js'
import {tempDir} from '../helpers/cli.js'

const ID_WEAK = 'a1'.repeat(32)
const ID_GOOD = 'b2'.repeat(32)

function details(
  id: string,
  name: string,
  raw: Record<string, unknown>,
  extra: Partial<ContainerDetails> = {},
): ContainerDetails {
  return {
    id,
    name,
    image: 'shop/web:1',
    imageId: 'sha256:img',
    state: 'running',
    pid: 4242,
    networkMode: 'default',
    endpoints: [],
    mounts: [],
    labels: {},
    logDriver: 'json-file',
    raw: {Id: id, Name: `/${name}`, ...raw},
    ...extra,
  }
}

const GOOD_RAW = {
  Config: {User: '1000', Healthcheck: {Test: ['CMD', 'true']}},
  HostConfig: {
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    ReadonlyRootfs: true,
    Memory: 1 << 26,
    NanoCpus: 5e8,
    PidsLimit: 64,
    RestartPolicy: {Name: 'on-failure', MaximumRetryCount: 3},
    LogConfig: {Type: 'json-file', Config: {'max-size': '1m', 'max-file': '2'}},
  },
}
const WEAK_RAW = {
  Config: {User: ''},
  HostConfig: {Privileged: true},
  Mounts: [{Type: 'bind', Source: '/tmp/docker.sock', Destination: '/var/run/docker.sock', RW: true}],
}

interface FakeOpts {
  containers: ContainerDetails[]
  summaries?: ContainerSummary[]
  top?: (id: string, psArgs?: string) => Promise<{titles: string[]; processes: string[][]}>
  image?: Partial<ImageInfo>
}

/** An Engine fake: only what the audit service calls; anything else is a test bug. */
function fakeEngine(o: FakeOpts): Engine & {calls: string[]} {
  const calls: string[] = []
  const summaries =
    o.summaries ??
    o.containers.map((c) => ({id: c.id, names: [c.name], image: c.image, state: c.state, status: '', labels: c.labels}))
  const containers = {
    async list(opts?: {all?: boolean; filters?: Record<string, string[]>}) {
      calls.push(`list ${JSON.stringify(opts ?? {})}`)
      const label = opts?.filters?.label?.[0]
      return summaries
        .filter(
          (s) =>
            !label ||
            `${Object.entries(s.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join('\n')}`
              .split('\n')
              .includes(label),
        )
        .filter((s) => opts?.all !== false || s.state === 'running')
    },
    async inspect(id: string) {
      calls.push(`inspect ${id}`)
      const c = o.containers.find((x) => x.id === id)
      if (!c) throw new AbortError(`No such container: ${id}`, {exit: 'NOT_FOUND'})
      return c
    },
    async top(id: string, psArgs?: string) {
      calls.push(`top ${id} ${psArgs}`)
      if (!o.top) throw new Error('top not expected')
      return o.top(id, psArgs)
    },
  } as unknown as ContainerClient
  const images = {
    async inspect(ref: string) {
      calls.push(`image ${ref}`)
      return {id: ref, repoTags: [], labels: {}, created: '2026-11-20T00:00:00Z', size: 1, user: '', ...o.image}
    },
  } as unknown as ImageClient
  const forbidden = (): never => {
    throw new Error('not expected')
  }
  return {
    endpoint: 'unix:///fake.sock',
    containers,
    images,
    networks: {} as Engine['networks'],
    swarm: {} as Engine['swarm'],
    volumes: {} as Engine['volumes'],
    ping: forbidden,
    info: forbidden,
    events: forbidden,
    swarmObjects: forbidden,
    calls,
  }
}

async function fakeProc(pid: number, files: {cgroup: string; status: string; uid_map?: string}): Promise<string> {
  const root = await tempDir('ir-proc-')
  await mkdir(join(root, String(pid)))
  await writeFile(join(root, String(pid), 'cgroup'), files.cgroup)
  await writeFile(join(root, String(pid), 'status'), files.status)
  if (files.uid_map !== undefined) await writeFile(join(root, String(pid), 'uid_map'), files.uid_map)
  return root
}

const NOW = new Date('2026-11-28T00:00:00Z')

describe('PID 1 parsing', () => {
  it('reads the Uid line of /proc/<pid>/status', () => {
    expect(parseStatusUid('Name:\tsleep\nUid:\t1000\t1001\t1000\t1000\nGid:\t0\t0\t0\t0\n')).toEqual({
      real: 1000,
      effective: 1001,
    })
    expect(parseStatusUid('Name:\tx\n')).toBeUndefined()
  })

  it('translates host uids through uid_map', () => {
    const identity = parseUidMap('         0          0 4294967295\n')
    expect(hostUidToContainer(identity, 1000)).toBe(1000)
    const remapped = parseUidMap('0 100000 65536\n')
    expect(hostUidToContainer(remapped, 100000)).toBe(0)
    expect(hostUidToContainer(remapped, 101000)).toBe(1000)
    expect(hostUidToContainer(remapped, 5)).toBeUndefined()
    expect(hostUidToContainer([], 7)).toBe(7)
  })

  it('matches a cgroup file to its container (v1 cgroupfs, v2 systemd)', () => {
    expect(cgroupNamesContainer(`8:pids:/docker/${ID_WEAK}\n`, ID_WEAK)).toBe(true)
    expect(cgroupNamesContainer(`0::/system.slice/docker-${ID_WEAK}.scope\n`, ID_WEAK)).toBe(true)
    expect(cgroupNamesContainer(`0::/user.slice/user-1000.slice\n`, ID_WEAK)).toBe(false)
  })

  it('finds PID 1 in docker top output: numeric UID, or a name with ps -ef', () => {
    const numeric = {
      titles: ['PID', 'UID', 'USER'],
      processes: [
        ['99', '0', 'root'],
        ['4242', '1000', 'someone-on-the-host'],
      ],
    }
    expect(pid1FromTop(numeric, 4242)).toEqual({uid: 1000})
    expect(pid1FromTop(numeric, 1)).toEqual({uid: 0})
    const ef = {
      titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      processes: [['root', '4242', '1', '0', '00:00', '?', '00:00:00', 'sleep 1']],
    }
    expect(pid1FromTop(ef, 4242)).toEqual({uid: 0, user: 'root'})
    expect(pid1FromTop({...ef, processes: [['www-data', '4242', '1', '0', '', '', '', '']]}, 4242)).toEqual({
      user: 'www-data',
    })
    expect(pid1FromTop({titles: ['PID'], processes: []}, 1)).toBeUndefined()
    // Podman's descriptors (pid,uid,user): pids as the container sees them, PID 1 not the first row.
    const podman = {
      titles: ['PID', 'UID', 'USER'],
      processes: [
        ['7', '0', 'root'],
        ['1', '1000', 'developer'],
      ],
    }
    expect(pid1FromTop(podman, 4242)).toEqual({uid: 1000})
  })
})

describe('observePid1', () => {
  it('reads /proc when the pid belongs to the container, through uid_map', async () => {
    const proc = await fakeProc(4242, {
      cgroup: `0::/docker/${ID_GOOD}\n`,
      status: 'Uid:\t101000\t101000\t101000\t101000\n',
      uid_map: '0 100000 65536\n',
    })
    const engine = fakeEngine({containers: []})
    const obs = await observePid1(engine, details(ID_GOOD, 'good', GOOD_RAW), {procRoot: proc})
    expect(obs).toEqual({method: 'proc', uid: 1000, hostUid: 101000, source: join(proc, '4242', 'status')})
    expect(engine.calls).toEqual([])
  })

  it('does not trust a pid of another process (ir not on the engine host) and falls back to docker top', async () => {
    const proc = await fakeProc(4242, {cgroup: '0::/user.slice\n', status: 'Uid:\t0\t0\t0\t0\n'})
    const engine = fakeEngine({
      containers: [],
      top: async () => ({titles: ['PID', 'UID', 'USER'], processes: [['4242', '1000', 'x']]}),
    })
    const obs = await observePid1(engine, details(ID_GOOD, 'good', GOOD_RAW), {procRoot: proc})
    expect(obs).toMatchObject({method: 'top', uid: 1000, source: expect.stringContaining('ps -o pid,uid,user')})
    expect(obs.note).toMatch(/not this container's/)
    expect(engine.calls).toEqual([`top ${ID_GOOD} -o pid,uid,user`])
  })

  it('retries docker top with -ef when the ps arguments are refused, and says when nothing worked', async () => {
    const engine = fakeEngine({
      containers: [],
      top: async (_id, args) => {
        if (args !== '-ef') throw new Error('ps: unknown option')
        return {titles: ['UID', 'PID'], processes: [['root', '4242']]}
      },
    })
    const obs = await observePid1(engine, details(ID_WEAK, 'weak', WEAK_RAW), {procRoot: '/nonexistent-proc'})
    expect(obs).toMatchObject({method: 'top', uid: 0, user: 'root', source: expect.stringContaining('ps -ef')})
    const failing = fakeEngine({containers: [], top: async () => Promise.reject(new Error('engine says no'))})
    const none = await observePid1(failing, details(ID_WEAK, 'weak', WEAK_RAW), {procRoot: '/nonexistent-proc'})
    expect(none.method).toBe('none')
    expect(none.note).toContain('engine says no')
  })

  it('does not look for PID 1 of a stopped container', async () => {
    const engine = fakeEngine({containers: []})
    expect(await observePid1(engine, details(ID_WEAK, 'weak', WEAK_RAW, {state: 'exited', pid: 0}))).toEqual({
      method: 'none',
      note: 'the container is exited: no PID 1 to read',
    })
    expect(engine.calls).toEqual([])
  })
})

describe('auditContainers', () => {
  it('audits the resolved targets, reports unknown ones, and writes nothing without a case', async () => {
    const engine = fakeEngine({
      containers: [details(ID_WEAK, 'weak', WEAK_RAW), details(ID_GOOD, 'good', GOOD_RAW)],
      top: async (id) => ({titles: ['PID', 'UID'], processes: [['4242', id === ID_WEAK ? '0' : '1000']]}),
    })
    const r = await auditContainers({
      engine,
      targets: ['weak', 'no-such', 'good'],
      now: NOW,
      procRoot: '/nonexistent-proc',
    })
    expect(r.containers.map((c) => c.name)).toEqual(['weak', 'good'])
    expect(r.failed).toEqual([
      {
        ref: 'no-such',
        error: expect.objectContaining({code: 'NOT_FOUND', message: expect.stringContaining('no-such')}),
      },
    ])
    expect(r.ok).toBe(false)
    const weak = r.containers[0]!
    expect(weak.findings[0]).toMatchObject({id: 'privileged', severity: 'critical'})
    expect(weak.findings.map((f) => f.id)).toEqual(
      expect.arrayContaining(['mount.docker-socket', 'user.root', 'pid1.root', 'image.root-default']),
    )
    expect(weak.pass).toBe(false)
    const good = r.containers[1]!
    expect(good.pid1).toMatchObject({method: 'top', uid: 1000})
    expect(good.pass).toBe(true)
    expect(good.score).toBe(100)
    expect(r.totals.critical).toBe(2)
    expect(hasFindingsAtOrAbove(r, 'high')).toBe(true)
    expect(hasFindingsAtOrAbove({...r, containers: [good]}, 'low')).toBe(false)
    expect(r.caseId).toBeUndefined()
    expect(r.evidence).toBeUndefined()
  })

  it('selects a compose project by label, and says when it has no containers', async () => {
    const c1 = details(ID_WEAK, 'shop-web-1', WEAK_RAW, {
      state: 'exited',
      pid: 0,
      labels: {'com.docker.compose.project': 'shop'},
    })
    const c2 = details(ID_GOOD, 'other-web-1', GOOD_RAW, {labels: {'com.docker.compose.project': 'other'}})
    const engine = fakeEngine({containers: [c1, c2]})
    const r = await auditContainers({engine, project: 'shop', now: NOW})
    expect(engine.calls[0]).toBe('list {"all":true,"filters":{"label":["com.docker.compose.project=shop"]}}')
    expect(r.containers.map((c) => c.name)).toEqual(['shop-web-1'])
    expect(r.containers[0]!.findings.map((f) => f.id)).toContain('pid1.unknown')
    const none = await auditContainers({engine, project: 'nope', now: NOW})
    expect(none.containers).toEqual([])
    expect(none.failed[0]!.error).toMatchObject({code: 'NOT_FOUND', message: expect.stringContaining('"nope"')})
  })

  it('refuses to run with nothing to audit', async () => {
    await expect(auditContainers({engine: fakeEngine({containers: []}), now: NOW})).rejects.toMatchObject({
      exitName: 'USAGE',
    })
  })

  it('flags an old image using the given clock and limit', async () => {
    const engine = fakeEngine({
      containers: [details(ID_GOOD, 'good', GOOD_RAW)],
      top: async () => ({titles: ['PID', 'UID'], processes: [['4242', '1000']]}),
      image: {created: '2026-01-01T00:00:00Z', user: '1000'},
    })
    const r = await auditContainers({
      engine,
      targets: ['good'],
      now: NOW,
      procRoot: '/nonexistent-proc',
      maxImageAgeDays: 90,
    })
    expect(r.containers[0]!.imageFacts.ageDays).toBe(331)
    expect(r.containers[0]!.findings).toEqual([expect.objectContaining({id: 'image.age', severity: 'medium'})])
    const lenient = await auditContainers({
      engine,
      targets: ['good'],
      now: NOW,
      procRoot: '/nonexistent-proc',
      maxImageAgeDays: 400,
    })
    expect(lenient.containers[0]!.findings).toEqual([])
  })

  it('with a case: stores hardening-audit evidence and an audit.hardening entry, and the case verifies', async () => {
    const store = new CaseStore(await tempDir('ir-cases-'))
    const {kase} = await store.open({id: 'CASE-AUDIT-1'})
    const engine = fakeEngine({
      containers: [details(ID_WEAK, 'weak', WEAK_RAW)],
      top: async () => ({titles: ['PID', 'UID'], processes: [['4242', '0']]}),
    })
    const r = await auditContainers({engine, targets: ['weak', 'ghost'], kase, now: NOW, procRoot: '/nonexistent-proc'})
    expect(r.caseId).toBe('CASE-AUDIT-1')
    expect(r.evidence).toMatch(/^evidence\/audit\/hardening-audit-20261128T000000Z-[0-9a-f]{4}\.json$/)
    const manifest = await kase.manifest.read()
    expect(manifest.artifacts).toEqual([expect.objectContaining({path: r.evidence, type: 'hardening-audit'})])
    const stored = JSON.parse(await readFile(join(kase.dir, r.evidence!), 'utf8'))
    expect(stored.containers[0].findings.map((f: {id: string}) => f.id)).toEqual(
      r.containers[0]!.findings.map((f) => f.id),
    )
    const lines = (await readFile(kase.audit.path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const entry = lines.find((l) => l.action === 'audit.hardening')
    expect(entry.outcome).toBe('partial')
    expect(entry.details.containers).toEqual([
      {
        id: ID_WEAK,
        name: 'weak',
        findings: r.containers[0]!.findings.map((f) => ({
          check: f.id,
          severity: f.severity,
          message: f.message,
          ...(f.cis ? {cis: f.cis} : {}),
          level: f.level,
        })),
      },
    ])
    expect(entry.details.containers[0].findings).toContainEqual({
      check: 'privileged',
      severity: 'critical',
      message: expect.any(String),
      cis: '5.5',
      level: 1,
    })
    expect(entry.details.benchmark).toBe('CIS Docker Benchmark 1.6.0')
    expect(entry.details.failed).toEqual([{ref: 'ghost', error: expect.stringContaining('ghost')}])
    expect(entry.details.evidence).toBe(r.evidence)
    expect((await verifyCase(kase)).ok).toBe(true)
  })
})
