import {mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {
  parseHexAddress,
  parseInetTable,
  parseMaps,
  parseStat,
  parseStatus,
  parseUnixTable,
  pidBelongsTo,
  pidsInNamespaceOf,
  readMemory,
  splitNul,
} from '../../src/services/evidence/live/proc.js'

describe('/proc parsers', () => {
  it('reads IPv4 and IPv6 addresses as the kernel writes them (little-endian words)', () => {
    expect(parseHexAddress('0100007F:1F90')).toEqual({address: '127.0.0.1', port: 8080})
    expect(parseHexAddress('0320A8C0:115C')).toEqual({address: '192.168.32.3', port: 4444})
    expect(parseHexAddress('00000000000000000000000000000000:115C')).toEqual({address: '::', port: 4444})
    expect(parseHexAddress('00000000000000000000000001000000:0016')).toEqual({address: '::1', port: 22})
    expect(parseHexAddress('0000000000000000FFFF00000320A8C0:115C')).toEqual({
      address: '::ffff:192.168.32.3',
      port: 4444,
    })
    expect(parseHexAddress('B80D0120000000000000000001000000:01BB').address).toBe('2001:db8::1')
  })

  it('parses the tcp and udp tables with their states and inodes', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0',
      '   1: 0320A8C0:EDB4 0220A8C0:15B3 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1',
    ].join('\n')
    const s = parseInetTable(tcp, 'tcp')
    expect(s).toEqual([
      {
        proto: 'tcp',
        local: {address: '0.0.0.0', port: 4444},
        remote: {address: '0.0.0.0', port: 0},
        state: 'LISTEN',
        uid: 0,
        inode: 4242,
      },
      {
        proto: 'tcp',
        local: {address: '192.168.32.3', port: 60852},
        remote: {address: '192.168.32.2', port: 5555},
        state: 'ESTABLISHED',
        uid: 1000,
        inode: 4343,
      },
    ])
    const udp = parseInetTable(
      `header\n  5: 0B00007F:D13E 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 0000000000000000 0`,
      'udp',
    )
    expect(udp[0]).toMatchObject({state: 'UNCONN', inode: 777, local: {address: '127.0.0.11', port: 53566}})
  })

  it('parses the unix table, listening sockets and paths with spaces', () => {
    const text = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 9001 /run/app.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03 9002',
      '0000000000000000: 00000002 00000000 00000000 0002 01 9003 /tmp/a b',
    ].join('\n')
    expect(parseUnixTable(text)).toEqual([
      {proto: 'unix', type: 'stream', state: 'UNCONNECTED', inode: 9001, path: '/run/app.sock', listening: true},
      {proto: 'unix', type: 'stream', state: 'CONNECTED', inode: 9002, path: '', listening: false},
      {proto: 'unix', type: 'dgram', state: 'UNCONNECTED', inode: 9003, path: '/tmp/a b', listening: false},
    ])
  })

  it('reads a stat line whose command holds spaces and parentheses', () => {
    const line =
      '4242 (my (evil) proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10 18446744073709551615'
    expect(parseStat(line)).toEqual({comm: 'my (evil) proc', state: 'S', ppid: 1, startTicks: 123456})
  })

  it('reads status, NUL lists and the memory map', () => {
    const st = parseStatus(
      'Name:\tnc\nState:\tS (sleeping)\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t10\t10\t10\t10\nNSpid:\t5051\t8\n',
    )
    expect(st).toEqual({
      name: 'nc',
      state: 'S (sleeping)',
      ppid: 1,
      uid: [0, 0, 0, 0],
      gid: [10, 10, 10, 10],
      nspid: [5051, 8],
    })
    expect(splitNul(Buffer.from('nc\0-ll\0-p\x004444\0'))).toEqual(['nc', '-ll', '-p', '4444'])
    const maps = parseMaps(
      [
        '00400000-004ea000 r-xp 00000000 08:01 1234 /tmp/.x/sleep (deleted)',
        '7ffd1000-7ffd3000 rw-p 00000000 00:00 0 [stack]',
        'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]',
      ].join('\n'),
    )
    expect(maps[0]).toMatchObject({
      start: 0x400000,
      end: 0x4ea000,
      perms: 'r-xp',
      inode: 1234,
      path: '/tmp/.x/sleep (deleted)',
    })
    expect(maps[1]!.path).toBe('[stack]')
    expect(maps).toHaveLength(3)
  })
})

describe('/proc walking on a fixture tree', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ir-proc-'))
    for (const [pid, ns, cg] of [
      [100, 'pid:[4026532001]', '0::/system.slice/docker-abc.scope'],
      [101, 'pid:[4026532001]', '0::/system.slice/docker-abc.scope'],
      [200, 'pid:[4026531836]', '0::/init.scope'],
    ] as const) {
      await mkdir(join(root, String(pid), 'ns'), {recursive: true})
      await symlink(ns, join(root, String(pid), 'ns', 'pid'))
      await writeFile(join(root, String(pid), 'cgroup'), `${cg.replace('abc', 'a'.repeat(64))}\n`)
    }
    // A fake "mem" file: regions are offsets into it.
    await writeFile(
      join(root, '100', 'mem'),
      Buffer.concat([Buffer.alloc(16, 1), Buffer.from('SECRET-IN-MEMORY'), Buffer.alloc(16, 2)]),
    )
    await mkdir(join(root, 'self'))
  })
  afterAll(async () => {
    await rm(root, {recursive: true, force: true})
  })

  it('finds the processes of one pid namespace, and checks that the pid is the container’s', async () => {
    expect(await pidsInNamespaceOf(root, 100)).toEqual([100, 101])
    expect(await pidBelongsTo(root, 100, 'a'.repeat(64))).toBe(true)
    expect(await pidBelongsTo(root, 200, 'a'.repeat(64))).toBe(false)
    expect(await pidBelongsTo(root, 999, 'a'.repeat(64))).toBe(false)
  })

  it('reads readable regions in bounded chunks and says why a region stopped short', async () => {
    const seen: Array<{start: number; read: number; error?: string}> = []
    const chunks: Buffer[] = []
    const regions = [
      {start: 16, end: 32, perms: 'rw-p', offset: '0', dev: '00:00', inode: 0, path: '[heap]'},
      {start: 0, end: 16, perms: '---p', offset: '0', dev: '00:00', inode: 0, path: ''},
      {start: 40, end: 80, perms: 'r--p', offset: '0', dev: '00:00', inode: 0, path: ''},
    ]
    for await (const c of readMemory(
      root,
      100,
      regions,
      (r, read, error) => seen.push({start: r.start, read, ...(error ? {error} : {})}),
      5,
    ))
      chunks.push(c)
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(5)
    expect(Buffer.concat(chunks).toString('latin1')).toBe(`SECRET-IN-MEMORY${'\x02'.repeat(8)}`)
    expect(seen).toEqual([
      {start: 16, read: 16},
      {start: 0, read: 0, error: 'not readable'},
      {start: 40, read: 8, error: 'end of file'},
    ])
  })
})
