import {Flags} from '@oclif/core'

/** Flags shared by several commands; the base command adds --json and --debug to all. */
export const caseFlag = Flags.string({
  char: 'c',
  summary: 'Case id to record into (created on first use). Without it a new case id is generated and printed.',
  env: 'IR_CASE',
  helpValue: '<case-id>',
})

export const yesFlag = Flags.boolean({
  char: 'y',
  summary: 'Do not ask for confirmation (required without a TTY for anything that changes state).',
  default: false,
})

export const dryRunFlag = Flags.boolean({
  summary: 'Print exactly what would be done and change nothing.',
  default: false,
})

export const concurrencyFlag = Flags.integer({
  summary: 'How many containers to handle at once.',
  default: 8,
  min: 1,
  max: 64,
})
