import {readFile} from 'node:fs/promises'
import {dirname, isAbsolute, join, resolve} from 'node:path'
import {PassThrough} from 'node:stream'

import type {Case} from '../../case/case-store.js'
import {fileStamp} from '../../case/ids.js'
import {redactText} from '../../util/redact.js'
import type {DockerCli} from '../../docker/docker-cli.js'
import type {ConnectedHost, HostSet} from '../../docker/hosts.js'
import {SWARM_LABEL} from '../../docker/labels.js'
import type {SwarmService} from '../../docker/types.js'
import {engineKind} from '../../docker/engine-kind.js'
import {AbortError} from '../../errors.js'
import type {Logger} from '../../util/logger.js'
import {findContainment, readContainment, saveContainmentRecord} from '../containment-state.js'
import {snapshotOnHosts} from '../evidence/snapshot.js'
import {substitute} from '../rotate/interpolate.js'
import {type EvidenceCheck, evidenceOf, type StepRecord, stepRecorder} from './rebuild.js'

/** A service of a stack file, as `docker stack deploy` reads it (only what a rebuild needs). */
export interface StackServiceModel {
  name: string
  image?: string
  build?: {context: string; dockerfile: string; args: Record<string, string>; target?: string}
}

export interface StackRebuildOptions {
  /** All hosts given; the stack is rebuilt on the first swarm manager among them. */
  hosts: HostSet
  kase?: Case
  stack: string
  files: string[]
  dryRun: boolean
  /** Do not pull base images while building (they are not refreshed: a warning is recorded). */
  offline: boolean
  force?: {reason: string}
  saveEvidence: boolean
  waitTimeoutSeconds: number
  docker: DockerCli
  log?: Logger
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  progress?: (line: string) => void
  onLine?: (line: string) => void
}

export interface StackRebuildPlan {
  stack: string
  files: string[]
  manager: {host: string; engineId: string}
  services: StackServiceModel[]
  /** Services of the stack running now (swarm names, <stack>_<service>). */
  running: Array<{name: string; id: string; image: string; replicas?: number; mode: string}>
  isolated: Array<EvidenceCheck & {host?: string; service?: string}>
  commands: string[][]
  warnings: string[]
}

export interface StackServiceState {
  service: string
  image: string
  /** Image id the tasks on the manager's engine run (tasks elsewhere are counted, not inspected). */
  imageId?: string
  desired: number
  running: number
  ok: boolean
}

export interface StackRebuildResult {
  caseId?: string
  dryRun: boolean
  plan: StackRebuildPlan
  steps: StepRecord[]
  imagesBefore: Record<string, string>
  imagesAfter: Record<string, string>
  services: StackServiceState[]
  ok: boolean
}

const STACK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

/** Read the stack file(s); later files override earlier ones per service, as `docker stack deploy -c a -c b` does. */
export async function loadStackModel(
  files: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<StackServiceModel[]> {
  const {parse} = await import('yaml')
  const byName = new Map<string, {image?: unknown; build?: unknown; dir: string}>()
  for (const file of files) {
    let doc: {services?: Record<string, {image?: unknown; build?: unknown} | null>}
    try {
      doc = (parse(await readFile(file, 'utf8')) ?? {}) as typeof doc
    } catch (error) {
      throw new AbortError(
        `Stack file ${file} could not be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0]}`,
        {exit: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'USAGE'},
      )
    }
    for (const [name, svc] of Object.entries(doc.services ?? {})) {
      const prev = byName.get(name)
      byName.set(name, {
        ...prev,
        ...(svc?.image === undefined ? {} : {image: svc.image}),
        ...(svc?.build === undefined ? {} : {build: svc.build}),
        dir: svc?.build === undefined && prev ? prev.dir : dirname(file),
      })
    }
  }
  const sub = (v: unknown): string | undefined =>
    typeof v === 'string' ? substitute(v, (n) => env[n]) : v === undefined || v === null ? undefined : String(v)
  return [...byName.entries()].map(([name, s]) => {
    const image = sub(s.image)
    if (s.build === undefined) return {name, ...(image ? {image} : {})}
    const b =
      typeof s.build === 'string'
        ? {context: s.build}
        : (s.build as {
            context?: string
            dockerfile?: string
            args?: Record<string, unknown> | string[]
            target?: string
          })
    if (!image)
      throw new AbortError(`Stack service "${name}" builds an image but names none (image:)`, {
        exit: 'USAGE',
        hint: '`docker stack deploy` ignores build:: give the service an image: name, which ir builds and the stack runs.',
      })
    const context = resolve(s.dir, sub(b.context) ?? '.')
    const dockerfileRaw = sub(b.dockerfile)
    const dockerfile = dockerfileRaw
      ? isAbsolute(dockerfileRaw)
        ? dockerfileRaw
        : join(context, dockerfileRaw)
      : join(context, 'Dockerfile')
    const args: Record<string, string> = {}
    if (Array.isArray(b.args)) {
      for (const a of b.args) {
        const [k, ...v] = String(a).split('=')
        if (k) args[k] = v.length ? substitute(v.join('='), (n) => env[n]) : (env[k] ?? '')
      }
    } else for (const [k, v] of Object.entries(b.args ?? {})) args[k] = sub(v) ?? env[k] ?? ''
    return {name, image, build: {context, dockerfile, args, ...(b.target ? {target: String(b.target)} : {})}}
  })
}

function buildArgs(s: StackServiceModel, offline: boolean): string[] {
  const b = s.build!
  return [
    'build',
    '--no-cache',
    ...(offline ? [] : ['--pull']),
    '-t',
    s.image!,
    '-f',
    b.dockerfile,
    ...Object.entries(b.args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    ...(b.target ? ['--target', b.target] : []),
    b.context,
  ]
}

function deployArgs(opts: StackRebuildOptions): string[] {
  return [
    'stack',
    'deploy',
    ...opts.files.flatMap((f) => ['-c', f]),
    ...(opts.offline ? ['--resolve-image', 'never'] : []),
    opts.stack,
  ]
}

async function findManager(hosts: HostSet): Promise<ConnectedHost> {
  for (const h of hosts.hosts) {
    const st = await h.engine.swarm.state().catch(() => undefined)
    if (st?.controlAvailable) return h
  }
  if ((await Promise.all(hosts.hosts.map((h) => engineKind(h.engine)))).every((k) => k === 'podman')) {
    throw new AbortError(
      `Podman has no swarm mode (${hosts.hosts.map((h) => h.name).join(', ')}): a stack is deployed from a Docker Engine swarm manager`,
      {
        exit: 'PRECONDITION',
        hint: 'Rebuild a compose project with `ir rebuild -f compose.yml`, or point --host at a Docker swarm manager.',
      },
    )
  }
  throw new AbortError(
    `None of the hosts is a swarm manager (${hosts.hosts.map((h) => h.name).join(', ')}): a stack is deployed from a manager`,
    {exit: 'PRECONDITION', hint: 'Point --host or --context at a manager node (`docker node ls` works there).'},
  )
}

/**
 * The isolated task containers of the stack recorded in the case, each with its evidence check. As for a compose
 * project, a task container that still has processes (paused or running) needs its live state captured: the
 * rebuild removes it, and its memory and processes with it. Its state is read from its host's engine; when that
 * host cannot answer, from the containment record (only a stop took its processes).
 */
export async function isolatedTasks(
  kase: Case,
  hosts: HostSet,
  stack: string,
  serviceNames: readonly string[],
): Promise<StackRebuildPlan['isolated']> {
  const names = new Set(serviceNames)
  const out: StackRebuildPlan['isolated'] = []
  for (const rec of Object.values((await readContainment(kase)).containers)) {
    if (rec.status !== 'isolated') continue
    const inStack = (rec.service && names.has(rec.service.name)) || rec.name.startsWith(`${stack}_`)
    if (!inStack) continue
    const host =
      hosts.hosts.find((h) => (rec.engineId && h.engineId === rec.engineId) || (rec.host && h.name === rec.host)) ??
      (hosts.hosts.length === 1 ? hosts.hosts[0] : undefined)
    const state = host
      ? (await host.engine.containers.inspect(rec.containerId).catch(() => undefined))?.state
      : undefined
    const hasProcesses = state === undefined ? rec.mode !== 'stop' : state === 'running' || state === 'paused'
    out.push({
      ...(await evidenceOf(kase, rec.containerId, rec.name, {hasProcesses})),
      ...(rec.host ? {host: rec.host} : {}),
      ...(rec.service ? {service: rec.service.name} : {}),
    })
  }
  return out
}

export async function planStackRebuild(opts: StackRebuildOptions): Promise<StackRebuildPlan> {
  if (!STACK_NAME.test(opts.stack)) throw new AbortError(`Invalid stack name "${opts.stack}"`, {exit: 'USAGE'})
  if (opts.files.length === 0) throw new AbortError('--stack needs the stack file: -c stack.yml', {exit: 'USAGE'})
  const manager = await findManager(opts.hosts)
  const services = await loadStackModel(opts.files, opts.env)
  const running = (await manager.engine.swarm.services({label: [`${SWARM_LABEL.stack}=${opts.stack}`]})).map(
    (s: SwarmService) => ({
      name: s.name,
      id: s.id,
      image: s.image,
      mode: s.mode,
      ...(s.replicas === undefined ? {} : {replicas: s.replicas}),
    }),
  )
  const isolated: StackRebuildPlan['isolated'] = opts.kase
    ? await isolatedTasks(opts.kase, opts.hosts, opts.stack, [
        ...running.map((r) => r.name),
        ...services.map((s) => `${opts.stack}_${s.name}`),
      ])
    : []
  const warnings: string[] = []
  if (opts.offline)
    warnings.push(
      '--offline: base images are NOT refreshed from a registry; the rebuild uses the local copies of the base images.',
    )
  const nodes = await manager.engine.swarm.nodes().catch(() => [])
  if (nodes.length > 1 && services.some((s) => s.build))
    warnings.push(
      `the swarm has ${nodes.length} nodes: images are built on the manager only; other nodes must get them from a registry (push them) or run the tasks on the manager.`,
    )
  const global = manager.cli.args
  const commands = [
    ...services.filter((s) => s.build).map((s) => ['docker', ...global, ...buildArgs(s, opts.offline)]),
    ['docker', ...global, ...deployArgs(opts)],
    ...services
      .filter((s) => s.build)
      .map((s) => ['docker', ...global, 'service', 'update', '--force', '--detach', `${opts.stack}_${s.name}`]),
  ]
  return {
    stack: opts.stack,
    files: opts.files,
    manager: {host: manager.name, engineId: manager.engineId},
    services,
    running,
    isolated,
    commands,
    warnings,
  }
}

/**
 * Redeploy a swarm stack from freshly built images, evidence first: refuse while an isolated task
 * container of the stack has no verified evidence in the case (unless --force --reason, audited,
 * or --save-evidence snapshots it first); build every image the stack file builds on the manager
 * (`docker build --no-cache`, with --pull unless offline), `docker stack deploy`, then force-update
 * the rebuilt services so every task runs the new image, and wait until each service has its
 * desired number of running tasks. Never removes an image; the services' specs before the rebuild
 * are recorded in the case.
 */
export async function rebuildStack(opts: StackRebuildOptions): Promise<StackRebuildResult> {
  const plan = await planStackRebuild(opts)
  const manager = opts.hosts.hosts.find((h) => h.name === plan.manager.host)!
  const base: StackRebuildResult = {
    dryRun: opts.dryRun,
    plan,
    steps: [],
    imagesBefore: {},
    imagesAfter: {},
    services: [],
    ok: false,
    ...(opts.kase ? {caseId: opts.kase.id} : {}),
  }
  for (const s of plan.services.filter((x) => x.build)) {
    const info = await manager.engine.images.inspect(s.image!).catch(() => undefined)
    if (info) base.imagesBefore[s.name] = info.id
  }
  if (opts.dryRun) return {...base, ok: true}
  const kase = opts.kase
  if (!kase) throw new AbortError('A rebuild records into a case: give --case', {exit: 'USAGE'})
  const steps = base.steps
  const cliLog = new PassThrough()
  const logWrite = kase.addEvidence({
    name: `rebuild/stack-${plan.stack}-${fileStamp()}.log`,
    type: 'stack-log',
    description: `docker CLI output of ir rebuild --stack ${plan.stack}`,
    source: {host: manager.name, engineId: manager.engineId},
    content: cliLog,
  })
  const onLine = (line: string): void => {
    const safe = redactText(line)
    cliLog.write(`${safe}\n`)
    opts.onLine?.(safe)
  }
  const docker = (args: string[]): Promise<{stdout: string}> =>
    opts.docker(args, {
      global: manager.cli.args,
      env: manager.cli.env,
      onLine,
      ...(opts.signal ? {signal: opts.signal} : {}),
      ...(opts.log ? {log: opts.log} : {}),
    })
  const step = stepRecorder({
    kase,
    target: plan.stack,
    label: `Rebuild stack ${plan.stack}`,
    steps,
    details: {stack: plan.stack, host: manager.name, engineId: manager.engineId},
    ...(opts.signal ? {signal: opts.signal} : {}),
    ...(opts.progress ? {progress: opts.progress} : {}),
  })

  const started = new Date()
  try {
    await step('preflight', async () => {
      let missing = plan.isolated.filter((c) => c.evidence !== 'verified')
      if (missing.length > 0 && opts.saveEvidence) {
        opts.progress?.(`  saving evidence of ${missing.map((m) => m.name).join(', ')} first`)
        const refs = missing.map((m) => (opts.hosts.multi && m.host ? `${m.host}/${m.containerId}` : m.containerId))
        const snap = await snapshotOnHosts({
          hosts: opts.hosts,
          kase,
          selection: {refs},
          export: true,
          volumes: false,
          ...(opts.signal ? {signal: opts.signal} : {}),
          ...(opts.progress ? {progress: opts.progress} : {}),
        })
        if (!snap.containers.every((c) => c.status === 'snapshotted'))
          throw new AbortError('Saving evidence before the rebuild failed; nothing was changed.', {
            exit: 'PRECONDITION',
          })
        plan.isolated = await Promise.all(
          plan.isolated.map(async (c) => ({
            ...c,
            ...(await evidenceOf(kase, c.containerId, c.name, {hasProcesses: c.liveState !== 'not-needed'})),
          })),
        )
        missing = plan.isolated.filter((c) => c.evidence !== 'verified')
      }
      if (missing.length > 0) {
        if (!opts.force) {
          throw new AbortError(
            `Refusing to rebuild stack ${plan.stack}: isolated task container(s) without verified evidence: ${missing.map((m) => `${m.name} (${m.evidence}${m.liveState === 'missing' ? ': no live state captured; the rebuild destroys its processes and memory' : ''})`).join(', ')}`,
            {
              exit: 'PRECONDITION',
              hint: `Run \`ir snapshot --case ${kase.id} --service <service>\` first, or use --save-evidence; --force --reason "..." overrides (audited).`,
            },
          )
        }
        await kase.record({
          action: 'rebuild.force',
          target: plan.stack,
          outcome: 'info',
          msg: `Stack rebuild forced without evidence of ${missing.map((m) => m.name).join(', ')}: ${opts.force.reason}`,
          details: {containers: missing, reason: opts.force.reason, stack: plan.stack},
        })
      }
      // What recovery could roll back to: the specs of the stack's services as they are now.
      const specs = await Promise.all(plan.running.map((r) => manager.engine.swarm.inspectService(r.id)))
      await kase.addJsonEvidence({
        name: `rebuild/stack-${plan.stack}-services-before-${fileStamp()}.json`,
        type: 'swarm-service',
        description: `specs of the services of stack ${plan.stack} before ir rebuild`,
        source: {host: manager.name, engineId: manager.engineId},
        data: specs,
      })
      return missing.length
    })
    for (const s of plan.services.filter((x) => x.build)) {
      await step(`build ${s.name} (${s.image}, no cache${opts.offline ? ', offline' : ', pull'})`, () =>
        docker(buildArgs(s, opts.offline)),
      )
      const info = await manager.engine.images.inspect(s.image!)
      base.imagesAfter[s.name] = info.id
    }
    await step('stack deploy', () => docker(deployArgs(opts)))
    // A rebuilt image under an unchanged tag leaves the service spec unchanged: force new tasks.
    for (const s of plan.services.filter((x) => x.build)) {
      await step(`force update ${opts.stack}_${s.name}`, () =>
        docker(['service', 'update', '--force', '--detach', `${opts.stack}_${s.name}`]),
      )
    }
    base.services = await step(
      'wait for services',
      () => waitForStack(opts, manager, plan, base.imagesAfter, started),
      (s) => s.map((x) => `${x.service}: ${x.running}/${x.desired}`).join(', '),
    )
    // The isolated task containers were replaced (the swarm shut them down): say so in the containment records (their evidence stays).
    const state = await readContainment(kase)
    for (const c of plan.isolated) {
      const found = findContainment(state.containers, c.containerId)
      if (found?.record.status === 'isolated')
        await saveContainmentRecord(
          kase,
          {...found.record, status: 'removed', releasedAt: new Date().toISOString()},
          found.key,
        )
    }
  } finally {
    cliLog.end()
    await logWrite.catch(() => undefined)
  }
  const ok = steps.every((s) => s.ok) && base.services.every((s) => s.ok)
  await kase.addJsonEvidence({
    name: `rebuild/stack-${plan.stack}-${fileStamp()}.json`,
    type: 'rebuild-record',
    description: `ir rebuild --stack ${plan.stack}`,
    source: {host: manager.name, engineId: manager.engineId},
    data: {...base, ok},
  })
  await kase.record({
    action: 'rebuild',
    target: plan.stack,
    outcome: ok ? 'success' : 'partial',
    msg: ok
      ? `Rebuilt stack ${plan.stack}: ${base.services.length} service(s) running their desired tasks`
      : `Rebuilt stack ${plan.stack}, but not converged: ${base.services
          .filter((s) => !s.ok)
          .map((s) => `${s.service} (${s.running}/${s.desired})`)
          .join(', ')}`,
    details: {
      stack: plan.stack,
      host: manager.name,
      engineId: manager.engineId,
      services: base.services,
      imagesBefore: base.imagesBefore,
      imagesAfter: base.imagesAfter,
      steps: steps.map((s) => ({step: s.step, ok: s.ok, durationMs: s.durationMs})),
    },
  })
  return {...base, ok}
}

/** Until every service of the stack has its desired running tasks, all started after the rebuild began (rebuilt ones on the new image). */
async function waitForStack(
  opts: StackRebuildOptions,
  manager: ConnectedHost,
  plan: StackRebuildPlan,
  imagesAfter: Record<string, string>,
  started: Date,
): Promise<StackServiceState[]> {
  const deadline = Date.now() + opts.waitTimeoutSeconds * 1000
  const built = new Map(
    plan.services.filter((s) => s.build).map((s) => [`${plan.stack}_${s.name}`, imagesAfter[s.name]]),
  )
  for (;;) {
    opts.signal?.throwIfAborted()
    const services = await manager.engine.swarm.services({label: [`${SWARM_LABEL.stack}=${plan.stack}`]})
    const states: StackServiceState[] = []
    for (const svc of services) {
      const tasks = (await manager.engine.swarm.tasks({service: [svc.id], 'desired-state': ['running']})).filter(
        (t) => t.state === 'running',
      )
      const desired =
        svc.replicas ?? (await manager.engine.swarm.nodes()).filter((n) => n.availability === 'active').length
      const wanted = built.get(svc.name)
      let imageId: string | undefined
      let fresh = true
      for (const t of tasks) {
        if (wanted && t.createdAt && Date.parse(t.createdAt) < started.getTime()) fresh = false
        if (wanted && t.containerId) {
          const d = await manager.engine.containers.inspect(t.containerId).catch(() => undefined)
          if (d) {
            imageId = d.imageId
            if (d.imageId !== wanted) fresh = false
          }
        }
      }
      states.push({
        service: svc.name,
        image: svc.image,
        ...(imageId ? {imageId} : {}),
        desired,
        running: tasks.length,
        ok: tasks.length === desired && fresh,
      })
    }
    if (states.every((s) => s.ok) || Date.now() >= deadline)
      return states.sort((a, b) => a.service.localeCompare(b.service))
    await new Promise((r) => setTimeout(r, 1000))
  }
}
