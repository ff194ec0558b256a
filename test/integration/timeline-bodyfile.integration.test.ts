import {readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {isLiveStateCapture} from '../../src/services/report/timeline.js'
import {runIr, tempDir} from '../helpers/cli.js'
import {TestDocker} from '../helpers/docker.js'

/**
 * `ir case timeline --format bodyfile` from a real snapshot: files whose names hold `|`, `%`, spaces,
 * a newline and a backslash are made in a test container, snapshotted, and the body file is read by
 * the Sleuth Kit's own `mactime` (Debian package sleuthkit): one modification row per index entry,
 * each name as the container has it (`|` and `%` decoded by mactime, control characters as \xHH).
 */
const t = new TestDocker('body')
const CASE = `BODY-${t.runId}`
let work: string
let env: Record<string, string>
let web: {id: string; name: string}

const ODD = ['a|b', '100%', 'with space', 'new\nline', 'back\\slash', 'pct%7C', 'two  spaces |%| end']

beforeAll(async () => {
  work = await tempDir('ir-bodyfile-')
  env = {IR_INCIDENTS_DIR: join(work, 'incidents')}
  // Single-quoted for sh -c (no host shell): the newline, `|`, `%` and `\` are taken literally.
  const make = ODD.map((n) => `touch '${n}'`)
  web = await t.run('web', {
    cmd: ['sh', '-c', `mkdir /odd && cd /odd && ${make.join(' && ')} && ln -s 'a|b' 'link|to' && exec sleep 3600`],
  })
  for (let i = 0; i < 50; i++) {
    const r = await execa('docker', ['exec', web.name, 'ls', '/odd/link|to'], {reject: false})
    if (r.exitCode === 0) break
    await new Promise((ok) => setTimeout(ok, 200))
  }
  const s = await runIr(['snapshot', web.name, '--case', CASE, '--yes', '--json'], {env})
  expect(s.exitCode, s.stderr).toBe(0)
  t.trackImage((JSON.parse(s.stdout) as {containers: Array<{image: {id: string}}>}).containers[0]!.image.id)
}, 180_000)

afterAll(async () => {
  await t.cleanup()
  await rm(work, {recursive: true, force: true})
})

interface MactimeRow {
  date: string
  type: string
  mode: string
  name: string
}

function mactimeRows(out: string): MactimeRow[] {
  const lines = out.split('\n').filter((l) => l !== '')
  expect(lines[0]).toBe('Date,Size,Type,Mode,UID,GID,Meta,File Name')
  return lines.slice(1).map((l) => {
    const m = /^([^,]+),(\d+),([macb.]{4}),([^,]+),(\d+),(\d+),(\d+),"(.*)"$/.exec(l)
    expect(m, `a mactime row: ${JSON.stringify(l)}`).not.toBeNull()
    return {date: m![1]!, type: m![3]!, mode: m![4]!, name: m![8]!}
  })
}

describe('ir case timeline --format bodyfile', () => {
  it('mactime reads one row per index entry, with names holding |, %, spaces and newlines', async () => {
    const body = join(work, 'body.txt')
    const r = await runIr(['case', 'timeline', CASE, '--format', 'bodyfile', '--output', body, '--json'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout) as {entries: number; indexes: Array<{path: string; label: string}>}
    expect(res.indexes).toHaveLength(1)
    const indexPath = join(env.IR_INCIDENTS_DIR!, CASE, res.indexes[0]!.path)
    const index = (await readFile(indexPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {path: string; type: string; linkTarget?: string})
    expect(index.length).toBeGreaterThan(100)
    expect(res.entries).toBe(index.length)
    const text = await readFile(body, 'utf8')
    expect(text.split('\n').filter(Boolean)).toHaveLength(index.length)
    for (const line of text.split('\n').filter(Boolean)) expect(line.split('|')).toHaveLength(11)

    const label = res.indexes[0]!.label
    expect(label).toBe(web.name)
    const shown = (p: string): string =>
      `${label}:/${p.replace(/\/$/, '')}`.replaceAll('\\', '\\\\').replaceAll('\n', '\\x0a')

    const m = await execa('mactime', ['-b', body, '-d'], {reject: false})
    expect(m.exitCode, m.stderr).toBe(0)
    const rows = mactimeRows(m.stdout)
    const modified = rows.filter((row) => row.type.startsWith('m'))
    expect(modified).toHaveLength(index.length)
    // The times a tar does not hold are "not known" (0): one row each at Xxx Xxx 00 0000, left out by a start date.
    expect(rows.filter((row) => row.date.startsWith('Xxx'))).toHaveLength(index.length)
    const dated = mactimeRows((await execa('mactime', ['-b', body, '-d', '1970-01-02'])).stdout)
    expect(dated).toHaveLength(index.length)

    const names = new Set(modified.map((row) => row.name))
    for (const e of index)
      expect(names.has(e.type === 'symlink' ? `${shown(e.path)} -> ${e.linkTarget}` : shown(e.path)), e.path).toBe(true)
    for (const odd of ODD) {
      expect(
        index.some((e) => e.path === `odd/${odd}`),
        odd,
      ).toBe(true)
      expect(names.has(shown(`odd/${odd}`)), odd).toBe(true)
    }
    expect(names.has(`${label}:/odd/a|b`)).toBe(true)
    expect(names.has(`${label}:/odd/100%`)).toBe(true)
    expect(names.has(`${label}:/odd/pct%7C`)).toBe(true)
    expect(names.has(`${label}:/odd/new\\x0aline`)).toBe(true)
    expect(names.has(`${label}:/odd/link|to -> a|b`)).toBe(true)
    const modes = new Map(modified.map((row) => [row.name, row.mode]))
    expect(modes.get(`${label}:/odd`)).toMatch(/^d\/drwx/)
    expect(modes.get(`${label}:/odd/a|b`)).toMatch(/^r\/rrw-/)
    expect(modes.get(`${label}:/odd/link|to -> a|b`)).toBe('l/lrwxrwxrwx')
  })

  it('the Timesketch JSONL of the same case: one modification row per index entry and one per live-state capture', async () => {
    const r = await runIr(['case', 'timeline', CASE, '--format', 'jsonl'], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            datetime: string
            timestamp: number
            timestamp_desc: string
            path: string
            artifact: string
          },
      )
    for (const row of rows) {
      expect(row.datetime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/)
      expect(row.timestamp).toBe(Date.parse(row.datetime) * 1000)
    }
    const j = await runIr(['case', 'timeline', CASE, '--format', 'bodyfile', '--json'], {env})
    const entries = (JSON.parse(j.stdout) as {entries: number}).entries
    const files = rows.filter((row) => row.timestamp_desc === 'Content Modification Time')
    expect(files).toHaveLength(entries)
    expect(files.some((row) => row.path === '/odd/new\nline')).toBe(true)
    // Every live-state artifact of the snapshot (docker diff, mounts, the /proc capture) is one capture row.
    const manifest = JSON.parse(await readFile(join(env.IR_INCIDENTS_DIR!, CASE, 'manifest.json'), 'utf8')) as {
      artifacts: Array<{id: string; type: string}>
    }
    const live = manifest.artifacts.filter((a) => isLiveStateCapture(a.type))
    expect(live.map((a) => a.type)).toEqual(expect.arrayContaining(['container-diff', 'mounts']))
    const captures = rows.filter((row) => row.timestamp_desc === 'Live State Capture Time')
    expect(captures.map((row) => row.artifact).sort()).toEqual(live.map((a) => a.id).sort())
    // With the /proc capture (as root on the engine's host), each process start is a row too.
    if (manifest.artifacts.some((a) => a.type === 'live-processes'))
      expect(rows.filter((row) => row.timestamp_desc === 'Process Start Time').length).toBeGreaterThan(0)
  })

  it('refuses an index that no longer matches its manifest SHA-256 (exit 6)', async () => {
    const r = await runIr(['case', 'timeline', CASE, '--format', 'bodyfile', '--json'], {env})
    const res = JSON.parse(r.stdout) as {indexes: Array<{path: string}>}
    const p = join(env.IR_INCIDENTS_DIR!, CASE, res.indexes[0]!.path)
    const original = await readFile(p)
    await writeFile(p, Buffer.concat([original, Buffer.from('{"path":"planted","type":"file"}\n')]))
    try {
      const bad = await runIr(['case', 'timeline', CASE, '--format', 'bodyfile'], {env})
      expect(bad.exitCode).toBe(6)
      expect(bad.stderr).toMatch(/does not match its manifest SHA-256/)
    } finally {
      await writeFile(p, original)
    }
  })
})
