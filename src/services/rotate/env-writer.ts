import {chown, lstat, open, readFile, realpath, rename, rm, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

import {fileStamp} from '../../case/ids.js'
import {AbortError} from '../../errors.js'
import {fsyncDir} from '../../util/fs.js'
import {bufferToText, parseDotenv, setDotenvValue, textToBuffer} from './dotenv.js'

/**
 * Write new values into a .env-format file: first a backup copy `<file>.ir-backup-<UTC stamp>` (0600)
 * next to it, then the new content atomically (temp file in the same folder, fsync, rename), keeping
 * every other byte, the owner, and the permissions (at most 0600: looser ones are tightened).
 */

export interface EnvWriteResult {
  file: string
  backup: string
  names: string[]
  /** Octal strings, e.g. "0644" -> "0600". */
  modeBefore: string
  modeAfter: string
}

const octal = (m: number): string => `0${(m & 0o777).toString(8).padStart(3, '0')}`

async function createExclusive(path: string, data: Buffer, mode: number): Promise<void> {
  const fh = await open(path, 'wx', mode)
  try {
    await fh.writeFile(data)
    await fh.chmod(mode)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

export async function writeEnvValues(
  file: string,
  values: ReadonlyMap<string, string>,
  now: Date = new Date(),
): Promise<EnvWriteResult> {
  // Edit the file a symbolic link points to, not the link.
  const target = (await lstat(file)).isSymbolicLink() ? await realpath(file) : file
  const st = await stat(target)
  const original = await readFile(target)
  let text = bufferToText(original)
  for (const [name, value] of values) {
    let r
    try {
      r = setDotenvValue(text, target, name, value)
    } catch (error) {
      throw new AbortError(`Cannot write ${name} into ${file}: ${(error as Error).message}`, {
        exit: 'USAGE',
        hint: 'Choose another --alphabet.',
      })
    }
    if (r.replaced === 0)
      throw new AbortError(`${name} is no longer defined with a value in ${file}; nothing was written`, {
        exit: 'NOT_FOUND',
        hint: 'Run ir rotate again to rebuild the inventory.',
      })
    text = r.text
  }
  // Check the edit before it replaces anything: the new values are there, every other entry is unchanged.
  const before = parseDotenv(bufferToText(original), target).entries
  const after = parseDotenv(text, target).entries
  const ok =
    before.length === after.length &&
    after.every(
      (e, i) =>
        e.name === before[i]!.name &&
        (values.has(e.name) && e.value !== undefined ? e.value === values.get(e.name) : e.value === before[i]!.value),
    )
  if (!ok)
    throw new AbortError(
      `Refusing to write ${file}: the edited file would not read back as expected; nothing was changed`,
      {exit: 'FAILURE'},
    )

  const mode = st.mode & 0o600
  let backup = join(dirname(target), `${basename(file)}.ir-backup-${fileStamp(now)}`)
  for (let n = 2; ; n++) {
    try {
      await createExclusive(backup, original, 0o600)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n > 100) throw error
      backup = join(dirname(target), `${basename(file)}.ir-backup-${fileStamp(now)}-${n}`)
    }
  }

  const tmp = join(dirname(target), `.${basename(target)}.ir-tmp-${process.pid}-${Date.now()}`)
  try {
    await createExclusive(tmp, textToBuffer(text), mode)
    if (process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0)) await chown(tmp, st.uid, st.gid)
    await rename(tmp, target)
  } catch (error) {
    await rm(tmp, {force: true})
    throw error
  }
  await fsyncDir(dirname(target))
  return {file, backup, names: [...values.keys()], modeBefore: octal(st.mode), modeAfter: octal(mode)}
}
