import {mkdtemp, readdir, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const BIN = join(ROOT, 'bin', 'run.js')

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Run the built `ir` binary as a user would (no TTY: stdin is closed). */
export async function runIr(
  args: string[],
  opts: {cwd?: string; env?: Record<string, string>; input?: string; timeout?: number} = {},
): Promise<RunResult> {
  const r = await execa('node', [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: {...opts.env, FORCE_COLOR: '0'},
    reject: false,
    timeout: opts.timeout ?? 120_000,
    ...(opts.input === undefined ? {stdin: 'ignore'} : {input: opts.input}),
  })
  return {exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr}
}

export async function tempDir(prefix = 'ir-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

/** Every file under dir, recursively (none when dir does not exist). */
export async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, {withFileTypes: true}).catch(() => [])) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await allFiles(p)))
    else out.push(p)
  }
  return out
}

/** Files under dir whose bytes contain needle. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = []
  for (const f of await allFiles(dir)) {
    if ((await readFile(f)).includes(needle)) hits.push(f)
  }
  return hits
}
