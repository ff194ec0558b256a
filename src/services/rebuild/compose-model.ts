import {readFile} from 'node:fs/promises'
import {isAbsolute, join, resolve} from 'node:path'

import {AbortError} from '../../errors.js'
import type {ComposeClient, ComposeProject} from '../../docker/compose.js'

export interface ServiceModel {
  name: string
  /** The image compose builds for this service, or the one it runs when it does not build. */
  image: string
  build?: {context: string; dockerfile: string}
}

/** The resolved project as `compose config` prints it (both v1 and v2 print YAML). */
export async function loadComposeModel(compose: ComposeClient, project: ComposeProject): Promise<ServiceModel[]> {
  const {parse} = await import('yaml')
  const {stdout} = await compose.run(project, ['config'], {captureStdout: true})
  let doc: {services?: Record<string, {image?: string; build?: string | {context?: string; dockerfile?: string}}>}
  try {
    doc = parse(stdout) as typeof doc
  } catch (error) {
    throw new AbortError(`Could not read the output of compose config: ${(error as Error).message}`, {
      exit: 'EXTERNAL_COMMAND',
    })
  }
  return Object.entries(doc.services ?? {}).map(([name, svc]) => {
    const build = typeof svc.build === 'string' ? {context: svc.build} : svc.build
    const sep = compose.flavor === 'v1' ? '_' : '-'
    const image = svc.image ?? `${project.name}${sep}${name}`
    if (!build) return {name, image}
    const context = resolve(project.projectDirectory, build.context ?? '.')
    const dockerfile = build.dockerfile
      ? isAbsolute(build.dockerfile)
        ? build.dockerfile
        : join(context, build.dockerfile)
      : join(context, 'Dockerfile')
    return {name, image, build: {context, dockerfile}}
  })
}

/** Base images named by FROM lines (stages referring to earlier stages are skipped). */
export async function baseImagesOf(dockerfile: string): Promise<string[]> {
  let text: string
  try {
    text = await readFile(dockerfile, 'utf8')
  } catch {
    return []
  }
  const args = new Map<string, string>()
  const stages = new Set<string>()
  const bases: string[] = []
  for (const raw of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const line = raw.trim()
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S+))?/i.exec(line)
    if (arg && arg[2] !== undefined) args.set(arg[1]!, arg[2].replace(/^["']|["']$/g, ''))
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line)
    if (!from) continue
    const image = from[1]!.replace(
      /\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}?/g,
      (_m, n: string, def?: string) => args.get(n) ?? def ?? '',
    )
    if (!stages.has(image.toLowerCase()) && image.toLowerCase() !== 'scratch') bases.push(image)
    if (from[2]) stages.add(from[2].toLowerCase())
  }
  return [...new Set(bases)]
}
