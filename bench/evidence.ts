import {rm} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'

import {IMAGE, incidentsDir, irWithPeakRss, LABEL, report, sh, time} from './lib.js'

async function containerWithData(name: string, mib: number): Promise<void> {
  await execa('docker', [
    'run',
    '-d',
    '--label',
    LABEL,
    '--name',
    name,
    IMAGE,
    'sh',
    '-c',
    `dd if=/dev/urandom of=/payload.bin bs=1048576 count=${mib} 2>/dev/null; touch /ready; exec sleep 3600`,
  ])
  for (let i = 0; i < 600; i++) {
    const r = await execa('docker', ['exec', name, 'test', '-f', '/ready'], {reject: false})
    if (r.exitCode === 0) return
    await new Promise((res) => setTimeout(res, 500))
  }
  throw new Error(`${name} did not write its data`)
}

/** ir snapshot (commit, save, export + index, all hashed) against the CLI pipeline doing the same. */
export async function benchSnapshot(sizesMiB = [64, 512]): Promise<void> {
  for (const mib of sizesMiB) {
    const name = `ir-bench-snap-${process.pid}-${mib}`
    const incidents = await incidentsDir()
    const out = await incidentsDir()
    try {
      await containerWithData(name, mib)
      const caseId = `BENCH-SNAP-${mib}`
      // The CLI runs first, so it does not benefit from a page cache warmed by ir.
      const cli = await time(() =>
        sh(`set -euo pipefail
          docker commit -p ${name} ir-bench-cli/${process.pid}:${mib} >/dev/null
          docker save ir-bench-cli/${process.pid}:${mib} | tee ${join(out, 'image.tar')} | sha256sum >/dev/null
          docker export ${name} | tee ${join(out, 'export.tar')} | sha256sum >/dev/null`),
      )
      const irRun = await irWithPeakRss(['snapshot', name, '--case', caseId, '--yes'], {IR_INCIDENTS_DIR: incidents})
      report(
        `snapshot + export, ${mib} MiB container`,
        irRun.ms,
        cli.ms,
        `target <= 1.15x; ir peak RSS ${irRun.peakMiB.toFixed(0)} MiB`,
      )
    } finally {
      await sh(`docker rm -f ${name} >/dev/null 2>&1 || true
        docker rmi ir-bench-cli/${process.pid}:${mib} >/dev/null 2>&1 || true
        docker images -q --filter label=ir.case=BENCH-SNAP-${mib} | xargs -r docker rmi -f >/dev/null 2>&1 || true`)
      await rm(incidents, {recursive: true, force: true})
      await rm(out, {recursive: true, force: true})
    }
  }
}

/** ir collect of a container with a lot of logs against `docker logs --timestamps | gzip`. */
export async function benchCollect(mib = Number(process.env.BENCH_LOG_MB ?? 500)): Promise<void> {
  const name = `ir-bench-logs-${process.pid}`
  const incidents = await incidentsDir()
  const out = await incidentsDir()
  try {
    // ~100-byte lines; both streams so the demultiplexing is exercised.
    const line = 'x'.repeat(90)
    await execa('docker', [
      'run',
      '-d',
      '--label',
      LABEL,
      '--name',
      name,
      IMAGE,
      'sh',
      '-c',
      `yes "${line}" | head -c ${mib * 1024 * 1024}; yes "${line}" | head -c 1048576 >&2; touch /ready; exec sleep 3600`,
    ])
    for (let i = 0; i < 1200; i++) {
      if ((await execa('docker', ['exec', name, 'test', '-f', '/ready'], {reject: false})).exitCode === 0) break
      await new Promise((res) => setTimeout(res, 500))
    }
    const irRun = await irWithPeakRss(['collect', name, '--case', 'BENCH-LOGS'], {IR_INCIDENTS_DIR: incidents})
    const cli = await time(() =>
      sh(`set -euo pipefail; docker logs --timestamps ${name} 2>&1 | gzip > ${join(out, 'logs.gz')}`),
    )
    report(`collect ${mib} MiB of logs`, irRun.ms, cli.ms, `ir peak RSS ${irRun.peakMiB.toFixed(0)} MiB`)
  } finally {
    await sh(`docker rm -f ${name} >/dev/null 2>&1 || true`)
    await rm(incidents, {recursive: true, force: true})
    await rm(out, {recursive: true, force: true})
  }
}
