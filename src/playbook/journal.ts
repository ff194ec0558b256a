import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {Case} from '../case/case-store.js'
import {AbortError, type ErrorInfo} from '../errors.js'
import {writeFileAtomic} from '../util/fs.js'
import type {InputValues} from './expressions.js'

export type StepState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped'
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'stopped' | 'interrupted'

export interface StepJournal {
  id: string
  action: string
  state: StepState
  attempts: number
  startedAt?: string
  endedAt?: string
  outputs?: Record<string, unknown>
  error?: ErrorInfo
  skipReason?: string
}

/** The run journal (playbook-run.json in the case): rewritten atomically after every step change. */
export interface Journal {
  schema: 1
  runId: string
  caseId: string
  playbook: {name: string; file: string; sha256: string}
  inputs: InputValues
  mode: 'scripted' | 'guided'
  status: RunStatus
  startedAt: string
  updatedAt: string
  endedAt?: string
  steps: StepJournal[]
}

export const JOURNAL_FILE = 'playbook-run.json'

export function journalPath(kase: Case): string {
  return join(kase.dir, JOURNAL_FILE)
}

export async function readJournal(kase: Case): Promise<Journal | undefined> {
  try {
    return JSON.parse(await readFile(journalPath(kase), 'utf8')) as Journal
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new AbortError(`${journalPath(kase)} is unreadable: ${(error as Error).message}`, {exit: 'CASE_ACCESS'})
  }
}

export async function writeJournal(kase: Case, journal: Journal): Promise<void> {
  journal.updatedAt = new Date().toISOString()
  await writeFileAtomic(journalPath(kase), `${JSON.stringify(journal, null, 2)}\n`)
}
