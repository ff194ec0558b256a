import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {basename, join} from 'node:path'
import {createInterface} from 'node:readline'

import type {Case} from '../../case/case-store.js'
import type {Artifact} from '../../case/manifest.js'
import {AbortError} from '../../errors.js'
import type {TarIndexEntry} from './tar-index.js'

/** One filesystem export index of the case (written by `ir snapshot`) and what it was taken of. */
export interface ExportIndexRef {
  artifact: Artifact
  /** The container it indexes (name, else id, else the evidence folder). */
  container: string
  /** The snapshot's stamp, from the file name (export-index-<stamp>.jsonl). */
  stamp: string
  /** A label unique within the case: the container, with @<stamp> when it was snapshotted more than once. */
  label: string
}

/** The case's export indexes, in manifest order. */
export async function exportIndexes(kase: Case): Promise<ExportIndexRef[]> {
  const doc = await kase.manifest.read()
  const refs = doc.artifacts
    .filter((a) => a.type === 'export-index')
    .map((artifact) => {
      const container =
        artifact.source?.containerName ?? artifact.source?.containerId ?? artifact.path.split('/').at(-2) ?? 'container'
      const stamp = /^export-index-(.+)\.jsonl$/.exec(basename(artifact.path))?.[1] ?? artifact.id
      return {artifact, container: container.replace(/^\//, ''), stamp, label: ''}
    })
  const count = new Map<string, number>()
  for (const r of refs) count.set(r.container, (count.get(r.container) ?? 0) + 1)
  for (const r of refs) r.label = (count.get(r.container) ?? 0) > 1 ? `${r.container}@${r.stamp}` : r.container
  return refs
}

/**
 * Every entry of one index, in its order, read as a stream. The file is hashed as it is read and must
 * match its manifest SHA-256 (exit 6 otherwise: a timeline is never built from an altered index).
 */
export async function* readExportIndex(kase: Case, ref: ExportIndexRef): AsyncGenerator<TarIndexEntry> {
  const path = join(kase.dir, ref.artifact.path)
  const hash = createHash('sha256')
  const input = createReadStream(path)
  input.on('data', (chunk) => hash.update(chunk as Buffer))
  const lines = createInterface({input, crlfDelay: Number.POSITIVE_INFINITY})
  let n = 0
  try {
    for await (const line of lines) {
      n++
      if (line.trim() === '') continue
      let entry: TarIndexEntry
      try {
        entry = JSON.parse(line) as TarIndexEntry
      } catch {
        throw new AbortError(`${ref.artifact.path} line ${n} is not valid JSON`, {
          exit: 'INTEGRITY',
          hint: `Run ir case verify ${kase.id}.`,
        })
      }
      yield entry
    }
  } finally {
    lines.close()
    input.destroy()
  }
  const digest = hash.digest('hex')
  if (digest !== ref.artifact.sha256)
    throw new AbortError(
      `${ref.artifact.path} does not match its manifest SHA-256 (${digest}, recorded ${ref.artifact.sha256})`,
      {exit: 'INTEGRITY', hint: `Run ir case verify ${kase.id}.`},
    )
}
