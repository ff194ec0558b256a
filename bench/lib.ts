import {mkdtemp, readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const BIN = join(ROOT, 'bin', 'run.js')
export const IMAGE = process.env.IR_TEST_IMAGE ?? 'ir-test/busybox:latest'
export const LABEL = 'ir.bench=true'

export async function time<T>(fn: () => Promise<T>): Promise<{ms: number; value: T}> {
  const t0 = process.hrtime.bigint()
  const value = await fn()
  return {ms: Number(process.hrtime.bigint() - t0) / 1e6, value}
}

export async function sh(script: string): Promise<void> {
  await execa('bash', ['-c', script], {stdio: ['ignore', 'ignore', 'inherit']})
}

export async function ir(args: string[], env: Record<string, string>): Promise<void> {
  const r = await execa('node', [BIN, ...args], {env, reject: false, stdin: 'ignore'})
  if (r.exitCode !== 0) throw new Error(`ir ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`)
}

export async function incidentsDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ir-bench-'))
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

export function report(name: string, irMs: number, cliMs: number, note = ''): void {
  const ratio = irMs / cliMs
  console.log(
    `${name.padEnd(48)} ir ${irMs.toFixed(0).padStart(7)} ms   docker CLI ${cliMs.toFixed(0).padStart(7)} ms   ratio ${ratio.toFixed(2)}x${note ? `   ${note}` : ''}`,
  )
}

/** Run `ir` and sample its peak resident memory (VmHWM) from /proc while it runs. */
export async function irWithPeakRss(
  args: string[],
  env: Record<string, string>,
): Promise<{ms: number; peakMiB: number}> {
  const t0 = process.hrtime.bigint()
  const child = execa('node', [BIN, ...args], {env, reject: false, stdin: 'ignore'})
  let peakKiB = 0
  const sample = async () => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
      const m = /VmHWM:\s+(\d+)/.exec(status)
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]))
    } catch {
      // the process has exited
    }
  }
  const poll = setInterval(() => void sample(), 50)
  const r = await child
  clearInterval(poll)
  if (r.exitCode !== 0) throw new Error(`ir ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`)
  return {ms: Number(process.hrtime.bigint() - t0) / 1e6, peakMiB: peakKiB / 1024}
}
