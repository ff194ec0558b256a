import {stat} from 'node:fs/promises'
import {resolve} from 'node:path'

import {type ComposeClient, resolveProject} from '../../docker/compose.js'
import {isEvidenceImage, LABEL} from '../../docker/labels.js'
import type {ContainerSummary, Engine} from '../../docker/types.js'
import {type ErrorInfo, toErrorInfo} from '../../errors.js'
import {readLabMarker, removeLabDir, validateProjectName} from './files.js'
import {labFilters} from './model.js'
import type {OutputFold} from '../../util/output-fold.js'

const COMPOSE_WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir'

export interface LabDownOptions {
  engine: Engine
  /** Undefined when compose is not installed: then only the label sweep runs. */
  compose?: ComposeClient
  dir: string
  project: string
  /** Never removed, whatever its labels. */
  baseImage: string
  purgeDir: boolean
  signal?: AbortSignal
  progress?: (line: string) => void
  onComposeLine?: (line: string) => void
  /** Compose output folded into one progress line (instead of onComposeLine). */
  composeFold?: OutputFold
}

export interface Removal {
  kind: 'container' | 'network' | 'volume' | 'image' | 'folder'
  name: string
  detail?: string
}

export interface LabDownResult {
  project: string
  dir: string
  /** What --dir held: this lab's folder, another lab's, a folder that is no lab, or nothing at all. */
  folder: 'lab' | 'other-lab' | 'not-a-lab' | 'none'
  /** The folder compose recorded on the lab's containers (com.docker.compose.project.working_dir), when it differs. */
  recordedDir?: string
  compose: {ran: boolean; ok: boolean; detail: string}
  removed: Removal[]
  kept: Removal[]
  failed: Array<Removal & {error: ErrorInfo}>
  ok: boolean
}

/**
 * Remove everything the lab created and nothing else: compose down for the project, then every
 * container, network, volume and image still labelled ir.lab=true and ir.lab.project=<name>. Paused
 * (isolated) containers are unpaused first. Evidence images (ir.evidence=true) and the base image are
 * kept; the case folders are not touched; the lab folder only goes with purgeDir.
 */
export async function labDown(opts: LabDownOptions): Promise<LabDownResult> {
  validateProjectName(opts.project)
  const dir = resolve(opts.dir)
  const filters = labFilters(opts.project)
  const removed: Removal[] = []
  const kept: Removal[] = []
  const failed: LabDownResult['failed'] = []
  const attempt = async (what: Removal, fn: () => Promise<unknown>): Promise<boolean> => {
    try {
      await fn()
      return true
    } catch (error) {
      failed.push({...what, error: toErrorInfo(error)})
      opts.progress?.(`✗ ${what.kind} ${what.name}: ${toErrorInfo(error).message}`)
      return false
    }
  }
  const unpauseAll = async (): Promise<ContainerSummary[]> => {
    const rows = await opts.engine.containers.list({all: true, filters})
    for (const r of rows.filter((x) => x.state === 'paused')) {
      await attempt({kind: 'container', name: r.names[0] ?? r.id, detail: 'unpause'}, () =>
        opts.engine.containers.unpause(r.id),
      )
    }
    return rows
  }

  // 1. Compose down, when the folder holds this lab and compose is there.
  const initial = {
    containers: await unpauseAll(),
    networks: await opts.engine.networks.list({filters}),
    volumes: await opts.engine.volumes.list({filters}),
  }
  const marker = await readLabMarker(dir)
  const folder: LabDownResult['folder'] = marker
    ? marker.project === opts.project
      ? 'lab'
      : 'other-lab'
    : (await stat(dir).catch(() => undefined))
      ? 'not-a-lab'
      : 'none'
  const recorded = initial.containers
    .map((c) => c.labels[COMPOSE_WORKING_DIR_LABEL])
    .find((d): d is string => Boolean(d))
  const recordedDir = recorded && resolve(recorded) !== dir ? resolve(recorded) : undefined
  let compose: LabDownResult['compose'] = {ran: false, ok: true, detail: ''}
  if (!opts.compose) compose.detail = 'compose is not installed: removed by label only'
  else if (!marker) compose.detail = `no lab folder at ${dir}: removed by label only`
  else if (marker.project !== opts.project)
    compose.detail = `${dir} holds the lab "${marker.project}", not "${opts.project}": removed by label only`
  else if (initial.containers.length === 0 && initial.networks.length === 0 && initial.volumes.length === 0)
    compose.detail = 'nothing running: compose down not needed'
  else {
    try {
      const project = await resolveProject(opts.compose.flavor, {projectDirectory: dir, name: opts.project})
      const fold = opts.composeFold
      await opts.compose
        .run(project, ['down', '--volumes', '--remove-orphans'], {
          ...(fold
            ? {onLine: (l: string) => fold.line(l)}
            : opts.onComposeLine
              ? {onLine: (l: string) => opts.onComposeLine?.(l)}
              : {}),
          ...(opts.signal ? {signal: opts.signal} : {}),
        })
        .then(
          () => fold?.end({ok: true}),
          (error: unknown) => {
            fold?.end({ok: false})
            throw error
          },
        )
      compose = {ran: true, ok: true, detail: 'down --volumes --remove-orphans'}
    } catch (error) {
      compose = {ran: true, ok: false, detail: `compose down failed (${toErrorInfo(error).message}); removing by label`}
      opts.progress?.(`! ${compose.detail}`)
    }
  }

  // 2. Whatever is left with the lab's labels (everything, when compose did not run).
  const remaining = await unpauseAll()
  for (const r of initial.containers.filter((c) => !remaining.some((x) => x.id === c.id)))
    removed.push({kind: 'container', name: r.names[0] ?? r.id.slice(0, 12), detail: 'compose down'})
  for (const r of remaining) {
    const name = r.names[0] ?? r.id.slice(0, 12)
    if (
      await attempt({kind: 'container', name}, () => opts.engine.containers.remove(r.id, {force: true, volumes: true}))
    )
      removed.push({kind: 'container', name})
  }
  const networks = await opts.engine.networks.list({filters})
  for (const n of initial.networks.filter((c) => !networks.some((x) => x.id === c.id)))
    removed.push({kind: 'network', name: n.name, detail: 'compose down'})
  for (const n of networks) {
    if (await attempt({kind: 'network', name: n.name}, () => opts.engine.networks.remove(n.id)))
      removed.push({kind: 'network', name: n.name})
  }
  const volumes = await opts.engine.volumes.list({filters})
  for (const v of initial.volumes.filter((c) => !volumes.some((x) => x.name === c.name)))
    removed.push({kind: 'volume', name: v.name, detail: 'compose down'})
  for (const v of volumes) {
    if (await attempt({kind: 'volume', name: v.name}, () => opts.engine.volumes.remove(v.name)))
      removed.push({kind: 'volume', name: v.name})
  }

  // 3. Images the lab built; never evidence (it inherits the lab labels when committed from a lab container), never the base.
  const base = await opts.engine.images.inspect(opts.baseImage).catch(() => undefined)
  for (const img of await opts.engine.images.list({filters})) {
    const tags = img.repoTags.filter((t) => t !== '<none>:<none>')
    const name = tags[0] ?? img.id.replace('sha256:', '').slice(0, 12)
    if (isEvidenceImage(img.labels)) {
      kept.push({kind: 'image', name, detail: `evidence image (${LABEL.evidence}=true): never removed`})
      continue
    }
    if (img.id === base?.id || tags.includes(opts.baseImage)) {
      kept.push({kind: 'image', name, detail: 'the lab base image'})
      continue
    }
    if (tags.length > 0) {
      // Remove the names: the image itself goes unless an image was committed or built from it (e.g. evidence).
      let ok = true
      for (const t of tags) ok = (await attempt({kind: 'image', name: t}, () => opts.engine.images.untag(t))) && ok
      if (!ok) continue
      const still = await opts.engine.images.inspect(img.id).catch(() => undefined)
      removed.push({
        kind: 'image',
        name,
        ...(still ? {detail: 'untagged; its layers stay while an image committed from it (evidence) exists'} : {}),
      })
    } else {
      try {
        await opts.engine.images.remove(img.id)
        removed.push({kind: 'image', name})
      } catch (error) {
        const info = toErrorInfo(error)
        if (/dependent child|being used/i.test(info.message))
          kept.push({kind: 'image', name, detail: `still needed: ${info.message}`})
        else failed.push({kind: 'image', name, error: info})
      }
    }
  }

  // 4. The folder, only on request and only if it is a lab folder.
  if (opts.purgeDir) {
    if (await removeLabDir(dir)) removed.push({kind: 'folder', name: dir})
    else if (folder !== 'none')
      kept.push({kind: 'folder', name: dir, detail: 'not an ir lab folder (no .ir-lab.json): not removed'})
  }
  return {
    project: opts.project,
    dir,
    folder,
    ...(recordedDir ? {recordedDir} : {}),
    compose,
    removed,
    kept,
    failed,
    ok: failed.length === 0,
  }
}
