import {open, readFile, rm} from 'node:fs/promises'

import {AbortError} from '../errors.js'

const WAIT_MS = 30_000

/**
 * A lock around short case mutations (audit append, manifest update, state write): an in-process
 * queue plus a lock file, so two `ir` processes working on one case never interleave writes.
 */
export class CaseLock {
  private queue: Promise<unknown> = Promise.resolve()

  constructor(private readonly path: string) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(() => this.withFileLock(fn))
    this.queue = next.catch(() => undefined)
    return next
  }

  private async withFileLock<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire()
    try {
      return await fn()
    } finally {
      await rm(this.path, {force: true})
    }
  }

  private async acquire(): Promise<void> {
    const deadline = Date.now() + WAIT_MS
    let delay = 5
    for (;;) {
      try {
        const fh = await open(this.path, 'wx', 0o600)
        await fh.writeFile(String(process.pid))
        await fh.close()
        return
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      if (await this.isStale()) {
        await rm(this.path, {force: true})
        continue
      }
      if (Date.now() > deadline) {
        throw new AbortError(`The case is locked by another ir process (${this.path})`, {
          exit: 'CASE_ACCESS',
          hint: 'Wait for the other ir command to finish; if none is running, delete the lock file.',
        })
      }
      await new Promise((r) => setTimeout(r, delay))
      delay = Math.min(delay * 2, 100)
    }
  }

  private async isStale(): Promise<boolean> {
    try {
      const pid = Number((await readFile(this.path, 'utf8')).trim())
      if (!Number.isInteger(pid) || pid <= 0) return false
      if (pid === process.pid) return false
      process.kill(pid, 0)
      return false
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH'
    }
  }
}
