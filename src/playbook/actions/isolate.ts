import {z} from 'zod/v4'

import {AbortError} from '../../errors.js'
import {bool, caseFiles, defineAction, optionalContainers, optionalString, stepHosts, stringList} from './define.js'

type IsolateParams = {
  containers: string[]
  mode: 'pause' | 'stop' | 'network-only'
  hosts: string[]
  inventory?: string | undefined
  filter: string[]
  capture: boolean
  memory: boolean
}

/** Several engines (hosts / an inventory) or a --filter selector: the fan-out of `ir isolate`. */
function isolatesAcrossHosts(p: IsolateParams): boolean {
  return p.hosts.length > 0 || Boolean(p.inventory) || p.filter.length > 0
}

export const isolate = defineAction({
  name: 'isolate',
  phase: 'containment',
  destructive: true,
  params: z
    .object({
      containers: optionalContainers,
      mode: z.enum(['pause', 'stop', 'network-only']).default('pause'),
      hosts: stringList.default([]),
      inventory: optionalString,
      filter: stringList.default([]),
      capture: bool.default(false),
      memory: bool.default(false),
    })
    .refine((p) => p.containers.length > 0 || p.filter.length > 0, {
      message: 'give containers, or a filter such as ancestor=<image>',
    }),
  describe: (p) =>
    `Contain ${p.containers.length ? p.containers.join(', ') : `every container matching ${p.filter.join(', ')}`}${isolatesAcrossHosts(p) && (p.hosts.length || p.inventory) ? ' on every host' : ''}: store each inspect as evidence, ${p.mode === 'pause' ? 'freeze its processes (pause keeps memory for forensics)' : p.mode === 'stop' ? 'stop it' : 'leave processes running'}${p.capture || p.memory ? `, capture its live state (processes, connections${p.memory ? ', memory' : ''}) while frozen` : ''} and cut every network, so the attacker loses reach without evidence being destroyed.`,
  async plan(p, ctx) {
    if (isolatesAcrossHosts(p)) {
      return {
        summary: `isolate (${p.mode}) across hosts`,
        containers: [...p.containers, ...p.filter.map((f) => `every container with ${f}`)],
        operations: [
          `on ${[...p.hosts, ...(p.inventory ? [`the hosts of ${p.inventory}`] : [])].join(', ') || 'the default engine'}: store inspect, ${p.mode}${p.capture || p.memory ? ', capture live state' : ''}, disconnect every network; an unreachable host fails the step (resume retries it)`,
        ],
        files: caseFiles(ctx.kase, [
          'evidence/<host>/<container>/inspect-<time>.json',
          'state/containment.json',
          'state/fanout-isolate.json',
        ]),
      }
    }
    const {isolateOnHosts} = await import('../../services/isolate.js')
    const {isolateOptions, selectionOf} = await import('../../services/step-options.js')
    const r = await isolateOnHosts(
      isolateOptions(await stepHosts(ctx), {
        selection: selectionOf({refs: p.containers}),
        mode: p.mode,
        dryRun: true,
        capture: p.capture,
        memory: p.memory,
      }),
    )
    return {
      summary: `isolate (${p.mode})`,
      containers: r.containers.map((c) =>
        c.id ? `${c.name} (${c.id.slice(0, 12)}, ${c.stateBefore})` : `${c.ref}: ${c.error?.message}`,
      ),
      operations: r.containers.flatMap((c) => [
        ...c.actions.map((a) => `${c.name}: ${a}`),
        ...c.warnings.map((w) => `${c.name ?? c.ref}: ! ${w}`),
      ]),
      files: caseFiles(ctx.kase, ['evidence/<container>/inspect-<time>.json', 'state/containment.json']),
    }
  },
  async run(p, ctx) {
    const {isolateOnHosts} = await import('../../services/isolate.js')
    const {isolateOptions, selectionOf} = await import('../../services/step-options.js')
    const r = await isolateOnHosts(
      isolateOptions(await stepHosts(ctx, p), {
        selection: selectionOf({refs: p.containers, filter: p.filter}),
        kase: ctx.kase,
        mode: p.mode,
        dryRun: false,
        capture: p.capture,
        memory: p.memory,
        signal: ctx.signal,
        progress: ctx.progress,
      }),
    )
    if (isolatesAcrossHosts(p)) {
      const failedHosts = (r.hosts ?? []).filter((h) => h.status === 'failed')
      const summary = {
        hosts: (r.hosts ?? []).map((h) => ({host: h.host, reachable: h.reachable, status: h.status})),
        containers: r.containers.map((c) => ({name: c.name, id: c.id, status: c.status, state: c.stateAfter})),
      }
      if (failedHosts.length > 0) {
        // The step fails, so `ir playbook resume` runs it again: isolate is idempotent, done hosts stay done.
        throw new AbortError(
          `isolation not finished on ${failedHosts.map((h) => `${h.host}${h.reachable ? '' : ' (unreachable)'}`).join(', ')}; resume once the host is back`,
          {exit: failedHosts.some((h) => !h.reachable) ? 'ENGINE_UNREACHABLE' : 'FAILURE'},
        )
      }
      return summary
    }
    const failed = r.containers.filter((c) => c.status === 'failed' || c.status === 'partial')
    if (failed.length > 0)
      throw new AbortError(
        `isolation failed for ${failed.map((f) => `${f.name ?? f.ref}: ${f.error?.message}`).join('; ')}`,
        {exit: failed[0]?.error?.code ?? 'FAILURE'},
      )
    return {
      containers: r.containers.map((c) => ({
        name: c.name,
        id: c.id,
        status: c.status,
        state: c.stateAfter,
        networksCut: c.networks.map((n) => n.network),
        networkNotCut: c.networkNotCut ?? null,
        ...(c.live ? {live: c.live} : {}),
      })),
    }
  },
})
