import {link, open, readFile, rename, rm} from 'node:fs/promises'

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
        await this.takeOverStale()
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

  /**
   * Move the stale lock aside atomically (only one waiter's rename succeeds), then make sure what was
   * moved is still the dead holder's: if another waiter had already replaced it with a live lock,
   * put that back instead of breaking it.
   */
  private async takeOverStale(): Promise<void> {
    const aside = `${this.path}.stale-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}`
    try {
      await rename(this.path, aside)
    } catch {
      return // someone else moved it first
    }
    const pid = Number((await readFile(aside, 'utf8').catch(() => '')).trim())
    let alive = false
    try {
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
        process.kill(pid, 0)
        alive = true
      }
    } catch {
      alive = false
    }
    if (alive) await link(aside, this.path).catch(() => undefined)
    await rm(aside, {force: true})
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
