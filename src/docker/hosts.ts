import {readFile} from 'node:fs/promises'
import {dirname, isAbsolute, join, resolve} from 'node:path'

import {safeFileName} from '../util/file-names.js'
import {AbortError, type ErrorInfo, toErrorInfo} from '../errors.js'
import {mapBounded} from '../util/concurrency.js'
import type {Logger} from '../util/logger.js'
import {applyTls, defaultEndpoint, type EngineEndpoint, endpointFromContext, parseDockerHost} from './engine-config.js'
import {engineError} from './errors.js'
import type {Engine} from './types.js'

/**
 * Many engines at once: where each comes from (--host, --context, --hosts inventory, or the one
 * engine of DOCKER_HOST), how to reach it (Engine API through dockerode, and the docker CLI for
 * build / stack deploy), and connecting to all of them concurrently so that an unreachable host is
 * reported instead of stopping the others.
 */

/** What the user asked for, kept in the case so a retry can reconnect (never key material). */
export type HostSource =
  | {kind: 'default'}
  | {kind: 'host'; value: string}
  | {kind: 'context'; name: string}
  | {kind: 'inventory'; file: string; name: string}

export interface HostSpec {
  /** Inventory name, context name, or the endpoint as given. */
  name: string
  source: HostSource
  endpoint: EngineEndpoint
  labels: Record<string, string>
  /** docker CLI global options (and environment) reaching the same engine. */
  cli: {args: string[]; env: Record<string, string>}
}

export interface HostFlagValues {
  host?: string[]
  context?: string[]
  hosts?: string
}

export function hostFlagsGiven(f: HostFlagValues): boolean {
  return Boolean(f.host?.length || f.context?.length || f.hosts)
}

/** The host specs named by the flags, in the order given; the default engine when none is. */
export async function hostSpecsFromFlags(f: HostFlagValues, env: NodeJS.ProcessEnv = process.env): Promise<HostSpec[]> {
  if (!hostFlagsGiven(f)) return [await defaultHostSpec(env)]
  const specs: HostSpec[] = []
  for (const raw of f.host ?? []) specs.push(hostSpecFromFlag(raw, env))
  for (const name of f.context ?? []) specs.push(await hostSpecFromContext(name, env))
  if (f.hosts) specs.push(...(await readInventory(f.hosts, env)))
  return dedupeSpecs(specs)
}

/** Rebuild a spec from what was recorded in a case (a retry reconnects to the same engines). */
export async function hostSpecFromSource(source: HostSource, env: NodeJS.ProcessEnv = process.env): Promise<HostSpec> {
  switch (source.kind) {
    case 'default':
      return defaultHostSpec(env)
    case 'host':
      return hostSpecFromFlag(source.value, env)
    case 'context':
      return hostSpecFromContext(source.name, env)
    case 'inventory': {
      const spec = (await readInventory(source.file, env)).find((s) => s.name === source.name)
      if (!spec)
        throw new AbortError(`Host "${source.name}" is no longer in the inventory ${source.file}`, {exit: 'NOT_FOUND'})
      return spec
    }
  }
}

/** The engine the docker CLI would use: DOCKER_HOST, DOCKER_CONTEXT, the current context, or the default socket. */
export async function defaultHostSpec(env: NodeJS.ProcessEnv = process.env): Promise<HostSpec> {
  const {endpoint, labels} = await defaultEndpoint(env)
  // The docker CLI resolves the same engine from the same environment: no global options.
  return {name: endpoint.display, source: {kind: 'default'}, endpoint, labels, cli: {args: [], env: {}}}
}

/** `--host unix:///run/docker.sock`, `--host tcp://10.0.0.5:2376` (TLS per DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), `--host ssh://ops@web-1`. */
export function hostSpecFromFlag(raw: string, env: NodeJS.ProcessEnv = process.env): HostSpec {
  const value = raw.trim()
  if (!value)
    throw new AbortError('--host needs an engine address', {
      exit: 'USAGE',
      hint: 'Use unix:///path/to/docker.sock, tcp://host:2376 or ssh://user@host.',
    })
  const endpoint = parseDockerHost(value, env, '--host')
  return {name: value, source: {kind: 'host', value}, endpoint, labels: {}, cli: {args: ['-H', value], env: {}}}
}

/** A context from the docker CLI's store (see endpointFromContext); "default" is DOCKER_HOST or the default socket. */
export async function hostSpecFromContext(name: string, env: NodeJS.ProcessEnv = process.env): Promise<HostSpec> {
  const {endpoint, labels} = await endpointFromContext(name, env)
  return {name, source: {kind: 'context', name}, endpoint, labels, cli: {args: ['--context', name], env: {}}}
}

/** One inventory entry: `{name, endpoint, tls: {ca, cert, key}, labels}`; TLS paths relative to the file. */
export interface InventoryEntry {
  name: string
  endpoint: string
  tls?: {ca?: string; cert?: string; key?: string; verify?: boolean}
  labels?: Record<string, string>
}

/**
 * Read an inventory (YAML or JSON): a list of entries, or `{hosts: [...]}`.
 *
 *     - name: web-1
 *       endpoint: tcp://10.0.0.5:2376
 *       tls: {ca: certs/ca.pem, cert: certs/web-1-cert.pem, key: certs/web-1-key.pem}
 *       labels: {role: web}
 */
export async function readInventory(file: string, env: NodeJS.ProcessEnv = process.env): Promise<HostSpec[]> {
  const path = resolve(file)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new AbortError(
      `Host inventory ${path} could not be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      {exit: 'NOT_FOUND'},
    )
  }
  const {parse} = await import('yaml')
  const {z} = await import('zod')
  let raw: unknown
  try {
    raw = parse(text)
  } catch (error) {
    throw new AbortError(`Host inventory ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, {
      exit: 'USAGE',
    })
  }
  const entry = z
    .object({
      name: z.string().trim().min(1),
      endpoint: z.string().trim().min(1),
      tls: z
        .object({
          ca: z.string().optional(),
          cert: z.string().optional(),
          key: z.string().optional(),
          verify: z.boolean().optional(),
        })
        .strict()
        .optional(),
      labels: z.record(z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
    })
    .strict()
  const doc = z.union([z.array(entry), z.object({hosts: z.array(entry)}).strict()]).safeParse(raw)
  if (!doc.success) {
    const issues = doc.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`)
    throw new AbortError(`Host inventory ${path} is invalid: ${issues.join('; ')}`, {
      exit: 'USAGE',
      hint: 'Expected a list of {name, endpoint, tls: {ca, cert, key}, labels}.',
    })
  }
  const entries = Array.isArray(doc.data) ? doc.data : doc.data.hosts
  if (entries.length === 0) throw new AbortError(`Host inventory ${path} lists no hosts`, {exit: 'USAGE'})
  const specs: HostSpec[] = []
  for (const e of entries) {
    const what = `inventory host "${e.name}"`
    // TLS material named in the inventory wins over DOCKER_CERT_PATH; without it the environment applies as for --host.
    const endpoint = parseDockerHost(e.endpoint, e.tls ? {} : env, what)
    const cliArgs = ['-H', e.endpoint]
    if (e.tls) {
      const at = (p?: string): string | undefined => (p ? (isAbsolute(p) ? p : join(dirname(path), p)) : undefined)
      const paths = {ca: at(e.tls.ca), cert: at(e.tls.cert), key: at(e.tls.key)}
      const tls = {
        ca: await readRequired(paths.ca, what),
        cert: await readRequired(paths.cert, what),
        key: await readRequired(paths.key, what),
      }
      if (!endpoint.options.host)
        throw new AbortError(`${what}: tls is only meaningful for a tcp:// endpoint`, {exit: 'USAGE'})
      if (e.tls.verify === false || !tls.ca)
        throw new AbortError(`${what}: ir always verifies the engine's TLS certificate: give tls.ca`, {exit: 'USAGE'})
      applyTls(endpoint, tls, e.endpoint)
      cliArgs.push('--tlsverify')
      if (paths.ca) cliArgs.push('--tlscacert', paths.ca)
      if (paths.cert) cliArgs.push('--tlscert', paths.cert)
      if (paths.key) cliArgs.push('--tlskey', paths.key)
    }
    specs.push({
      name: e.name,
      source: {kind: 'inventory', file: path, name: e.name},
      endpoint,
      labels: e.labels ?? {},
      cli: {args: cliArgs, env: {}},
    })
  }
  return specs
}

async function readRequired(path: string | undefined, what: string): Promise<Buffer | undefined> {
  if (!path) return undefined
  try {
    return await readFile(path)
  } catch {
    throw new AbortError(`${what}: TLS file ${path} could not be read`, {exit: 'USAGE'})
  }
}

function dedupeSpecs(specs: HostSpec[]): HostSpec[] {
  const byName = new Map<string, HostSpec>()
  for (const s of specs) {
    const seen = byName.get(s.name)
    if (!seen) byName.set(s.name, s)
    else if (seen.endpoint.display !== s.endpoint.display) {
      throw new AbortError(`Two hosts are named "${s.name}" (${seen.endpoint.display} and ${s.endpoint.display})`, {
        exit: 'USAGE',
        hint: 'Host names must be unique across --host, --context and --hosts.',
      })
    }
  }
  return [...byName.values()]
}

/** A host ir is connected to. */
export interface ConnectedHost {
  name: string
  /** The endpoint as shown to the user (no key material). */
  endpoint: string
  source: HostSource
  labels: Record<string, string>
  engine: Engine
  /** `docker info` ID: stable per engine, distinguishes engines that share a hostname. */
  engineId: string
  /** `docker info` Name: the engine's hostname. */
  engineName: string
  /** Folder under evidence/ for this host's evidence tree ('' when there is only one host). */
  dir: string
  cli: HostSpec['cli']
}

export interface UnreachableHost {
  name: string
  endpoint: string
  source: HostSource
  error: ErrorInfo
}

export interface HostSet {
  hosts: ConnectedHost[]
  unreachable: UnreachableHost[]
  /** More than one host was asked for: evidence goes to evidence/<host>/..., containment keys carry the engine id. */
  multi: boolean
  /** E.g. two hosts reporting the same engine id (the same engine reached twice, or cloned machines sharing a key). */
  warnings?: string[]
}

/** The engine identity that goes into evidence sources, audit details and containment records. */
export interface HostRef {
  name: string
  engineId: string
  /** Folder under evidence/ ('' for the single-host layout). */
  dir: string
  multi: boolean
}

/**
 * One engine as a set of one host: the default engine (DOCKER_HOST, the current context), as every step sees it
 * without --host, --context or --hosts. Reads the engine id with `docker info`.
 */
export async function singleHost(engine: Engine): Promise<HostSet> {
  const info = await engine.info()
  return {
    hosts: [
      {
        name: engine.endpoint,
        endpoint: engine.endpoint,
        source: {kind: 'default'},
        labels: {},
        engine,
        engineId: info.id,
        engineName: info.name,
        dir: '',
        cli: {args: [], env: {}},
      },
    ],
    unreachable: [],
    multi: false,
  }
}

export function hostRef(h: ConnectedHost, multi: boolean): HostRef {
  return {name: h.name, engineId: h.engineId, dir: h.dir, multi}
}

export interface ConnectOptions {
  log: Logger
  /** Build the engine client for a spec (tests inject fakes). */
  makeEngine: (spec: HostSpec) => Engine
  /** Hosts connected at once (default 16). */
  concurrency?: number
  /** Bound on `docker info` after a successful ping (ms). */
  infoTimeoutMs?: number
  /** Force the multi-host layout (a retry of some hosts of a multi-host run). Default: more than one spec. */
  multi?: boolean
  /** Return an empty host set instead of failing when no host answers (a retry reports them again). */
  allowNone?: boolean
}

/**
 * Connect to every host concurrently: ping (with the engine's ping timeout) and read its engine id.
 * Unreachable hosts are returned, not thrown, as long as one host answers; when none does, the
 * error names every host tried.
 */
export async function connectHosts(specs: readonly HostSpec[], opts: ConnectOptions): Promise<HostSet> {
  const multi = opts.multi ?? specs.length > 1
  const results = await mapBounded(
    specs,
    opts.concurrency ?? 16,
    async (spec): Promise<ConnectedHost | UnreachableHost> => {
      try {
        const engine = opts.makeEngine(spec)
        await engine.ping()
        const info = await withTimeout(
          engine.info(),
          opts.infoTimeoutMs ?? 10_000,
          `${spec.endpoint.display}: no answer to docker info`,
        )
        return {
          name: spec.name,
          endpoint: spec.endpoint.display,
          source: spec.source,
          labels: spec.labels,
          engine,
          engineId: info.id,
          engineName: info.name,
          dir: '',
          cli: spec.cli,
        }
      } catch (error) {
        const info = toErrorInfo(asUnreachable(engineError(error, spec.endpoint.display, 'ping the engine'), spec))
        opts.log.debug({host: spec.name, err: info.message}, 'host unreachable')
        return {name: spec.name, endpoint: spec.endpoint.display, source: spec.source, error: info}
      }
    },
  )
  const hosts = results.filter((r): r is ConnectedHost => 'engine' in r)
  const unreachable = results.filter((r): r is UnreachableHost => !('engine' in r))
  if (hosts.length === 0 && !opts.allowNone) {
    const only = unreachable.length === 1 ? unreachable[0] : undefined
    if (only)
      throw new AbortError(only.error.message, {
        exit: only.error.code,
        ...(only.error.hint ? {hint: only.error.hint} : {}),
      })
    throw new AbortError(
      `No Docker engine answered: ${unreachable.map((u) => `${u.name} (${u.error.message})`).join('; ')}`,
      {
        exit: 'ENGINE_UNREACHABLE',
        hint: 'Check the addresses given with --host, --context or --hosts, and that the engines run.',
      },
    )
  }
  assignDirs(hosts, multi)
  const warnings: string[] = []
  const byId = new Map<string, string[]>()
  for (const h of hosts) byId.set(h.engineId, [...(byId.get(h.engineId) ?? []), h.name])
  for (const [id, names] of byId) {
    if (names.length > 1)
      warnings.push(
        `hosts ${names.join(', ')} report the same engine id ${id}: the same engine reached twice, or machines cloned with the same /etc/docker/key.json. A container found on both is handled once.`,
      )
  }
  return {hosts, unreachable, multi, ...(warnings.length ? {warnings} : {})}
}

/** Whatever stopped the ping (refused, TLS handshake, an HTTP error), the host is unreachable for ir: say why and what to check. */
function asUnreachable(err: AbortError | Error, spec: HostSpec): AbortError {
  const ir = err as AbortError
  if (ir.exitName === 'ENGINE_UNREACHABLE') return ir
  const msg = ir.message
  const tls = /HTTPS server|certificate|handshake|SSL|TLS|self[- ]signed|EPROTO/i.test(msg)
  const hint = tls
    ? spec.endpoint.options.protocol === 'https'
      ? 'Check the TLS material: the CA must have signed the engine certificate, and the engine must accept the client certificate.'
      : 'This engine expects TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH for --host, or give tls: {ca, cert, key} in the inventory.'
    : 'Check the address, and that a Docker engine listens there.'
  return new AbortError(`${spec.endpoint.display} did not answer as a Docker engine: ${msg}`, {
    exit: 'ENGINE_UNREACHABLE',
    hint,
    cause: err,
  })
}

/** Evidence folder per host: a safe form of its name, made unique with the engine id when two collide. */
function assignDirs(hosts: ConnectedHost[], multi: boolean): void {
  if (!multi) return
  const used = new Map<string, number>()
  for (const h of hosts) used.set(safeFileName(h.name), (used.get(safeFileName(h.name)) ?? 0) + 1)
  for (const h of hosts) {
    const base = safeFileName(h.name)
    h.dir =
      (used.get(base) ?? 0) > 1 ? safeFileName(`${base}-${h.engineId.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}`) : base
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AbortError(message, {exit: 'ENGINE_UNREACHABLE'})), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
