import {execa} from 'execa'

import {IMAGE, incidentsDir, ir, LABEL, median, report, sh, time} from './lib.js'

/** ir isolate of N containers (concurrent) against a sequential docker CLI loop of disconnect + pause. */
export async function benchIsolate(n = 30, rounds = 3): Promise<void> {
  const net = `ir-bench-net-${process.pid}`
  const names = Array.from({length: n}, (_, i) => `ir-bench-${process.pid}-${i}`)
  await sh(`docker network create --label ${LABEL} ${net} >/dev/null`)
  try {
    for (const name of names) {
      await execa(
        'docker',
        [
          'run',
          '-d',
          '--label',
          LABEL,
          '--name',
          name,
          '--network',
          net,
          '--network-alias',
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
      const caseId = `BENCH-${process.pid}-${r}`
      irTimes.push((await time(() => ir(['isolate', ...names, '--case', caseId, '--yes'], env))).ms)
      await ir(['release', ...names, '--case', caseId, '--yes'], env)
      const loop = names.map((c) => `docker network disconnect ${net} ${c} && docker pause ${c}`).join('\n')
      cliTimes.push((await time(() => sh(loop))).ms)
      await sh(names.map((c) => `docker unpause ${c} && docker network connect --alias ${c} ${net} ${c}`).join('\n'))
    }
    report(
      `isolate ${n} containers (median of ${rounds})`,
      median(irTimes),
      median(cliTimes),
      'ir also stores each inspect as hashed evidence and audits every step',
    )
  } finally {
    await sh(
      `docker rm -f ${names.join(' ')} >/dev/null 2>&1 || true; docker network rm ${net} >/dev/null 2>&1 || true`,
    )
  }
}
