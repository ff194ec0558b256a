import {AsyncLocalStorage} from 'node:async_hooks'

import lockfile from 'proper-lockfile'

import {AbortError} from '../errors.js'

/** How long a waiter keeps trying before it gives up (many ir processes may queue on one case). */
const WAIT_MS = 180_000
/** A lock whose mtime is older than this is a dead holder's and is taken over. */
const STALE_MS = 20_000
/** The holder refreshes the lock's mtime this often. */
const UPDATE_MS = 4_000

export interface LockOptions {
  waitMs?: number
  staleMs?: number
  /** Called when the lock was lost while held (e.g. the machine stalled past the stale time). */
  onCompromised?: (error: Error) => void
}

/**
 * An exclusive lock across processes (proper-lockfile: an atomic `mkdir` whose mtime the holder
 * keeps fresh; a killed holder's lock goes stale and is taken over; release removes only a lock
 * this process still owns), plus an in-process queue, re-entrant within one async call chain so a
 * step holding the lock can append to the audit log and the manifest without deadlocking itself.
 *
 * Nothing is created before the lock is held, so a failure to take it (ENOSPC, EROFS, EACCES)
 * leaves nothing behind.
 */
export class CaseLock {
  private static readonly shared = new Map<string, CaseLock>()

  /** The one lock object of a path in this process, so two objects of one case share its queue. */
  static for(path: string, opts: LockOptions = {}): CaseLock {
    let lock = CaseLock.shared.get(path)
    if (!lock) {
      lock = new CaseLock(path, opts)
      CaseLock.shared.set(path, lock)
    }
    return lock
  }

  private queue: Promise<unknown> = Promise.resolve()
  private readonly held = new AsyncLocalStorage<true>()
  private readonly waitMs: number
  private readonly staleMs: number

  /** @param path the lock's path (a folder created by mkdir); its parent must exist. */
  constructor(
    readonly path: string,
    private readonly opts: LockOptions = {},
  ) {
    this.waitMs = opts.waitMs ?? WAIT_MS
    this.staleMs = opts.staleMs ?? STALE_MS
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.held.getStore()) return fn()
    const next = this.queue.then(() => this.withFileLock(fn))
    this.queue = next.catch(() => undefined)
    return next
  }

  private async withFileLock<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire()
    try {
      return await this.held.run(true, fn)
    } finally {
      await release().catch(() => undefined)
    }
  }

  private async acquire(): Promise<() => Promise<void>> {
    const deadline = Date.now() + this.waitMs
    let delay = 5
    for (;;) {
      try {
        // Keyed by the lock's own path: several locks may live in one folder (per-container locks).
        return await lockfile.lock(this.path, {
          lockfilePath: this.path,
          realpath: false,
          stale: this.staleMs,
          update: UPDATE_MS,
          retries: 0,
          onCompromised: (error) => this.opts.onCompromised?.(error),
        })
      } catch (error) {
        // Only a lock held by someone else is waited for; ENOSPC, EROFS, EACCES, ENOTDIR go up at once.
        if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error
      }
      if (Date.now() > deadline) {
        throw new AbortError(
          `The case is busy: another ir process has held its lock for over ${Math.round(this.waitMs / 1000)} s (${this.path})`,
          {
            exit: 'CASE_ACCESS',
            hint: `Wait for the other ir command to finish. A lock whose holder was killed is taken over by itself after ${Math.round(this.staleMs / 1000)} s.`,
          },
        )
      }
      await new Promise((r) => setTimeout(r, delay + Math.floor(Math.random() * delay)))
      delay = Math.min(delay * 2, 200)
    }
  }
}
