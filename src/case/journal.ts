import {readFile} from 'node:fs/promises'
import {hostname} from 'node:os'
import {join} from 'node:path'

import type {Case} from './case-store.js'
import {AbortError, type ErrorInfo, ExitCode} from '../errors.js'
import {redactDeep} from '../util/redact.js'

/** A playbook run's input values (`--input k=v`, typed by the playbook's declarations). */
export type InputValues = Record<string, string | number | boolean | string[]>

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
  /** The process running it, so a second `resume` does not run the same steps beside it. */
  owner?: {pid: number; host: string}
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
  // Inputs, outputs and error messages may quote what they handled: redact like everything in a case.
  await kase.writeTracked(JOURNAL_FILE, `${JSON.stringify(redactDeep(journal), null, 2)}\n`)
}

/** Is the run still being executed by a live process on this host? */
export function ownerAlive(journal: Journal): boolean {
  const o = journal.owner
  if (!o || o.host !== hostname() || o.pid === process.pid) return false
  try {
    process.kill(o.pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Keep a finished run's journal before a new run replaces it. */
export async function archiveJournal(kase: Case, journal: Journal): Promise<void> {
  await kase.writeTracked(
    join('state', `playbook-run-${journal.runId}.json`),
    `${JSON.stringify(redactDeep(journal), null, 2)}\n`,
  )
}

/** The exit code a finished run stands for: its failed step's code, 7 when stopped at a gate, 130 when interrupted. */
export function exitCodeOf(journal: Journal): number {
  if (journal.status === 'succeeded') return 0
  if (journal.status === 'interrupted') return ExitCode.INTERRUPTED
  const failed = journal.steps.find((s) => s.state === 'failed')
  if (failed?.error?.exitCode) return failed.error.exitCode
  return journal.status === 'stopped' ? ExitCode.CONFIRMATION_REQUIRED : ExitCode.FAILURE
}
