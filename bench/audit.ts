import {execa} from 'execa'

import {IMAGE, incidentsDir, ir, LABEL, median, report, sh, time} from './lib.js'

/**
 * ir audit of N containers plus the engine (what --all does, limited to the bench's own containers
 * so other workloads on the host do not count) against one `docker inspect` of the same containers.
 * Half run, half are only created (audited as stopped).
 */
export async function benchAudit(n = 100, rounds = 3): Promise<void> {
  const names = Array.from({length: n}, (_, i) => `ir-bench-audit-${process.pid}-${i}`)
  try {
    for (const [i, name] of names.entries()) {
      await execa(
        'docker',
        [
          i % 2 === 0 ? 'run' : 'create',
          ...(i % 2 === 0 ? ['-d'] : []),
          '--label',
          LABEL,
          '--name',
          name,
          IMAGE,
          'sleep',
          '3600',
        ],
        {stdout: 'ignore'},
      )
    }
    const env = {IR_INCIDENTS_DIR: await incidentsDir()}
    const irTimes: number[] = []
    const cliTimes: number[] = []
    for (let r = 0; r < rounds; r++) {
      irTimes.push((await time(() => ir(['audit', ...names, '--daemon', '--json'], env))).ms)
      cliTimes.push((await time(() => sh(`docker inspect ${names.join(' ')} >/dev/null`))).ms)
    }
    report(
      `audit ${n} containers + engine (median of ${rounds})`,
      median(irTimes),
      median(cliTimes),
      'ir also inspects each image and exec, reads /proc, daemon.json and section 3 files, and runs every CIS check',
    )
  } finally {
    await sh(`docker rm -f ${names.join(' ')} >/dev/null 2>&1 || true`)
  }
}
