import {closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync} from 'node:fs'
import {open, readFile, stat} from 'node:fs/promises'

import pino, {type Logger} from 'pino'

import {sha256} from '../util/fs.js'
import type {CaseLock} from './lock.js'
import {redactDeep} from '../util/redact.js'

/** The `prev` of the first line. */
export const GENESIS = '0'.repeat(64)

export type Outcome = 'success' | 'failure' | 'partial' | 'skipped' | 'info'

export interface AuditInput {
  action: string
  target?: string
  outcome: Outcome
  details?: Record<string, unknown>
  /** One human sentence; shown in timelines. */
  msg?: string
}

export interface AuditLine extends AuditInput {
  level: string
  time: string
  seq: number
  prev: string
  caseId: string
  actor: string
  tool: string
  msg: string
}

/** Where a playbook asks to be notified (its `notify:` key), handed to the sink by the runner. */
export interface NotifyTarget {
  url: string
  format?: 'json' | 'slack'
}

/**
 * The one event sink of a process: every audit line appended to any case is handed to it, after
 * the line is on disk and the head saved. It is called under the case lock, so it must return at
 * once and never throw (the notifier only queues a message here; see src/services/notify/).
 */
export interface AuditSink {
  appended(line: AuditLine, caseDir: string): void
  /** A playbook names where to notify; used only when the command line and environment name nothing. */
  useTarget?(target: NotifyTarget, from: string): void
}

export interface AuditHead {
  seq: number
  hash: string
}

/**
 * The case's audit log: JSON lines written by pino. Each line carries `seq` and `prev`, the
 * SHA-256 of the previous line's exact bytes, so an edit, deletion or reordering breaks the
 * chain. Appends happen under the case lock and are fsynced before returning.
 */
export class AuditLog {
  private fd = -1
  private lastWritten = ''
  private readonly logger: Logger

  constructor(
    readonly path: string,
    private readonly lock: CaseLock,
    private readonly ctx: {caseId: string; actor: string; tool: string},
    private readonly onHead: (head: AuditHead) => Promise<void>,
    private readonly sink?: AuditSink,
    private readonly caseDir = '',
  ) {
    const destination = {
      write: (line: string) => {
        writeSync(this.fd, line)
        this.lastWritten = line
      },
    }
    this.logger = pino(
      {
        base: undefined,
        messageKey: 'msg',
        timestamp: () => `,"time":"${new Date().toISOString()}"`,
        formatters: {level: (label) => ({level: label})},
        // Belt and braces: redactDeep runs first; pino's own redaction covers the usual paths.
        redact: {
          paths: [
            'details.password',
            'details.secret',
            'details.token',
            'details.value',
            'details.env',
            'details.*.value',
            'details.*.password',
          ],
          censor: '[REDACTED]',
        },
      },
      destination,
    )
  }

  append(entry: AuditInput): Promise<AuditLine> {
    return this.lock.run(async () => {
      const head = await readHead(this.path)
      const seq = head.seq + 1
      const fields = redactDeep({
        seq,
        prev: head.hash,
        caseId: this.ctx.caseId,
        actor: this.ctx.actor,
        tool: this.ctx.tool,
        action: entry.action,
        ...(entry.target === undefined ? {} : {target: entry.target}),
        outcome: entry.outcome,
        ...(entry.details === undefined ? {} : {details: entry.details}),
      })
      this.fd = openSync(this.path, 'a+', 0o600)
      let before = 0
      try {
        // A crash can leave a torn last line without its newline: keep it a line of its own.
        before = fstatSync(this.fd).size
        if (before > 0) {
          const last = Buffer.alloc(1)
          readSync(this.fd, last, 0, 1, before - 1)
          if (last[0] !== 0x0a) writeSync(this.fd, '\n')
        }
        this.logger.info(fields, redactDeep(entry.msg ?? `${entry.action} ${entry.outcome}`))
        fsyncSync(this.fd)
      } catch (error) {
        // A line that could not be written whole (ENOSPC) is taken back: the log never ends torn.
        rollback(this.fd, before)
        closeSync(this.fd)
        this.fd = -1
        // A write through a descriptor names no file: say which one could not be written.
        const e = error as NodeJS.ErrnoException
        if (e && typeof e === 'object' && e.code && e.path === undefined) e.path = this.path
        throw error
      }
      const line = this.lastWritten.replace(/\n$/, '')
      const newHead = {seq, hash: sha256(line)}
      try {
        await this.onHead(newHead)
      } catch (error) {
        // case.json could not record the new head: take the line back so log and head stay in step.
        rollback(this.fd, before)
        throw error
      } finally {
        closeSync(this.fd)
        this.fd = -1
      }
      const written = JSON.parse(line) as AuditLine
      if (this.sink) {
        try {
          this.sink.appended(structuredClone(written), this.caseDir)
        } catch {
          // A notification problem never fails the step that was recorded.
        }
      }
      return written
    })
  }
}

/** Read the last line of the log to learn the chain's head (the file is the ground truth). */
export async function readHead(path: string): Promise<AuditHead> {
  let size: number
  try {
    size = (await stat(path)).size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {seq: 0, hash: GENESIS}
    throw error
  }
  if (size === 0) return {seq: 0, hash: GENESIS}
  const fh = await open(path, 'r')
  try {
    let chunkSize = 64 * 1024
    for (;;) {
      const start = Math.max(0, size - chunkSize)
      const buf = Buffer.alloc(size - start)
      await fh.read(buf, 0, buf.length, start)
      const text = buf.toString('utf8').replace(/\n+$/, '')
      const nl = text.lastIndexOf('\n')
      if (nl >= 0 || start === 0) {
        const last = nl >= 0 ? text.slice(nl + 1) : text
        try {
          const parsed = JSON.parse(last) as {seq?: number}
          if (typeof parsed.seq === 'number') return {seq: parsed.seq, hash: sha256(last)}
        } catch {
          // A torn or edited last line: chain on to it as it is (verify reports it) instead of failing forever.
        }
        return {seq: await countLines(path), hash: sha256(last)}
      }
      chunkSize *= 4
    }
  } finally {
    await fh.close()
  }
}

async function countLines(path: string): Promise<number> {
  const text = await readFile(path, 'utf8')
  return text.split('\n').filter((l) => l.length > 0).length
}

export interface ChainProblem {
  line: number
  problem: string
}

/** Walk the whole chain. Returns the problems found (empty when intact) and the head. */
export async function verifyChain(
  path: string,
  expectedHead?: AuditHead,
): Promise<{entries: number; problems: ChainProblem[]; head: AuditHead}> {
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  return verifyChainText(text, expectedHead)
}

/** verifyChain on the log's text (undefined: the log is missing). */
export function verifyChainText(
  text: string | undefined,
  expectedHead?: AuditHead,
): {entries: number; problems: ChainProblem[]; head: AuditHead} {
  if (text === undefined) {
    const problems = expectedHead && expectedHead.seq > 0 ? [{line: 0, problem: 'audit.log is missing'}] : []
    return {entries: 0, problems, head: {seq: 0, hash: GENESIS}}
  }
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  const problems: ChainProblem[] = []
  let prevHash = GENESIS
  for (const [i, line] of lines.entries()) {
    const n = i + 1
    let parsed: {seq?: unknown; prev?: unknown}
    try {
      parsed = JSON.parse(line) as {seq?: unknown; prev?: unknown}
    } catch {
      problems.push({line: n, problem: 'not valid JSON (edited or truncated)'})
      prevHash = sha256(line)
      continue
    }
    if (parsed.prev !== prevHash)
      problems.push({
        line: n,
        problem: `chain broken: prev does not match line ${n - 1} (a line before it was edited, removed or reordered)`,
      })
    if (parsed.seq !== n)
      problems.push({
        line: n,
        problem: `sequence number is ${String(parsed.seq)}, expected ${n} (a line was removed or inserted)`,
      })
    prevHash = sha256(line)
  }
  const head = {seq: lines.length, hash: prevHash}
  if (expectedHead) {
    if (expectedHead.seq !== head.seq) {
      problems.push({
        line: head.seq,
        problem: `case.json records ${expectedHead.seq} audit lines but the log has ${head.seq} (lines removed or appended outside ir)`,
      })
    } else if (expectedHead.hash !== head.hash) {
      problems.push({
        line: head.seq,
        problem: 'the last line does not match the head hash recorded in case.json (it was edited)',
      })
    }
  }
  return {entries: lines.length, problems, head}
}

/** The parsed lines of the log (lines that are not JSON are skipped: verifyChain reports them). */
export async function readAuditLines(path: string): Promise<AuditLine[]> {
  return parseAuditLines(await readAuditText(path))
}

/** The parsed lines of a log's text (lines that are not JSON are skipped). */
export function parseAuditLines(text: string): AuditLine[] {
  const out: AuditLine[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      out.push(JSON.parse(line) as AuditLine)
    } catch {
      // reported by verifyChain
    }
  }
  return out
}

function rollback(fd: number, size: number): void {
  try {
    ftruncateSync(fd, size)
    fsyncSync(fd)
  } catch {
    // verify reports whatever could not be taken back
  }
}

/** The log's text; a missing log is empty. */
export async function readAuditText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw error
  }
}
