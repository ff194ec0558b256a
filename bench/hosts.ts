import Docker from 'dockerode'

import {canRunExtraEngines, ExtraEngines} from '../test/helpers/engines.js'
import {IMAGE, incidentsDir, ir, median, report, sh, time} from './lib.js'

/**
 * ir isolate of 3 x N containers on three engines (one command, hosts and containers concurrent)
 * against the docker CLI doing the same the way a runbook loop does it: for each host, for each
 * container, `docker -H <host> network disconnect` then `docker -H <host> pause`, one after another.
 * The three engines are extra dockerd processes started for the benchmark (as in the tests).
 */
export async function benchHosts(perHost = 30, rounds = 3): Promise<void> {
  const can = await canRunExtraEngines()
  if (!can.ok) {
    console.log(`hosts: skipped (${can.reason})`)
    return
  }
  const engines = new ExtraEngines()
  const run = `b${process.pid}`
  try {
    const list = await engines.start(3)
    await engines.loadImage(
      new Docker(process.env.DOCKER_HOST?.startsWith('unix://') ? {socketPath: process.env.DOCKER_HOST.slice(7)} : {}),
      IMAGE,
    )
    const net = `ir-bench-net-${run}`
    const names = Array.from({length: perHost}, (_, i) => `ir-bench-${run}-${i}`)
    await Promise.all(
      list.map(async (e) => {
        const d = engines.docker(e)
        await d.createNetwork({Name: net, Labels: {'ir.bench': run}})
        for (const name of names) {
          const c = await d.createContainer({
            name,
            Image: IMAGE,
            Cmd: ['sleep', '3600'],
            Labels: {'ir.bench': run},
            HostConfig: {NetworkMode: net},
            NetworkingConfig: {EndpointsConfig: {[net]: {Aliases: [name]}}},
          })
          await c.start()
        }
      }),
    )
    const hostArgs = list.flatMap((e) => ['--host', e.host])
    const env = {IR_INCIDENTS_DIR: await incidentsDir()}
    const irTimes: number[] = []
    const cliTimes: number[] = []
    for (let r = 0; r < rounds; r++) {
      const caseId = `BENCH-HOSTS-${run}-${r}`
      irTimes.push(
        (
          await time(() =>
            ir(['isolate', '--filter', `label=ir.bench=${run}`, ...hostArgs, '--case', caseId, '--yes'], env),
          )
        ).ms,
      )
      await ir(['release', '--filter', `label=ir.bench=${run}`, ...hostArgs, '--case', caseId, '--yes'], env)
      const loop = list
        .flatMap((e) =>
          names.map((c) => `docker -H ${e.host} network disconnect ${net} ${c} && docker -H ${e.host} pause ${c}`),
        )
        .join('\n')
      cliTimes.push((await time(() => sh(loop))).ms)
      await sh(
        list
          .flatMap((e) =>
            names.map(
              (c) => `docker -H ${e.host} unpause ${c} && docker -H ${e.host} network connect --alias ${c} ${net} ${c}`,
            ),
          )
          .join('\n'),
      )
    }
    report(
      `isolate 3 x ${perHost} containers on 3 engines (median of ${rounds})`,
      median(irTimes),
      median(cliTimes),
      'CLI: sequential disconnect + pause, host after host; ir also stores each inspect as hashed evidence',
    )
  } finally {
    await engines.cleanup().catch((error: unknown) => console.error(`hosts bench cleanup: ${String(error)}`))
  }
}
