import type {Engine, EngineKind} from './types.js'

const kinds = new WeakMap<Engine, Promise<EngineKind>>()

/** docker or podman (its Docker-compatible API), asked once per engine; an engine that does not say is Docker. */
export function engineKind(engine: Engine): Promise<EngineKind> {
  let k = kinds.get(engine)
  if (!k) {
    // An engine whose info() throws (rather than rejects) is Docker too.
    k = Promise.resolve()
      .then(() => engine.info())
      .then(
        (i) => i.kind ?? 'docker',
        () => 'docker' as const,
      )
    kinds.set(engine, k)
  }
  return k
}

/**
 * Environment for compose and `docker build` against that engine. Podman has no BuildKit: Compose v2 would
 * boot a BuildKit container (pulling moby/buildkit); the classic build API is what Podman serves (with buildah).
 */
export async function buildEnvFor(engine: Engine): Promise<Record<string, string>> {
  return (await engineKind(engine)) === 'podman' ? {DOCKER_BUILDKIT: '0', COMPOSE_BAKE: 'false'} : {}
}
