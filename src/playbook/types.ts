/**
 * The playbook engine's contract with whoever hosts a run (a scripted `ir playbook run`, or `ir respond`
 * with a human at every gate): types only, so the prompts that answer a run need not import the engine.
 */
import type {ReportAnswers} from '../services/report/types.js'
import type {CredentialItem} from '../services/rotate/model.js'
import type {RotateChoice} from '../services/rotate/rotate.js'
import type {Step} from './schema.js'

/** What the runner needs from whoever hosts it: a scripted run, or `ir respond` with a human at every gate. */
export interface HumanInterface {
  /** Ask a yes/no question; undefined when there is no human (then --yes decides). */
  confirm?: (message: string) => Promise<boolean>
  /** The credential walkthrough, when a human is there. */
  decideRotation?: (item: CredentialItem, position: {index: number; total: number}) => Promise<RotateChoice>
  /** The report's narrative questions, when a human is there. */
  askReport?: (current: ReportAnswers, save: (answers: ReportAnswers) => Promise<void>) => Promise<ReportAnswers>
}

export interface StepPlan {
  summary: string
  containers: string[]
  operations: string[]
  files: string[]
}

export interface ResolvedStep {
  step: Step
  params: Record<string, unknown>
  /** False when `when` says skip. */
  enabled: boolean
  description: string
  phase: string
  destructive: boolean
}

/** The decision taken at a step's gate (ir respond asks; a scripted run always runs). */
export type GateDecision = {decision: 'run'} | {decision: 'skip'; reason: string} | {decision: 'stop'}
