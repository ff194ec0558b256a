import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {yesFlag} from '../../flags.js'
import {renderLabUp} from '../../render/lab.js'
import {DEFAULT_LAB_BASE_IMAGE} from '../../services/lab/base-image.js'
import {DEFAULT_LAB_DIR, DEFAULT_LAB_PORT, DEFAULT_LAB_PROJECT} from '../../services/lab/model.js'
import {type LabUpResult, labUp} from '../../services/lab/up.js'

export default class LabUp extends BaseCommand<typeof LabUp> {
  static override summary =
    'Start a practice incident on the local engine: a small compose project with a planted compromise.'

  static override description = `Writes the lab into a folder (default ./ir-lab) with fresh secrets unique to this run, builds and starts
the compose project "ir-lab" (web, worker, db) through compose, waits until it runs, and prints what to run next.
Only local images are used: the busybox image ir-test/busybox:latest, built from the host's static busybox
(Debian package busybox-static) when missing. No registry is contacted. The web service is compromised on purpose:
a dropped file, an unexpected process, secrets in its environment, a default-looking VNC password, a mounted
(fake) Docker socket and a weak configuration. Everything the lab creates is labelled ir.lab=true;
\`ir lab down\` removes it. The lab's web page is published on 127.0.0.1 only.
One \`ir lab up\` at a time per lab name and per folder: a second one started meanwhile refuses at once
(exit 11) and changes nothing.`

  static override examples = [
    {description: 'Start the lab in ./ir-lab', command: '<%= config.bin %> <%= command.id %> --yes'},
    {
      description: 'Another folder and port',
      command: '<%= config.bin %> <%= command.id %> --dir /tmp/lab --port 18181 --yes',
    },
    {
      description: 'The lab state as JSON (folder, containers, suggested case id)',
      command: '<%= config.bin %> <%= command.id %> --yes --json',
    },
  ]

  static override flags = {
    yes: yesFlag,
    dir: Flags.string({
      summary: 'Folder to write the lab into (new, empty, or an earlier lab folder).',
      default: DEFAULT_LAB_DIR,
      helpValue: '<dir>',
    }),
    port: Flags.integer({
      summary: 'Host port on 127.0.0.1 for the web service.',
      default: DEFAULT_LAB_PORT,
      min: 1,
      max: 65535,
    }),
    name: Flags.string({
      summary: 'Compose project name of the lab (to run a second one beside it).',
      default: DEFAULT_LAB_PROJECT,
      helpValue: '<name>',
    }),
    'wait-timeout': Flags.integer({summary: 'Seconds to wait for the services to run.', default: 60, min: 1}),
  }

  async run(): Promise<LabUpResult> {
    const {flags} = this
    const engine = await this.connect()
    const compose = await this.engines.compose(this.debugLog, engine)
    await this.confirm(
      `Start the practice lab "${flags.name}" (3 containers, web on 127.0.0.1:${flags.port}) from the folder ${flags.dir}?`,
      {yes: flags.yes, what: 'start the lab'},
    )
    const result = await labUp({
      engine,
      compose,
      dir: flags.dir,
      project: flags.name,
      port: flags.port,
      baseImage: process.env.IR_LAB_BASE_IMAGE || DEFAULT_LAB_BASE_IMAGE,
      waitTimeoutSeconds: flags['wait-timeout'],
      signal: this.interrupt.signal,
      progress: (l) => this.progress(l),
      composeFold: this.fold('compose'),
    })
    this.log(renderLabUp(result))
    return result
  }
}
