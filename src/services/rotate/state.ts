import type {Case} from '../../case/case-store.js'
import type {CredentialItem, CredentialKind, CredentialSource, ProjectInfo} from './inventory.js'

/**
 * The rotation record kept in the case (state/rotation.json): the last inventory (names and places only)
 * and one decision per credential. It is what lets a walkthrough be left and resumed. No values, ever.
 */

export const ROTATION_FILE = 'rotation.json'

export type DecisionKind = 'generated' | 'marked-rotated' | 'skipped'

export interface DecisionRecord {
  id: string
  name: string
  kind: CredentialKind
  decision: DecisionKind
  /** Required for a skip. */
  reason?: string
  at: string
  actor: string
  seenByCompromised: boolean
  sources: CredentialSource[]
  services: string[]
  /** For a generated value: the files written, and their backups. */
  files?: string[]
  backups?: string[]
  /** The alphabet of a generated value; never its length (nor a hash). */
  alphabet?: string
}

export interface RotationState {
  schema: 1
  decisions: DecisionRecord[]
  inventory?: {at: string; project: ProjectInfo; items: CredentialItem[]}
}

const EMPTY: RotationState = {schema: 1, decisions: []}

export async function readRotation(kase: Case): Promise<RotationState> {
  const s = await kase.readState<RotationState>(ROTATION_FILE, EMPTY)
  return {...EMPTY, ...s, decisions: Array.isArray(s.decisions) ? s.decisions : []}
}

/** The latest decision per credential id. */
export function decisionsById(state: RotationState): Map<string, DecisionRecord> {
  const m = new Map<string, DecisionRecord>()
  for (const d of state.decisions) m.set(d.id, d)
  return m
}

export function saveInventory(kase: Case, inventory: NonNullable<RotationState['inventory']>): Promise<RotationState> {
  return kase.updateState<RotationState>(ROTATION_FILE, EMPTY, (s) => ({...EMPTY, ...s, inventory}))
}

/** Store a decision as soon as it is made (a later decision on the same credential replaces it). */
export function saveDecision(kase: Case, d: DecisionRecord): Promise<RotationState> {
  return kase.updateState<RotationState>(ROTATION_FILE, EMPTY, (s) => ({
    ...EMPTY,
    ...s,
    decisions: [...(s.decisions ?? []).filter((x) => x.id !== d.id), d],
  }))
}
