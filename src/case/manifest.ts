import {readFile} from 'node:fs/promises'

import {AbortError} from '../errors.js'
import {canonicalJson} from '../util/canonical-json.js'
import {sha256, writeFileAtomic} from '../util/fs.js'
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

/** The digest of one manifest entry (canonical JSON): the audit chain records it at `evidence.add`. */
export function entryDigest(artifact: Artifact): string {
  return sha256(canonicalJson(artifact))
}

export class Manifest {
  constructor(
    readonly path: string,
    private readonly caseId: string,
    private readonly lock: CaseLock,
  ) {}

  /** The manifest; a missing one is empty only when `missingOk` (a new case), otherwise an integrity error. */
  async read(opts: {missingOk?: boolean} = {missingOk: true}): Promise<ManifestDoc> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && opts.missingOk !== false)
        return {schema: 1, caseId: this.caseId, artifacts: []}
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new AbortError(`The manifest ${this.path} is missing`, {
          exit: 'INTEGRITY',
          hint: 'Restore manifest.json from a copy; `ir case verify` lists what the audit chain expects.',
        })
      throw error
    }
    try {
      const doc = JSON.parse(text) as ManifestDoc
      if (!doc || !Array.isArray(doc.artifacts)) throw new Error('no artifacts list')
      return doc
    } catch {
      throw new AbortError(`The manifest ${this.path} is not valid JSON`, {
        exit: 'INTEGRITY',
        hint: 'Run `ir case verify` and restore manifest.json from a copy.',
      })
    }
  }

  /** The entry the next artifact would get (its id assigned here). Call under the case lock. */
  async next(artifact: Omit<Artifact, 'id'>): Promise<Artifact> {
    const doc = await this.read()
    if (doc.artifacts.some((a) => a.path === artifact.path)) {
      throw new AbortError(`Artifact ${artifact.path} is already in the manifest`, {exit: 'INTEGRITY'})
    }
    return {id: `A-${String(doc.artifacts.length + 1).padStart(4, '0')}`, ...artifact}
  }

  /** Append an entry made by next() and persist atomically. Call under the case lock. */
  async append(full: Artifact): Promise<void> {
    await this.lock.run(async () => {
      const doc = await this.read()
      if (doc.artifacts.some((a) => a.path === full.path || a.id === full.id))
        throw new AbortError(`Artifact ${full.path} is already in the manifest`, {exit: 'INTEGRITY'})
      doc.artifacts.push(full)
      await writeFileAtomic(this.path, `${JSON.stringify(doc, null, 2)}\n`)
    })
  }

  /** Create an empty manifest when the case is opened, so a missing one later means it was removed. */
  async init(): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify({schema: 1, caseId: this.caseId, artifacts: []}, null, 2)}\n`)
  }
}
