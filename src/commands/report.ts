import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {AbortError, ExitCode} from '../errors.js'
import {askReportAnswers, hasEditor, inquirerPrompts} from '../prompts/report-answers.js'
import {isInteractive} from '../prompts/confirm.js'
import {renderReportResult} from '../render/report.js'
import {reportCase, type ReportResult} from '../services/report/generate.js'
import {
  ANSWER_KEYS_HELP,
  REPORT_FORMATS,
  REPORT_STATUSES,
  type ReportFormat,
  type ReportStatus,
} from '../services/report/types.js'

export default class Report extends BaseCommand<typeof Report> {
  static override summary = 'Write the lessons-learned report of a case: Markdown, self-contained HTML and JSON.'

  static override description = [
    'The facts come from the case: key times and metrics (time to contain, to recover), the full timeline (every audit entry plus responder events), actions by phase, the evidence inventory with SHA-256 and a fresh verification, credentials rotated or skipped (names only), rebuild and hardening results.',
    'The responder adds the judgement: summary, impact, root cause (blameless), trigger, detection, what went well / wrong, where we got lucky, detection gaps, action items and playbook changes. On a TTY these are asked for; without one they come from --answers. A section without an answer is marked "To be completed", never dropped. Answers are saved in the case (state/report-answers.json), so a re-run keeps them.',
    'Each run adds report/report-<UTC stamp>.{md,html,json} to the case as new evidence (earlier versions are kept) and refreshes report.md, report.html and report.json at the case root.',
    `Answers file keys: ${ANSWER_KEYS_HELP}.`,
  ].join('\n\n')

  static override examples = [
    {
      description: 'Write the report, answering the narrative questions on the terminal',
      command: '<%= config.bin %> <%= command.id %> --case IR-20261127-235134-a1b2',
    },
    {
      description: 'Without a TTY: narrative from a YAML file',
      command: '<%= config.bin %> <%= command.id %> --case IR-20261127-235134-a1b2 --answers answers.yml',
    },
    {
      description: 'Only the HTML, marked reviewed, copied to a share',
      command:
        '<%= config.bin %> <%= command.id %> --case IR-20261127-235134-a1b2 --format html --status reviewed --output /srv/postmortems',
    },
  ]

  static override flags = {
    case: Flags.string({char: 'c', summary: 'Case to report on (required).', env: 'IR_CASE', helpValue: '<case-id>'}),
    answers: Flags.string({
      summary: 'YAML file with the narrative answers (its keys override the answers saved in the case).',
      helpValue: '<file.yml>',
    }),
    status: Flags.string({
      summary: 'Review status shown in the header.',
      options: [...REPORT_STATUSES],
      default: 'draft',
    }),
    format: Flags.string({
      summary: 'Formats to write (repeatable or comma-separated; default: all).',
      options: [...REPORT_FORMATS],
      multiple: true,
      delimiter: ',',
    }),
    output: Flags.string({
      char: 'o',
      summary: 'Also copy the files into this folder, as <case-id>-report.<ext>.',
      helpValue: '<dir>',
    }),
    'no-input': Flags.boolean({
      summary: 'Do not ask on a TTY: use the saved answers and --answers only.',
      default: false,
    }),
  }

  async run(): Promise<ReportResult & {answersSaved: boolean}> {
    const {flags} = this
    if (!flags.case) {
      throw new AbortError('Which case? --case is required', {
        exit: 'USAGE',
        hint: 'Give --case <case-id> (or set IR_CASE); list cases with `ir case list`.',
      })
    }
    const kase = await this.openExistingCase(flags.case)
    const interactive = isInteractive() && !flags.answers && !flags['no-input']
    const result = await reportCase({
      kase,
      status: flags.status as ReportStatus,
      ...(flags.format?.length ? {formats: flags.format as ReportFormat[]} : {}),
      ...(flags.answers ? {answersFile: flags.answers} : {}),
      ...(flags.output ? {outputDir: flags.output} : {}),
      ...(interactive
        ? {
            ask: async (current, save) =>
              askReportAnswers(current, {prompts: await inquirerPrompts(), useEditor: hasEditor(), save}),
          }
        : {}),
    })
    this.log(renderReportResult(result, kase.dir))
    if (!interactive && !flags.answers && result.narrative.missing.length > 0 && !isInteractive()) {
      this.progress(
        `No TTY and no --answers: ${result.narrative.missing.length} section(s) marked "To be completed". Add them with --answers <file.yml>.`,
      )
    }
    if (!result.verificationOk) {
      this.warnLine(
        `case ${kase.id} failed verification: the report says so. Run \`ir case verify ${kase.id}\` for details.`,
      )
      this.failWith(ExitCode.INTEGRITY)
    }
    return result
  }
}
