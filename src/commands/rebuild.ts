import {resolve} from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import type {Case} from '../case/case-store.js'
import {
  hasComposeFile,
  type RecordedComposeFolder,
  recordedComposeFolder,
  recordedFolderLine,
  resolveProject,
} from '../docker/compose.js'
import type {Engine} from '../docker/types.js'
import {readContainment} from '../services/containment-state.js'
import {runDockerCli} from '../docker/docker-cli.js'
import {hostFlagsGiven} from '../docker/hosts.js'
import {AbortError, ExitCode} from '../errors.js'
import {caseFlag, dryRunFlag, hostFlags, yesFlag} from '../flags.js'
import {renderRebuild, renderStackRebuild} from '../render/rebuild.js'
import {type RebuildResult, rebuildProject} from '../services/rebuild/rebuild.js'
import {rebuildStack, type StackRebuildResult} from '../services/rebuild/stack.js'
import {composeProjectInput, rebuildOptions} from '../services/step-options.js'

export default class Rebuild extends BaseCommand<typeof Rebuild> {
  static override summary = 'Rebuild a compose project clean (no cache, fresh bases) without ever deleting evidence.'

  static override description = `The evidence-safe replacement for \`docker-compose down && docker system prune -a && docker-compose build
--no-cache && docker-compose up -d\`. Preflight: every container of the project that the case isolated must have its
evidence (saved image or export) in the case, verified by hash; otherwise ir refuses (exit 11) and names them, unless
--save-evidence (snapshot them first) or --force --reason "..." (recorded in the audit). Then: build --no-cache
--pull (--offline: no pull) first, so a failed build leaves the project as it was; compose down --remove-orphans
(volumes only with --volumes); remove the images the project's built services ran before (never an image labelled
ir.evidence=true, never another project's); up -d; wait until each service is healthy or running and stable; and
run the hardening audit on the new containers. Image ids before and after, base images, and each step's timing go into the case.
Compose runs as \`docker compose\` when the v2 plugin exists, else \`docker-compose\`.

A swarm stack: --stack <name> -c stack.yml (on a manager: --host / --context / --hosts, or DOCKER_HOST). The same
evidence preflight applies to the stack's isolated task containers. Every image the stack file builds (build: with
an image: name) is built on the manager with docker build --no-cache (--pull unless --offline), then docker stack
deploy, then the rebuilt services are force-updated so every task runs the new image, and ir waits until each service
has its desired number of running tasks. The services' specs before the rebuild are kept in the case. Note: -c is
the stack file here (as for docker stack deploy); the case is given with --case.`

  static override examples = [
    {
      description: 'See the compose commands and the images that would be removed',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 --dry-run',
    },
    {
      description: 'Rebuild the project in the current folder',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 --yes',
    },
    {
      description: 'Another project, snapshotting isolated containers first',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 -f /srv/shop/compose.yml --save-evidence --yes',
    },
    {
      description: 'No registry reachable: rebuild from the local base images',
      command: '<%= config.bin %> <%= command.id %> --case IR-2026-001 --offline --yes',
    },
    {
      description: 'Redeploy a swarm stack from freshly built images, on its manager',
      command:
        '<%= config.bin %> <%= command.id %> --case IR-2026-001 --stack shop -c stack.yml --context prod-manager --yes',
    },
  ]

  static override flags = {
    // -c is the stack file (as for docker stack deploy -c): the case has only its long form here.
    case: Flags.string({summary: caseFlag.summary, env: 'IR_CASE', helpValue: '<case-id>'}),
    yes: yesFlag,
    stack: Flags.string({
      summary: 'Rebuild a swarm stack of this name (with -c stack.yml) instead of a compose project.',
      helpValue: '<name>',
    }),
    'compose-file': Flags.string({
      char: 'c',
      summary: 'Stack file for --stack (repeatable), as for docker stack deploy -c.',
      multiple: true,
      multipleNonGreedy: true,
      dependsOn: ['stack'],
      helpValue: '<stack.yml>',
    }),
    ...hostFlags,
    'dry-run': dryRunFlag,
    file: Flags.string({char: 'f', summary: 'Compose file (repeatable), as for compose -f.', multiple: true}),
    'project-directory': Flags.string({
      summary: 'Project folder (default: the folder of the first compose file, or the current one).',
    }),
    'project-name': Flags.string({char: 'p', summary: 'Compose project name (default as compose derives it).'}),
    volumes: Flags.boolean({summary: "Also remove the project's volumes on down (asked separately).", default: false}),
    'prune-host': Flags.boolean({
      summary: 'Also prune unused images host-wide (evidence images excluded by label; asked separately).',
      default: false,
    }),
    offline: Flags.boolean({
      summary: 'Do not pull base images (they are not refreshed: a warning is recorded).',
      default: false,
    }),
    'save-evidence': Flags.boolean({
      summary: 'Snapshot isolated containers that have no evidence yet before removing anything.',
      default: false,
    }),
    force: Flags.boolean({
      summary: 'Rebuild although isolated containers have no verified evidence (needs --reason; audited).',
    }),
    reason: Flags.string({summary: 'Why --force is needed (recorded in the audit log).'}),
    'wait-timeout': Flags.integer({summary: 'Seconds to wait for services to become healthy.', default: 120, min: 1}),
    grace: Flags.integer({
      summary: 'Seconds a service without healthcheck must stay running to count as up.',
      default: 5,
      min: 0,
    }),
    'no-audit': Flags.boolean({summary: 'Skip the hardening audit of the new containers.', default: false}),
  }

  async run(): Promise<RebuildResult | StackRebuildResult> {
    const {flags} = this
    if (flags.force && !flags.reason?.trim())
      throw new AbortError('--force needs --reason "..." (it is recorded in the audit log)', {exit: 'USAGE'})
    if (flags.stack) return this.runStack()
    if (hostFlagsGiven(flags))
      throw new AbortError(
        '--host, --context and --hosts apply to --stack rebuilds; a compose project is rebuilt on the engine of DOCKER_HOST',
        {exit: 'USAGE'},
      )
    const engine = await this.connect()
    const compose = await this.engines.compose(this.debugLog, engine)
    const kase = await this.rebuildCase()
    const recorded = await this.recordedFolder(engine, kase)
    if (recorded) this.progress(recordedFolderLine(recorded))
    const project = await resolveProject(
      compose.flavor,
      composeProjectInput({
        files: flags.file ?? (recorded?.files.length ? recorded.files : undefined),
        projectDirectory: flags['project-directory'] ?? recorded?.projectDirectory,
        projectName: flags['project-name'] ?? recorded?.project,
      }),
    )
    if (recorded) project.recordedOn = recorded.container
    if (!flags['dry-run']) {
      await this.confirm(
        `Rebuild compose project "${project.name}" (down, remove its built images, build without cache, up)?`,
        {yes: flags.yes, what: 'rebuild the project'},
      )
      if (flags.volumes)
        await this.confirm(`Also DELETE the volumes of "${project.name}" (their data is gone after this)?`, {
          yes: flags.yes,
          what: 'remove volumes',
        })
      if (flags['prune-host'])
        await this.confirm('Also prune unused images on the whole host (evidence images are kept)?', {
          yes: flags.yes,
          what: 'prune the host',
        })
    }
    const result = await rebuildProject(
      rebuildOptions(
        {
          dryRun: flags['dry-run'],
          volumes: flags.volumes,
          pruneHost: flags['prune-host'],
          offline: flags.offline,
          saveEvidence: flags['save-evidence'],
          forceReason: flags.force ? (flags.reason ?? '') : undefined,
          waitTimeoutSeconds: flags['wait-timeout'],
          graceSeconds: flags.grace,
          audit: !flags['no-audit'],
        },
        {
          engine,
          compose,
          project,
          kase,
          signal: this.interrupt.signal,
          progress: (l) => this.progress(l),
          composeFold: this.fold('compose'),
        },
      ),
    )
    if (flags.offline && !flags['dry-run']) this.warnLine('base images were not refreshed (--offline).')
    this.log(renderRebuild(result))
    if (!result.ok) this.failWith(ExitCode.FAILURE)
    this.failIfInterrupted()
    return result
  }

  /**
   * The case a rebuild records into: required unless --dry-run, which opens an existing one read-only (for its
   * isolated containers) and creates none. Checked before anything is connected or resolved.
   */
  /**
   * Run outside the compose folder (no -f, no --project-directory, no compose file here): the folder
   * compose recorded on a container of the project (-p), else on a container the case isolated.
   */
  private async recordedFolder(engine: Engine, kase: Case | undefined): Promise<RecordedComposeFolder | undefined> {
    const {flags} = this
    if (flags.file?.length || flags['project-directory'] || (await hasComposeFile(process.cwd()))) return undefined
    const ids: string[] = []
    if (flags['project-name'])
      for (const c of await engine.containers.list({
        all: true,
        filters: {label: [`com.docker.compose.project=${flags['project-name']}`]},
      }))
        ids.push(c.id)
    else if (kase)
      for (const r of Object.values((await readContainment(kase)).containers))
        if (r.status === 'isolated') ids.push(r.containerId)
    for (const id of ids) {
      const d = await engine.containers.inspect(id).catch(() => undefined)
      const f = d ? recordedComposeFolder(d) : undefined
      if (f) return f
    }
    return undefined
  }

  private async rebuildCase(): Promise<Case | undefined> {
    const {flags} = this
    if (!flags['dry-run'] && !flags.case)
      throw new AbortError('A rebuild records into a case: give --case <id> (or IR_CASE)', {
        exit: 'USAGE',
        hint: 'Use the case of the incident, so the rebuild sits in its timeline.',
      })
    if (!flags.case) return undefined
    if (!flags['dry-run']) return this.openCase(flags.case)
    return (await this.store.exists(flags.case)) ? this.openExistingCase(flags.case) : undefined
  }

  private async runStack(): Promise<StackRebuildResult> {
    const {flags} = this
    const stack = flags.stack!
    const files = (flags['compose-file'] ?? []).map((f) => resolve(f))
    if (files.length === 0) throw new AbortError('--stack needs the stack file: -c stack.yml', {exit: 'USAGE'})
    const hosts = await this.connectHosts(flags)
    const kase = await this.rebuildCase()
    if (!flags['dry-run'])
      await this.confirm(
        `Rebuild swarm stack "${stack}" (build its images without cache, stack deploy, replace every task of the rebuilt services)?`,
        {yes: flags.yes, what: 'rebuild the stack'},
      )
    const fold = this.fold('docker')
    const result = await rebuildStack({
      hosts,
      ...(kase ? {kase} : {}),
      stack,
      files,
      dryRun: flags['dry-run'],
      offline: flags.offline,
      ...(flags.force ? {force: {reason: flags.reason ?? ''}} : {}),
      saveEvidence: flags['save-evidence'],
      waitTimeoutSeconds: flags['wait-timeout'],
      docker: runDockerCli,
      log: this.debugLog,
      signal: this.interrupt.signal,
      progress: (l) => this.progress(l),
      onLine: (l) => fold.line(l),
    }).catch((error: unknown) => {
      fold.end({ok: false})
      throw error
    })
    fold.end({ok: result.ok})
    if (flags.offline && !flags['dry-run']) this.warnLine('base images were not refreshed (--offline).')
    this.log(renderStackRebuild(result))
    if (!result.ok) this.failWith(ExitCode.FAILURE)
    this.failIfInterrupted()
    return result
  }
}
