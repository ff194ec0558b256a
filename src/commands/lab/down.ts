import {resolve} from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {ComposeClient} from '../../docker/compose.js'
import {errorMessage} from '../../errors.js'
import {yesFlag} from '../../flags.js'
import {renderLabDown} from '../../render/lab.js'
import {DEFAULT_LAB_BASE_IMAGE} from '../../services/lab/base-image.js'
import {readLabMarker} from '../../services/lab/files.js'
import {type LabDownResult, labDown} from '../../services/lab/down.js'
import {DEFAULT_LAB_DIR, DEFAULT_LAB_PROJECT} from '../../services/lab/model.js'

export default class LabDown extends BaseCommand<typeof LabDown> {
  static override summary = 'Remove everything the practice lab created, and nothing else.'

  static override description = `Runs compose down --volumes --remove-orphans for the lab's project, then removes every container, network,
volume and image still labelled ir.lab=true for that lab (containers paused by \`ir isolate\` are unpaused first).
Never removed: evidence images (label ir.evidence=true, even when committed from a lab container), the base image
ir-test/busybox, anything of another project, and the case folders. The lab folder is kept unless --purge-dir.`

  static override examples = [
    {description: 'Remove the lab started in ./ir-lab', command: '<%= config.bin %> <%= command.id %> --yes'},
    {
      description: 'And delete its folder too',
      command: '<%= config.bin %> <%= command.id %> --dir /tmp/lab --purge-dir --yes',
    },
  ]

  static override flags = {
    yes: yesFlag,
    dir: Flags.string({
      summary: 'The lab folder (for compose down and --purge-dir).',
      default: DEFAULT_LAB_DIR,
      helpValue: '<dir>',
    }),
    name: Flags.string({
      summary: "The lab's compose project name (default: the one recorded in the folder, else ir-lab).",
      helpValue: '<name>',
    }),
    'purge-dir': Flags.boolean({
      summary: 'Also delete the lab folder (only if it is a lab folder: it holds .ir-lab.json).',
      default: false,
    }),
  }

  async run(): Promise<LabDownResult> {
    const {flags} = this
    const engine = await this.connect()
    const project = flags.name ?? (await readLabMarker(resolve(flags.dir)))?.project ?? DEFAULT_LAB_PROJECT
    await this.confirm(
      `Remove the lab "${project}": its containers, networks, volumes and built images (evidence images are kept)${flags['purge-dir'] ? `, and the folder ${flags.dir}` : ''}?`,
      {yes: flags.yes, what: 'remove the lab'},
    )
    let compose: ComposeClient | undefined
    try {
      compose = await this.engines.compose(this.debugLog, engine)
    } catch (error) {
      this.warnLine(`${errorMessage(error)}: removing the lab by its labels only`)
    }
    const result = await labDown({
      engine,
      ...(compose ? {compose} : {}),
      dir: flags.dir,
      project,
      baseImage: process.env.IR_LAB_BASE_IMAGE || DEFAULT_LAB_BASE_IMAGE,
      purgeDir: flags['purge-dir'],
      signal: this.interrupt.signal,
      progress: (l) => this.progress(l),
      composeFold: this.fold('compose'),
    })
    this.log(renderLabDown(result))
    if (!result.ok) this.failWith(1)
    this.failIfInterrupted()
    return result
  }
}
