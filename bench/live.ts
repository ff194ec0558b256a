import {readFile, rm, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'

import {IMAGE, incidentsDir, irWithPeakRss, LABEL, report, time} from './lib.js'

/**
 * The heap: busybox's sh cannot hold 512 MiB (a shell variable that size is built by copying, and `dd` into a
 * variable needs bash), so a tiny static C program, compiled here with gcc, allocates 512 MiB, writes every page
 * (non-zero, so nothing is shared with the zero page) and sleeps. It is bind-mounted into a busybox container
 * that runs it beside 48 `sleep`s: 50 processes with pid 1.
 */
const HOLD_C = `#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  size_t n = (size_t)512 << 20;
  char *p = malloc(n);
  if (!p) return 1;
  for (size_t i = 0; i < n; i += 4096) p[i] = (char)(i >> 12) | 1;
  for (;;) pause();
}
`

/** ir's live capture with memory of 50 processes and a 512 MiB heap, against gcore of the same processes. */
export async function benchLive(): Promise<void> {
  const gcc = await execa('gcc', ['--version'], {reject: false})
  const gcore = await execa('gcore', ['--help'], {reject: false})
  if (gcc.exitCode !== 0 || gcore.exitCode === 127) {
    console.log('live capture: skipped (needs gcc and gcore on this machine)')
    return
  }
  const dir = await incidentsDir()
  const name = `ir-bench-live-${process.pid}`
  try {
    await writeFile(join(dir, 'hold.c'), HOLD_C)
    await execa('gcc', ['-O1', '-static', '-o', join(dir, 'hold'), join(dir, 'hold.c')])
    await execa('docker', [
      'run',
      '-d',
      '--label',
      LABEL,
      '--name',
      name,
      '-v',
      `${join(dir, 'hold')}:/hold:ro`,
      IMAGE,
      'sh',
      '-c',
      '/hold & i=0; while [ $i -lt 48 ]; do sleep 3600 & i=$((i+1)); done; wait',
    ])
    let pids: number[] = []
    for (let i = 0; i < 120; i++) {
      const top = await execa('docker', ['top', name, '-o', 'pid,rss,comm'], {reject: false})
      const rows = top.stdout
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
      const hold = rows.find((r) => r[2] === 'hold')
      if (rows.length >= 50 && hold && Number(hold[1]) > 500 * 1024) {
        pids = rows.map((r) => Number(r[0]))
        break
      }
      await new Promise((r) => setTimeout(r, 500))
    }
    if (pids.length < 50) throw new Error(`the bench container did not reach 50 processes with a 512 MiB heap`)

    const env = {...process.env, IR_INCIDENTS_DIR: join(dir, 'cases')} as Record<string, string>
    const irRun = await irWithPeakRss(
      ['snapshot', name, '--case', 'BENCH-LIVE', '--yes', '--no-export', '--memory', '--json'],
      env,
    )
    const manifest = JSON.parse(await readFile(join(dir, 'cases', 'BENCH-LIVE', 'manifest.json'), 'utf8')) as {
      artifacts: Array<{type: string; size: number}>
    }
    const irBytes = manifest.artifacts.filter((a) => a.type === 'process-memory').reduce((n, a) => n + a.size, 0)

    // gcore attaches with ptrace (it stops each process itself, so the container is not paused), one after the other.
    const cores = join(dir, 'cores')
    await execa('mkdir', ['-p', cores])
    const g = await time(async () => {
      for (const pid of pids) await execa('gcore', ['-o', join(cores, 'core'), String(pid)], {reject: false})
    })
    let coreBytes = 0
    for (const pid of pids)
      coreBytes += await stat(join(cores, `core.${pid}`)).then(
        (s) => s.size,
        () => 0,
      )
    report(
      'live capture, 50 processes, 512 MiB heap (--memory)',
      irRun.ms,
      g.ms,
      `(against gcore) ir peak RSS ${irRun.peakMiB.toFixed(0)} MiB; ir wrote ${(irBytes / 1048576).toFixed(0)} MiB of memory, gcore ${(coreBytes / 1048576).toFixed(0)} MiB of cores`,
    )
  } finally {
    await execa('docker', ['rm', '-f', name], {reject: false})
    await rm(dir, {recursive: true, force: true})
  }
}
