import type {Case} from '../../case/case-store.js'
import type {Artifact} from '../../case/manifest.js'
import {LABEL} from '../../docker/labels.js'
import type {Engine} from '../../docker/types.js'
import {toErrorInfo} from '../../errors.js'

export interface EvidenceImage {
  id: string
  tags: string[]
  sourceContainer?: string
  sourceName?: string
}

export interface EvidenceList {
  caseId: string
  files: Artifact[]
  images: EvidenceImage[]
  /** Set when the engine could not be asked (files are still listed). */
  imagesUnavailable?: string
}

/** The evidence of a case: files from the manifest, and images on the engine labelled for it. */
export async function listEvidence(opts: {kase: Case; engine?: () => Promise<Engine>}): Promise<EvidenceList> {
  const files = (await opts.kase.manifest.read()).artifacts
  const out: EvidenceList = {caseId: opts.kase.id, files, images: []}
  if (!opts.engine) return out
  try {
    const engine = await opts.engine()
    const images = await engine.images.list({
      filters: {label: [`${LABEL.evidence}=true`, `${LABEL.case}=${opts.kase.id}`]},
    })
    out.images = images.map((i) => ({
      id: i.id,
      tags: i.repoTags,
      ...(i.labels[LABEL.sourceContainer] ? {sourceContainer: i.labels[LABEL.sourceContainer]} : {}),
      ...(i.labels[LABEL.sourceName] ? {sourceName: i.labels[LABEL.sourceName]} : {}),
    }))
  } catch (error) {
    out.imagesUnavailable = toErrorInfo(error).message
  }
  return out
}
