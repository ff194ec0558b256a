import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import type {Engine} from '../docker/types.js'
import {ExitCode} from '../errors.js'
import {caseFlag, dryRunFlag, yesFlag} from '../flags.js'
import {isInteractive} from '../prompts/confirm.js'
import {askRotation} from '../prompts/rotate.js'
import {renderRotate} from '../render/rotate.js'
import {ALPHABET_NAMES, type AlphabetName, DEFAULT_LENGTH, MAX_LENGTH, MIN_LENGTH} from '../services/rotate/generate.js'
import {type RotateResult, rotateCredentials} from '../services/rotate/rotate.js'
import {type RotateInput, rotateHasDecisions, rotateOptions} from '../services/step-options.js'

export default class Rotate extends BaseCommand<typeof Rotate> {
  static override summary =
    'Rotate every credential a compromised container could have read: inventory, walkthrough, record.'

  static override description = `Builds the inventory of credentials, each listed once with every place it appears: the compose project
(environment, env_file, secrets, variables interpolated from .env), the .env files, swarm secrets and configs, and the
environment (names only) and mounted credential files of the containers in the case (isolated by ir isolate, or named
with --container). Credentials those containers could read come first.

On a TTY it walks through each credential: generate a new value now (written into the .env file atomically, after a
0600 backup next to it), mark it rotated elsewhere, skip it with a reason, or leave and resume later with the same
--case. Without a TTY, give the decisions with --generate, --mark-rotated, --skip or --answers, and --yes.

No value is ever written to the case, the audit log or the output; a new value is shown only with --show on a TTY.`

  static override examples = [
    {
      description: 'Walk through the credentials of the compose project in this folder',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001',
    },
    {
      description: 'Only list the inventory (JSON, no values)',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 --list --json',
    },
    {
      description: 'Include a container that is not isolated in the case',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 --container web-1 --list',
    },
    {
      description: 'Generate new values, record the others, without a TTY',
      command:
        '<%= config.bin %> <%= command.id %> --case IR-2026-001 --generate API_KEY --generate DB_PASSWORD --mark-rotated STRIPE_KEY --skip "LEGACY_TOKEN=revoked by the vendor" --yes',
    },
    {
      description: 'Decisions from a file; fail while anything is left unrotated',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 --answers rotation.yml --yes --require-all',
    },
    {
      description: 'Another project folder and compose files',
      command:
        '<%= config.bin %> <%= command.id %> --project-directory /srv/app -f /srv/app/compose.yaml -f /srv/app/compose.prod.yaml --list',
    },
  ]

  static override flags = {
    case: caseFlag,
    yes: yesFlag,
    'dry-run': dryRunFlag,
    file: Flags.string({
      char: 'f',
      summary:
        'Compose file (repeatable). Default: compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml in the project folder.',
      multiple: true,
      helpValue: '<path>',
    }),
    'project-directory': Flags.string({
      summary: "The compose project folder (default: the first compose file's folder, or the current one).",
      helpValue: '<dir>',
    }),
    'env-file': Flags.string({
      summary: 'A .env file read in addition to <project>/.env (repeatable).',
      multiple: true,
      helpValue: '<path>',
    }),
    container: Flags.string({
      summary: 'A container to treat as compromised, besides those isolated in the case (repeatable).',
      multiple: true,
      helpValue: '<name|id>',
    }),
    list: Flags.boolean({
      summary: 'Only show the inventory and what is decided; no walkthrough, nothing written but the case record.',
      default: false,
    }),
    generate: Flags.string({
      summary: 'Generate a new value for NAME and write it into its .env file (repeatable).',
      multiple: true,
      helpValue: '<NAME>',
    }),
    'mark-rotated': Flags.string({
      summary: 'Record NAME as rotated elsewhere, e.g. at the provider (repeatable).',
      multiple: true,
      helpValue: '<NAME>',
    }),
    skip: Flags.string({
      summary: 'Record NAME as deliberately not rotated, with the reason (repeatable).',
      multiple: true,
      helpValue: '<NAME=reason>',
    }),
    answers: Flags.string({
      summary: 'YAML file of decisions: NAME: {action: generate|mark-rotated|skip, reason: "..."}.',
      helpValue: '<file.yml>',
    }),
    length: Flags.integer({
      summary: 'Length of generated values.',
      default: DEFAULT_LENGTH,
      min: MIN_LENGTH,
      max: MAX_LENGTH,
    }),
    alphabet: Flags.string({summary: 'Characters of generated values.', options: ALPHABET_NAMES, default: 'url-safe'}),
    show: Flags.boolean({summary: 'Print each new value to stdout (only when stdout is a terminal).', default: false}),
    'require-all': Flags.boolean({
      summary:
        'Exit 1 while any credential is neither generated nor marked rotated (skipped ones count as not rotated).',
      default: false,
    }),
  }

  async run(): Promise<RotateResult> {
    const {flags} = this
    let engine: Engine | undefined
    let engineError: unknown
    try {
      engine = await this.connect()
    } catch (error) {
      if (flags.container?.length) throw error
      engineError = error
    }
    const input: RotateInput = {
      cwd: process.cwd(),
      files: flags.file,
      projectDirectory: flags['project-directory'],
      envFiles: flags['env-file'],
      containers: flags.container,
      generate: flags.generate,
      markRotated: flags['mark-rotated'],
      skip: flags.skip,
      answersFile: flags.answers,
      length: flags.length,
      alphabet: flags.alphabet as AlphabetName,
    }
    const hasDecisions = rotateHasDecisions(input)
    const dryRun = flags['dry-run']
    const interactive = isInteractive() && !hasDecisions && !flags.list && !dryRun && !this.jsonEnabled()
    const showValues = flags.show && Boolean(process.stdout.isTTY) && !this.jsonEnabled()
    if (flags.show && !showValues)
      this.warnLine(
        '--show is ignored: new values are printed only to a terminal (not with --json, not into a pipe or file).',
      )
    // A dry run writes nothing: it reads an existing case (for its isolated containers and decisions) but creates none.
    const kase = dryRun
      ? flags.case && (await this.store.exists(flags.case))
        ? await this.openExistingCase(flags.case)
        : undefined
      : await this.openCase(flags.case)
    const result = await rotateCredentials(
      rotateOptions(input, {
        ...(kase ? {kase} : {}),
        dryRun,
        ...(engine ? {engine} : {engineError}),
        ...(interactive ? {decide: (item, position) => askRotation({item, ...position})} : {}),
        confirm: (question) =>
          this.confirm(question, {yes: flags.yes, what: 'write new credential values or record rotation decisions'}),
        ...(showValues ? {reveal: (name: string, value: string) => process.stdout.write(`${name}=${value}\n`)} : {}),
        progress: (l) => this.progress(l),
      }),
    )
    this.log(renderRotate(result, {listOnly: !interactive && !hasDecisions}))
    if (dryRun) return result
    if (result.failures.length > 0) this.failWith(ExitCode.FAILURE)
    if (flags['require-all']) {
      const unrotated = result.summary.remaining + result.summary.skipped
      if (unrotated > 0) {
        this.warnLine(
          `--require-all: ${unrotated} credential(s) not rotated: ${[...result.summary.remainingNames, ...result.summary.skippedNames].join(', ')}`,
        )
        this.failWith(ExitCode.FAILURE)
      }
    }
    if (result.interrupted) this.failWith(ExitCode.INTERRUPTED)
    this.failIfInterrupted()
    return result
  }
}
