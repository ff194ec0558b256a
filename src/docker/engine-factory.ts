import type {Logger} from '../util/logger.js'
import type {ComposeClient} from './compose.js'
import {
  type ConnectOptions,
  connectHosts,
  type HostFlagValues,
  hostFlagsGiven,
  type HostSet,
  type HostSpec,
  hostSpecsFromFlags,
  singleHost,
} from './hosts.js'
import type {Engine} from './types.js'

/**
 * Where commands get their engines: the one place that knows the real client is dockerode. BaseCommand holds one
 * (`BaseCommand.engineFactory`); the command tests put one over FakeEngine there, so flags -> service options are
 * tested without Docker.
 */
export interface EngineFactory {
  /** The engine the docker CLI would use (DOCKER_HOST, DOCKER_CONTEXT, the current context), checked to answer. */
  connect(log: Logger): Promise<Engine>
  /** The client of one host spec (--host, --context, an inventory entry); connectHosts pings it. */
  forSpec(log: Logger): Promise<(spec: HostSpec) => Engine>
  /** The compose CLI next to an engine (v2 plugin or v1 binary). */
  compose(log: Logger, engine?: Engine): Promise<ComposeClient>
}

/** dockerode and the docker CLI, each loaded only when a command talks to an engine. */
export const dockerodeEngines: EngineFactory = {
  async connect(log) {
    const {connectEngine} = await import('./dockerode-engine.js')
    return connectEngine(log)
  },
  async forSpec(log) {
    const {DockerodeEngine} = await import('./dockerode-engine.js')
    return (spec) => new DockerodeEngine(spec.endpoint, log)
  },
  async compose(log, engine) {
    const {detectCompose} = await import('./compose.js')
    return detectCompose(log, engine)
  },
}

/**
 * The hosts named by --host / --context / --hosts, connected concurrently (an unreachable one is in the set's
 * `unreachable`); without those flags, the default engine as a set of one (unreachable is fatal).
 */
export async function connectNamedHosts(
  factory: EngineFactory,
  named: HostFlagValues,
  opts: Omit<ConnectOptions, 'makeEngine'>,
): Promise<HostSet> {
  if (!hostFlagsGiven(named)) return singleHost(await factory.connect(opts.log))
  const specs = await hostSpecsFromFlags(named)
  return connectHosts(specs, {...opts, makeEngine: await factory.forSpec(opts.log)})
}

/** What every step of a playbook run reaches engines through: connected on first use, shared by the steps. */
export interface Clients {
  engine: () => Promise<Engine>
  compose: () => Promise<ComposeClient>
  /** The hosts a step names (endpoints, an inventory), or the default engine as a set of one. */
  hosts: (named?: HostFlagValues) => Promise<HostSet>
}

export function lazyClients(factory: EngineFactory, log: Logger): Clients {
  let engine: Promise<Engine> | undefined
  let compose: Promise<ComposeClient> | undefined
  let single: Promise<HostSet> | undefined
  const clients: Clients = {
    engine: () => {
      engine ??= factory.connect(log)
      // A failed connection is retried by the next step (the engine may come back).
      engine.catch(() => (engine = undefined))
      return engine
    },
    compose: () => (compose ??= factory.compose(log)),
    hosts: async (named = {}) =>
      hostFlagsGiven(named)
        ? connectNamedHosts(factory, named, {log, allowNone: true})
        : (single ??= clients.engine().then(singleHost)).catch((error: unknown) => {
            single = undefined
            throw error
          }),
  }
  return clients
}
