/**
 * The lessons-learned report as plain data (report.json is exactly this). Renderers
 * (src/services/report/report-markdown.ts, src/services/report/report-html.ts) only format it.
 *
 * Key names are chosen so that redactDeep (run over the whole model as a last line of defence)
 * never mistakes a field for a secret: no key here matches its secret-name pattern (so `id`, not
 * `key`) unless its value is an object or an array.
 */
import type {Outcome} from '../../case/audit-log.js'

export const REPORT_SCHEMA = 1
export const TO_BE_COMPLETED = 'To be completed'

export type ReportStatus = 'draft' | 'reviewed'
export const REPORT_STATUSES: readonly ReportStatus[] = ['draft', 'reviewed']

export type DataExposure = 'confirmed' | 'suspected' | 'none' | 'unknown'
export const DATA_EXPOSURES: readonly DataExposure[] = ['confirmed', 'suspected', 'none', 'unknown']

export type ActionItemType = 'prevent' | 'detect' | 'mitigate'
export const ACTION_ITEM_TYPES: readonly ActionItemType[] = ['prevent', 'detect', 'mitigate']

export type ReportFormat = 'md' | 'html' | 'json'
export const REPORT_FORMATS: readonly ReportFormat[] = ['md', 'html', 'json']

/** The narrative sections the responder writes, in report order. Keys are the answers-file keys. */
export const NARRATIVE_SECTIONS = [
  {key: 'summary', title: 'Summary', prompt: 'Summary: what happened, in a few sentences'},
  {key: 'impact', title: 'Impact', prompt: 'Impact: who and what was affected, for how long'},
  {
    key: 'root_cause',
    title: 'Root cause and contributing factors',
    prompt: 'Root cause and contributing factors (blameless: systems and conditions, not people)',
  },
  {key: 'trigger', title: 'Trigger', prompt: 'Trigger: what set the incident off'},
  {key: 'detection', title: 'Detection', prompt: 'Detection: how and by whom it was noticed'},
  {key: 'what_went_well', title: 'What went well', prompt: 'What went well'},
  {key: 'what_went_wrong', title: 'What went wrong', prompt: 'What went wrong'},
  {key: 'where_we_got_lucky', title: 'Where we got lucky', prompt: 'Where we got lucky'},
  {key: 'detection_gaps', title: 'Detection gaps', prompt: 'Detection gaps: what should have alerted sooner'},
  {key: 'playbook_changes', title: 'Playbook changes', prompt: 'Playbook changes to make'},
] as const

export type NarrativeKey = (typeof NARRATIVE_SECTIONS)[number]['key']

export interface ActionItem {
  action: string
  type: ActionItemType
  owner?: string
  due?: string
}

/** What the responder answers (saved in the case as state/report-answers.json). */
export interface ReportAnswers {
  summary?: string
  impact?: string
  root_cause?: string
  trigger?: string
  detection?: string
  what_went_well?: string
  what_went_wrong?: string
  where_we_got_lucky?: string
  detection_gaps?: string
  playbook_changes?: string
  action_items?: ActionItem[]
  data_exposure?: DataExposure
  authors?: string[]
}

export interface NarrativeSection {
  id: NarrativeKey
  title: string
  /** Absent when the responder has not written it: renderers show "To be completed". */
  text?: string
  completed: boolean
}

export interface Duration {
  ms: number
  display: string
}

export interface KeyTime {
  id: 'detected' | 'contained' | 'evidenceSecured' | 'credentialsRotated' | 'recovered'
  label: string
  /** ISO 8601 UTC, absent when it has not happened yet. */
  at?: string
  /** The audit entry the time comes from (absent for detection taken from case.json or the case opening). */
  seq?: number
  basis: string
  /** What is still open or unproven about this milestone, in words (absent when nothing is). */
  open?: string
}

export interface ReportMetrics {
  timeToContain?: Duration
  timeToRecover?: Duration
  totalDuration?: Duration
}

export interface TimelineRow {
  kind: 'audit' | 'responder'
  /** ISO 8601 UTC. For a responder event: the time it happened, not when it was added. */
  time: string
  seq: number
  actor: string
  action: string
  target?: string
  outcome: Outcome | 'unreadable'
  msg: string
}

export type Phase = 'containment' | 'evidence' | 'eradication' | 'recovery'
export const PHASES: ReadonlyArray<{phase: Phase; title: string}> = [
  {phase: 'containment', title: 'Containment'},
  {phase: 'evidence', title: 'Evidence'},
  {phase: 'eradication', title: 'Eradication'},
  {phase: 'recovery', title: 'Recovery'},
]

export interface PhaseActions {
  phase: Phase
  title: string
  outcomes: Partial<Record<Outcome | 'unreadable', number>>
  entries: TimelineRow[]
}

export interface AffectedContainer {
  name: string
  image?: string
  actions: string[]
  artifacts: number
}

export interface EvidenceRow {
  id: string
  path: string
  type: string
  sha256: string
  size: number
  description?: string
  source?: {
    containerId?: string
    containerName?: string
    image?: string
    imageId?: string
    engine?: string
    host?: string
    engineId?: string
    service?: string
    task?: string
  }
  collectedAt: string
  collectedBy: string
  /** Result of the fresh verification at generation time. */
  verified: 'ok' | 'modified' | 'missing' | 'size-mismatch' | 'not-a-file' | 'not-checked'
}

export interface VerificationSummary {
  ok: boolean
  verifiedAt: string
  artifactsChecked: number
  artifactsIntact: number
  artifactProblems: Array<{id: string; path: string; status: string}>
  unlisted: string[]
  auditEntries: number
  auditChainOk: boolean
  auditProblems: Array<{line: number; problem: string}>
}

export interface CredentialDecision {
  name: string
  kind?: string
  sources: string[]
  reason?: string
  at: string
}

export interface CredentialsSection {
  rotated: CredentialDecision[]
  markedRotated: CredentialDecision[]
  skipped: CredentialDecision[]
  /** From the last rotate.summary. */
  lastSummary?: {at: string; remaining?: number; servicesToRestart: string[]; counts?: Record<string, number>}
}

export interface RebuildRun {
  at: string
  seq: number
  outcome: Outcome
  project?: string
  services: string[]
  imagesBefore: string[]
  imagesAfter: string[]
  unhealthy: string[]
  msg: string
}

export interface HardeningFinding {
  container: string
  check: string
  /** CIS Docker Benchmark id (with its level), when the check implements one. */
  cis?: string
  severity: string
  message: string
}

export interface HardeningRun {
  at: string
  seq: number
  outcome: Outcome
  containers: number
  findings: HardeningFinding[]
  msg: string
}

/** What the evidence shows: the findings of each snapshot (issue 15), and the indicators they yield. */
export interface WhatHappened {
  findings: Array<{container: string; at: string; severity: string; id: string; message: string; artifact?: string}>
  iocs: Array<{container: string; type: string; value: string; sha256?: string}>
  /** Per container, the captured processes parent before child (depth-first), from its newest snapshot's live state. */
  processTrees: ProcessTree[]
}

export interface ProcessTree {
  container: string
  /** The live-processes artifact the tree was read from. */
  artifact: string
  nodes: ProcessNode[]
}

export interface ProcessNode {
  /** The pid inside the container (the host pid where it has none). */
  pid: number
  name: string
  /** The command line as recorded (redacted), shortened to 200 characters. */
  cmdline: string
  /** 0 for a root (its parent is outside the container, e.g. the engine's shim). */
  depth: number
  /** A finding names this process. */
  flagged: boolean
}

/** One hand-over step of the case: a seal, an export or a custody transfer (who, when with its offset, what). */
export interface CustodyRow {
  /** ISO 8601; a transfer's as recorded, with the offset of the host that recorded it. */
  at: string
  event: 'sealed' | 'exported' | 'transferred'
  /** Who sealed or exported it; for a transfer, who handed it over. */
  by: string
  /** A transfer's receiver. */
  to?: string
  /** Seal generation, where the copy went, or what a transfer handed over (and where to). */
  what: string
  reason?: string
  sha256?: string
  keyFingerprint?: string
}

export interface ReportModel {
  schema: typeof REPORT_SCHEMA
  header: {
    caseId: string
    title: string
    severity?: string
    status: ReportStatus
    authors: string[]
    examiner: string
    caseCreated: string
    generatedAt: string
    generatedBy: string
    timezone: 'UTC'
    tool: string
  }
  impact: {
    containers: AffectedContainer[]
    services: string[]
    dataExposure: DataExposure
    whatHappened: WhatHappened
  }
  keyTimes: KeyTime[]
  metrics: ReportMetrics
  timeline: TimelineRow[]
  /** Audit lines at generation time (the timeline has exactly this many rows of kind audit). */
  auditEntries: number
  actions: PhaseActions[]
  evidence: EvidenceRow[]
  verification: VerificationSummary
  /** Seals and exports, oldest first (empty for a case never handed over). */
  custody: CustodyRow[]
  credentials: CredentialsSection
  rebuilds: {steps: Array<{at: string; step: string; durationMs?: number; outcome: Outcome}>; runs: RebuildRun[]}
  hardening: HardeningRun[]
  narrative: NarrativeSection[]
  actionItems: ActionItem[]
  completion: {completed: number; total: number; missing: string[]}
}

export const ANSWER_KEYS_HELP = `${NARRATIVE_SECTIONS.map((s) => s.key).join(', ')}, action_items (list of {action, type: ${ACTION_ITEM_TYPES.join('|')}, owner, due}), data_exposure (${DATA_EXPOSURES.join('|')}), authors`
