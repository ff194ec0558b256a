import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../errors.js'
import {findPlaybook} from '../../playbook/catalog.js'
import {parsePlaybook, readPlaybookText, type PlaybookProblem} from '../../playbook/loader.js'
import {renderProblems} from '../../render/playbook.js'

export default class PlaybookValidate extends BaseCommand<typeof PlaybookValidate> {
  static override summary =
    'Check a playbook: YAML syntax, the schema, step references, inputs and cycles; errors name line and column.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> playbooks/breach.yml',
    '<%= config.bin %> <%= command.id %> my-playbook.yml --json',
  ]
  static override args = {
    file: Args.string({description: 'Playbook file (or the name of a listed playbook)', required: true}),
  }

  async run(): Promise<{file: string; valid: boolean; problems: PlaybookProblem[]; steps?: number}> {
    const file = await findPlaybook(this.args.file)
    const {playbook, problems} = parsePlaybook(await readPlaybookText(file), file)
    if (problems.length > 0) {
      this.log(renderProblems(problems))
      this.failWith(ExitCode.USAGE)
    } else {
      this.log(`${file}: valid (${playbook!.steps.length} steps)`)
    }
    return {file, valid: problems.length === 0, problems, ...(playbook ? {steps: playbook.steps.length} : {})}
  }
}
