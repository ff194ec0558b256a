import {isEvidenceImage} from '../../docker/labels.js'
import type {Engine} from '../../docker/types.js'
import {describeContainers, type LabContainer, labFilters} from './model.js'

export interface LabStatusResult {
  project?: string
  containers: LabContainer[]
  networks: string[]
  volumes: string[]
  images: Array<{id: string; tags: string[]; evidence: boolean}>
}

/** What the lab (or every lab, without a name) has on the engine, found by the label ir.lab=true. */
export async function labStatus(opts: {engine: Engine; project?: string}): Promise<LabStatusResult> {
  const filters = labFilters(opts.project)
  const [rows, networks, volumes, images] = await Promise.all([
    opts.engine.containers.list({all: true, filters}),
    opts.engine.networks.list({filters}),
    opts.engine.volumes.list({filters}),
    opts.engine.images.list({filters}),
  ])
  return {
    ...(opts.project ? {project: opts.project} : {}),
    containers: await describeContainers(opts.engine, rows),
    networks: networks.map((n) => n.name).sort(),
    volumes: volumes.map((v) => v.name).sort(),
    images: images.map((i) => ({
      id: i.id,
      tags: i.repoTags.filter((t) => t !== '<none>:<none>'),
      evidence: isEvidenceImage(i.labels),
    })),
  }
}
