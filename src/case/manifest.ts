import {readFile} from 'node:fs/promises'

import {AbortError} from '../errors.js'
import {writeFileAtomic} from '../util/fs.js'
import type {CaseLock} from './lock.js'

export interface ArtifactSource {
  containerId?: string
  containerName?: string
  image?: string
  imageId?: string
  engine?: string
  /** The host's name for ir (inventory name, context, or endpoint) and its engine id (`docker info`). */
  host?: string
  engineId?: string
  /** Swarm service and task, when the container is a swarm task. */
  service?: string
  task?: string
}

/** One entry of the chain-of-custody manifest. */
export interface Artifact {
  id: string
  /** Relative to the case folder, with forward slashes. */
  path: string
  type: string
  sha256: string
  size: number
  description?: string
  source?: ArtifactSource
  collectedAt: string
  collectedBy: string
  tool: {name: string; version: string}
  /** Anything specific to the artifact type (image id, tag, counts). No secrets. */
  meta?: Record<string, unknown>
}

export interface ManifestDoc {
  schema: 1
  caseId: string
  artifacts: Artifact[]
}

export class Manifest {
  constructor(
    readonly path: string,
    private readonly caseId: string,
    private readonly lock: CaseLock,
  ) {}

  async read(): Promise<ManifestDoc> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {schema: 1, caseId: this.caseId, artifacts: []}
      throw error
    }
    try {
      return JSON.parse(text) as ManifestDoc
    } catch {
      throw new AbortError(`The manifest ${this.path} is not valid JSON`, {exit: 'INTEGRITY', hint: 'Run `ir case verify` and restore manifest.json from a copy.'})
    }
  }

  /** Add an artifact (its id is assigned here) and persist atomically. */
  add(artifact: Omit<Artifact, 'id'>): Promise<Artifact> {
    return this.lock.run(async () => {
      const doc = await this.read()
      if (doc.artifacts.some((a) => a.path === artifact.path)) {
        throw new AbortError(`Artifact ${artifact.path} is already in the manifest`, {exit: 'INTEGRITY'})
      }
      const full: Artifact = {id: `A-${String(doc.artifacts.length + 1).padStart(4, '0')}`, ...artifact}
      doc.artifacts.push(full)
      await writeFileAtomic(this.path, `${JSON.stringify(doc, null, 2)}\n`)
      return full
    })
  }
}
