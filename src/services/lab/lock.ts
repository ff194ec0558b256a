import {createHash} from 'node:crypto'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import lockfile from 'proper-lockfile'

import {AbortError} from '../../errors.js'

/** A lock whose holder was killed goes stale after this long and is taken over. */
export const LAB_LOCK_STALE_MS = 20_000
const UPDATE_MS = 4_000

/** The lock files of one `ir lab up`: one per project name and one per folder, both in the temp folder. */
export function labLockPaths(project: string, dir: string, root = tmpdir()): {project: string; dir: string} {
  const key = createHash('sha256').update(dir).digest('hex').slice(0, 16)
  return {project: join(root, `ir-lab-up.project-${project}.lock`), dir: join(root, `ir-lab-up.dir-${key}.lock`)}
}

/**
 * Hold the locks of a lab (its name and its folder) while it is brought up: a second `ir lab up` for
 * the same name or into the same folder refuses at once (exit PRECONDITION) instead of rewriting the
 * secrets of the first. proper-lockfile, as the case lock (src/case/lock.ts): an atomic mkdir whose
 * mtime the holder keeps fresh; a killed holder's lock goes stale and is taken over.
 */
export async function withLabLock<T>(
  opts: {project: string; dir: string; root?: string; staleMs?: number},
  fn: () => Promise<T>,
): Promise<T> {
  const paths = labLockPaths(opts.project, opts.dir, opts.root)
  const releases: Array<() => Promise<void>> = []
  try {
    for (const [what, path] of [
      ['lab', paths.project],
      ['folder', paths.dir],
    ] as const) {
      try {
        releases.push(
          await lockfile.lock(path, {
            lockfilePath: path,
            realpath: false,
            stale: opts.staleMs ?? LAB_LOCK_STALE_MS,
            update: UPDATE_MS,
            retries: 0,
          }),
        )
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error
        throw new AbortError(
          what === 'lab'
            ? `Another ir lab up is already starting the lab "${opts.project}"`
            : `Another ir lab up is already writing the lab folder ${opts.dir}`,
          {
            exit: 'PRECONDITION',
            hint: `Wait for it to finish, then see the lab with \`ir lab status\`. Nothing was changed. (Lock ${path}; one left by a killed ir is taken over after ${Math.round((opts.staleMs ?? LAB_LOCK_STALE_MS) / 1000)} s.)`,
          },
        )
      }
    }
    return await fn()
  } finally {
    for (const release of releases.reverse()) await release().catch(() => undefined)
  }
}
