import {readFile} from 'node:fs/promises'
import {Readable} from 'node:stream'

import type {Engine} from '../../docker/types.js'
import {AbortError, IrError} from '../../errors.js'

/** The busybox image the tests use; the lab runs on it (no registry needed). */
export const DEFAULT_LAB_BASE_IMAGE = 'ir-test/busybox:latest'
/** Debian's busybox-static installs a statically linked busybox here. */
export const HOST_BUSYBOX = '/bin/busybox'
/** What the lab's services run. */
export const REQUIRED_APPLETS = ['sh', 'httpd', 'nc', 'sleep', 'mkdir', 'cat', 'chmod', 'test'] as const

/** The same changes as `docker import -c ...` in scripts/engine-lib.sh (ir_build_test_image). */
export const BASE_IMAGE_CHANGES = ['CMD ["/bin/sh"]', 'ENV PATH=/bin', 'LABEL ir.test=true']

const PASSWD =
  'root:x:0:0:root:/root:/bin/sh\ndeveloper:x:1000:1000:developer:/home/developer:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n'
const GROUP = 'root:x:0:\ndeveloper:x:1000:\nnogroup:x:65534:\n'

export interface BaseImageResult {
  ref: string
  id: string
  /** true when this run imported it. */
  built: boolean
}

/** repo and tag of an image reference (a registry port is not a tag: registry:5000/x). */
export function splitImageRef(ref: string): {repo: string; tag: string} {
  const slash = ref.lastIndexOf('/')
  const colon = ref.lastIndexOf(':')
  if (colon > slash) return {repo: ref.slice(0, colon), tag: ref.slice(colon + 1)}
  return {repo: ref, tag: 'latest'}
}

/**
 * Whether an ELF executable is statically linked (no PT_INTERP program header). Undefined when the
 * bytes are not a 64-bit little-endian ELF file (then we cannot tell and do not refuse).
 */
export function isStaticElf(buf: Buffer): boolean | undefined {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) return undefined
  const phoff = Number(buf.readBigUInt64LE(0x20))
  const phentsize = buf.readUInt16LE(0x36)
  const phnum = buf.readUInt16LE(0x38)
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize
    if (at + 4 > buf.length) return undefined
    if (buf.readUInt32LE(at) === 3) return false // PT_INTERP: needs a dynamic loader the image does not have
  }
  return true
}

function missingBusybox(path: string, ref: string, why: string): AbortError {
  return new AbortError(`Cannot build the lab's base image ${ref}: ${path} ${why}`, {
    exit: 'NOT_FOUND',
    hint: 'Install the Debian package busybox-static (`apt-get install busybox-static`), which provides a statically linked /bin/busybox, then run `ir lab up` again.',
  })
}

/** The host's busybox and its applets, checked to be usable in an image with nothing else in it. */
export async function hostBusybox(path: string, ref: string): Promise<{binary: Buffer; applets: string[]}> {
  let binary: Buffer
  try {
    binary = await readFile(path)
  } catch {
    throw missingBusybox(path, ref, 'is missing')
  }
  if (isStaticElf(binary) === false)
    throw missingBusybox(path, ref, 'is dynamically linked (the Debian package busybox, not busybox-static)')
  const {execa} = await import('execa')
  const listed = await execa(path, ['--list'], {reject: false, stdin: 'ignore', timeout: 15_000})
  if (listed.exitCode !== 0) throw missingBusybox(path, ref, `does not run (\`${path} --list\` failed)`)
  const applets = String(listed.stdout)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.includes('/'))
  const missing = REQUIRED_APPLETS.filter((a) => !applets.includes(a))
  if (missing.length > 0) throw missingBusybox(path, ref, `lacks the applets ${missing.join(', ')}`)
  return {binary, applets}
}

/**
 * The root filesystem of the base image, as ir_build_test_image makes it: /bin/busybox and a symlink per
 * applet, /etc/passwd and /etc/group with root and developer (uid 1000), /tmp 1777, /www, /data, homes.
 */
export async function busyboxRootfsTar(
  binary: Buffer,
  applets: readonly string[],
  now: Date = new Date(),
): Promise<Buffer> {
  const tar = await import('tar-stream')
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer))
    pack.on('end', () => resolve(Buffer.concat(chunks)))
    pack.on('error', reject)
  })
  const mtime = now
  const dir = (name: string, mode = 0o755, uid = 0): void => {
    pack.entry({name: `${name}/`, type: 'directory', mode, uid, gid: uid, mtime})
  }
  const file = (name: string, content: Buffer | string, mode = 0o644): void => {
    pack.entry({name, type: 'file', mode, uid: 0, gid: 0, mtime}, content)
  }
  dir('bin')
  file('bin/busybox', binary, 0o755)
  for (const applet of [...new Set(applets)].sort()) {
    if (applet === 'busybox' || !/^[\w.[\]-]+$/.test(applet)) continue
    pack.entry({name: `bin/${applet}`, type: 'symlink', linkname: 'busybox', mode: 0o777, uid: 0, gid: 0, mtime})
  }
  dir('tmp', 0o1777)
  dir('www')
  dir('etc')
  file('etc/passwd', PASSWD)
  file('etc/group', GROUP)
  dir('root')
  dir('home')
  dir('home/developer', 0o755, 1000)
  dir('data')
  pack.finalize()
  return done
}

/**
 * Make sure the lab's base image exists locally; when it does not, import it through the Engine API
 * from the host's static busybox (the recipe of scripts/engine-lib.sh). No registry is contacted.
 */
export async function ensureBaseImage(opts: {
  engine: Engine
  ref: string
  busyboxPath?: string
  progress?: (line: string) => void
}): Promise<BaseImageResult> {
  try {
    const info = await opts.engine.images.inspect(opts.ref)
    return {ref: opts.ref, id: info.id, built: false}
  } catch (error) {
    if (!(error instanceof IrError && error.exitName === 'NOT_FOUND')) throw error
  }
  const path = opts.busyboxPath ?? HOST_BUSYBOX
  const {binary, applets} = await hostBusybox(path, opts.ref)
  opts.progress?.(`Building ${opts.ref} from ${path} (${applets.length} applets); no registry is used`)
  const tar = await busyboxRootfsTar(binary, applets)
  const {repo, tag} = splitImageRef(opts.ref)
  const id = await opts.engine.images.importImage(Readable.from([tar]), {repo, tag, changes: BASE_IMAGE_CHANGES})
  return {ref: opts.ref, id, built: true}
}
