import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {constants} from 'node:fs'
import {access, mkdir, open, rename, rm, stat} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'

export const DIR_MODE = 0o700
export const FILE_MODE = 0o600

/**
 * mkdir -p, with the real reason when it fails: Node's recursive mkdir reports EEXIST for a file in
 * the way and ENOENT on a read-only file system; the first missing level is made on its own to learn
 * whether it is ENOTDIR, EROFS, EACCES or ENOSPC.
 */
export async function ensureDir(path: string): Promise<void> {
  try {
    await mkdir(path, {recursive: true, mode: DIR_MODE})
  } catch (error) {
    throw await explainMkdir(path, error as NodeJS.ErrnoException)
  }
}

async function explainMkdir(path: string, original: NodeJS.ErrnoException): Promise<NodeJS.ErrnoException> {
  const levels: string[] = []
  for (let p = resolve(path); ; p = dirname(p)) {
    levels.unshift(p)
    if (dirname(p) === p) break
  }
  for (const level of levels) {
    const st = await stat(level).catch((e: NodeJS.ErrnoException) => e)
    if (st instanceof Error) {
      if (st.code === 'ENOTDIR')
        return Object.assign(new Error(`not a folder: ${level}`), {code: 'ENOTDIR', path: level})
      if (st.code !== 'ENOENT') return st
      try {
        await mkdir(level, {mode: DIR_MODE})
      } catch (e) {
        return e as NodeJS.ErrnoException
      }
      continue
    }
    if (!st.isDirectory()) return Object.assign(new Error(`not a folder: ${level}`), {code: 'ENOTDIR', path: level})
  }
  return original
}

/** Fail early (EROFS, EACCES) when a folder cannot be written, before any engine call. */
export async function assertWritable(dir: string): Promise<void> {
  await access(dir, constants.W_OK)
}

/** Write a file atomically: temp file in the same folder, fsync, rename; mode 0600 unless given. */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = FILE_MODE): Promise<void> {
  await ensureDir(dirname(path))
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}`
  const fh = await open(tmp, 'wx', mode)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } catch (error) {
    // A full disk (or any failed write) leaves no half-written temporary file, and says which file it was.
    await fh.close().catch(() => undefined)
    await rm(tmp, {force: true})
    const e = error as NodeJS.ErrnoException
    if (e && typeof e === 'object' && e.code && e.path === undefined) e.path = path
    throw error
  }
  await fh.close()
  try {
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, {force: true})
    throw error
  }
  await fsyncDir(dirname(path))
}

export async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch {
    // Some filesystems do not allow fsync on a directory; the rename is still atomic.
  }
}

export async function sha256File(path: string): Promise<{sha256: string; size: number}> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return {sha256: hash.digest('hex'), size}
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}
