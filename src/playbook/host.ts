import type {CaseStore} from '../case/case-store.js'
import {type ComposeClient, detectCompose} from '../docker/compose.js'
import {connectEngine} from '../docker/dockerode-engine.js'
import type {Engine} from '../docker/types.js'
import type {Logger} from '../util/logger.js'

/** Lazily connected engine and compose client, shared by every step of a run. */
export function lazyClients(log: Logger): {engine: () => Promise<Engine>; compose: () => Promise<ComposeClient>} {
  let engine: Promise<Engine> | undefined
  let compose: Promise<ComposeClient> | undefined
  return {
    engine: () => {
      engine ??= connectEngine(log)
      // A failed connection is retried by the next step (the engine may come back).
      engine.catch(() => (engine = undefined))
      return engine
    },
    compose: () => (compose ??= detectCompose(log)),
  }
}

export type {CaseStore}
