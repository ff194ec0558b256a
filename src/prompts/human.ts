import type {HumanInterface} from '../playbook/types.js'
import {isInteractive} from './confirm.js'

/** The human at the gates: prompts on a TTY (stderr), nothing without one (then --yes decides). */
export async function terminalHuman(opts: {yes: boolean}): Promise<HumanInterface> {
  if (!isInteractive() || opts.yes) return {}
  const {confirm} = await import('@inquirer/prompts')
  const {askRotation} = await import('./rotate.js')
  const {askReportAnswers, hasEditor, inquirerPrompts} = await import('./report-answers.js')
  return {
    confirm: (message) => confirm({message, default: false}, {output: process.stderr}),
    decideRotation: (item, position) => askRotation({item, ...position}),
    askReport: async (current, save) =>
      askReportAnswers(current, {prompts: await inquirerPrompts(), useEditor: hasEditor(), save}),
  }
}
