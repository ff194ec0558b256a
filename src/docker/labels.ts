/** Labels ir puts on everything it creates in Docker, so it can find (and never remove) them. */
export const LABEL = {
  managed: 'ir.managed',
  evidence: 'ir.evidence',
  case: 'ir.case',
  sourceContainer: 'ir.source.container',
  sourceName: 'ir.source.name',
  lab: 'ir.lab',
  labProject: 'ir.lab.project',
  test: 'ir.test',
} as const

export function evidenceLabels(caseId: string, containerId: string, containerName: string): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.evidence]: 'true',
    [LABEL.case]: caseId,
    [LABEL.sourceContainer]: containerId,
    [LABEL.sourceName]: containerName,
  }
}

export function isEvidenceImage(labels: Record<string, string> | null | undefined): boolean {
  return labels?.[LABEL.evidence] === 'true'
}
