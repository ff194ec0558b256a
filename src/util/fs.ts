import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {mkdir, open, rename, rm} from 'node:fs/promises'
import {dirname} from 'node:path'

export const DIR_MODE = 0o700
export const FILE_MODE = 0o600

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, {recursive: true, mode: DIR_MODE})
}

/** Write a file atomically: temp file in the same folder, fsync, rename; mode 0600 unless given. */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = FILE_MODE): Promise<void> {
  await ensureDir(dirname(path))
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}`
  const fh = await open(tmp, 'wx', mode)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
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
