import {rm} from 'node:fs/promises'
import {format} from 'node:util'

import {Config} from '@oclif/core'

import {BaseCommand} from '../../src/base-command.js'
import type {ComposeClient, ComposeProject} from '../../src/docker/compose.js'
import {composeCommandLine} from '../../src/docker/compose.js'
import type {EngineFactory} from '../../src/docker/engine-factory.js'
import type {HostSpec} from '../../src/docker/hosts.js'
import type {Engine} from '../../src/docker/types.js'
import {ROOT, tempDir} from './cli.js'

/**
 * The command tier: a command class run in this process (oclif parses the argv as the binary would), on fake
 * engines put into BaseCommand.engineFactory, with stdout, stderr and the exit code captured. No Docker.
 */
export interface CommandRun {
  exitCode: number
  stdout: string
  stderr: string
  /** stdout parsed, for --json runs. */
  json: <T = Record<string, unknown>>() => T
}

/** An engine factory over fakes: `engine` is the default engine; `hosts` answer --host <endpoint>. */
export function fakeEngines(
  engine: Engine,
  hosts: Record<string, Engine> = {},
  compose?: ComposeClient,
): EngineFactory & {connects: number} {
  const factory = {
    connects: 0,
    async connect() {
      factory.connects++
      return engine
    },
    async forSpec() {
      return (spec: HostSpec): Engine => {
        const e = hosts[spec.endpoint.display] ?? hosts[spec.name]
        if (!e) throw new Error(`fake engines: no engine for ${spec.name}`)
        return e
      }
    },
    async compose(): Promise<ComposeClient> {
      if (!compose) throw new Error('fake engines: no compose client')
      return compose
    },
  }
  return factory
}

let config: Config | undefined

type CommandClass = typeof BaseCommand & {run: (argv: string[], config: Config) => Promise<unknown>}

/** Run `Cmd` with argv on `engines`; the case store is a fresh temporary folder unless --incidents-dir is given. */
export async function runCommand(
  Cmd: unknown,
  argv: string[],
  opts: {engines: EngineFactory; incidentsDir?: string},
): Promise<CommandRun> {
  config ??= await Config.load({root: ROOT})
  const own = opts.incidentsDir ? undefined : await tempDir('ir-command-')
  const before = BaseCommand.engineFactory
  const previousExit = process.exitCode
  process.exitCode = undefined
  let stdout = ''
  let stderr = ''
  const outWrite = process.stdout.write.bind(process.stdout)
  const errWrite = process.stderr.write.bind(process.stderr)
  process.stdout.write = (chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  }
  process.stderr.write = (chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  }
  // oclif's ux.stdout and ux.stderr write through console.log and console.error.
  const {log, error: consoleError} = console
  console.log = (...args: unknown[]) => void (stdout += `${format(...args)}\n`)
  console.error = (...args: unknown[]) => void (stderr += `${format(...args)}\n`)
  BaseCommand.engineFactory = opts.engines
  let exitCode = 0
  try {
    await (Cmd as CommandClass).run(['--incidents-dir', opts.incidentsDir ?? own!, ...argv], config)
    exitCode = Number(process.exitCode ?? 0)
  } catch (error) {
    const exit = (error as {oclif?: {exit?: number}}).oclif?.exit
    if (exit === undefined) throw error
    exitCode = exit
  } finally {
    process.stdout.write = outWrite
    process.stderr.write = errWrite
    console.log = log
    console.error = consoleError
    BaseCommand.engineFactory = before
    process.exitCode = previousExit
    if (own) await rm(own, {recursive: true, force: true})
  }
  return {exitCode, stdout, stderr, json: <T>() => JSON.parse(stdout) as T}
}

/** A compose client that runs nothing: it records each call and answers `config` with the given YAML. */
export function fakeCompose(configYaml: string): ComposeClient & {calls: string[][]} {
  const calls: string[][] = []
  return {
    flavor: 'v2',
    calls,
    commandLine: (project: ComposeProject, args: readonly string[]) => composeCommandLine('v2', project, args),
    async run(_project: ComposeProject, args: readonly string[]) {
      calls.push([...args])
      return {stdout: args[0] === 'config' ? configYaml : ''}
    },
  }
}
