import {lstat, readFile, stat} from 'node:fs/promises'

import type {InventoryWarning} from './model.js'

/**
 * Read a file the inventory depends on. A problem becomes one warning naming the file and what is wrong
 * (missing, a folder, a broken link, permission denied), never an exception: the rest of the inventory goes on.
 */
export async function readForInventory(
  path: string,
  warn: (w: InventoryWarning) => void,
  opts: {missingOk?: boolean; what?: string} = {},
): Promise<Buffer | undefined> {
  const what = opts.what ? `${opts.what} ` : ''
  try {
    const st = await stat(path)
    if (st.isDirectory()) {
      warn({file: path, message: `${what}${path} is a folder, not a file: skipped`})
      return undefined
    }
    return await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      const link = await lstat(path).catch(() => undefined)
      if (link?.isSymbolicLink()) {
        warn({file: path, message: `${what}${path} is a broken symbolic link: skipped`})
        return undefined
      }
      if (!opts.missingOk) warn({file: path, message: `${what}${path} does not exist: skipped`})
      return undefined
    }
    if (code === 'EACCES' || code === 'EPERM') {
      warn({file: path, message: `${what}${path} is not readable (permission denied): skipped`})
      return undefined
    }
    if (code === 'EISDIR') {
      warn({file: path, message: `${what}${path} is a folder, not a file: skipped`})
      return undefined
    }
    warn({file: path, message: `${what}${path} could not be read (${code ?? 'error'}): skipped`})
    return undefined
  }
}
