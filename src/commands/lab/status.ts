import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {renderLabStatus} from '../../render/lab.js'
import {type LabStatusResult, labStatus} from '../../services/lab/status.js'
import {validateProjectName} from '../../services/lab/files.js'

export default class LabStatus extends BaseCommand<typeof LabStatus> {
  static override summary =
    "The practice lab's containers (label ir.lab=true), their state, and whether they are isolated."

  static override description = `Lists every container labelled ir.lab=true (every lab, or the one named with --name): its service, state,
networks, and whether it is isolated (cut from every network, as \`ir isolate\` leaves it) or paused; then the lab's
networks, volumes and built images, and evidence images committed from lab containers. Read-only.`

  static override examples = [
    {description: 'The lab on this engine', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'As JSON', command: '<%= config.bin %> <%= command.id %> --json'},
  ]

  static override flags = {
    name: Flags.string({summary: 'Only the lab with this compose project name.', helpValue: '<name>'}),
  }

  async run(): Promise<LabStatusResult> {
    const {flags} = this
    const engine = await this.connect()
    const result = await labStatus({engine, ...(flags.name ? {project: validateProjectName(flags.name)} : {})})
    this.log(renderLabStatus(result))
    return result
  }
}
