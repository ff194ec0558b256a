import type {CaseStore} from '../case/case-store.js'
import {type ComposeClient, detectCompose} from '../docker/compose.js'
import {connectEngine} from '../docker/dockerode-engine.js'
import type {Engine} from '../docker/types.js'
import {isInteractive} from '../prompts/confirm.js'
import type {Logger} from '../util/logger.js'
import type {HumanInterface} from './actions.js'

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

/** The human at the gates: prompts on a TTY (stderr), nothing without one (then --yes decides). */
export async function terminalHuman(opts: {yes: boolean}): Promise<HumanInterface> {
  if (!isInteractive() || opts.yes) return {}
  const {confirm} = await import('@inquirer/prompts')
  const {askRotation} = await import('../prompts/rotate.js')
  const {askReportAnswers, hasEditor, inquirerPrompts} = await import('../prompts/report-answers.js')
  return {
    confirm: (message) => confirm({message, default: false}, {output: process.stderr}),
    decideRotation: (item, position) => askRotation({item, ...position}),
    askReport: async (current, save) =>
      askReportAnswers(current, {prompts: await inquirerPrompts(), useEditor: hasEditor(), save}),
  }
}

export type {CaseStore}
