import {createHash} from 'node:crypto'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, posix} from 'node:path'
import {Readable} from 'node:stream'
import {gunzipSync} from 'node:zlib'

import {execa} from 'execa'
import tar from 'tar-stream'

/**
 * A saved image tar read independently of any engine, in whichever layout it was written: the legacy
 * `docker save` layout (<id>/layer.tar, possibly symlinks to <digest>.tar as Podman writes) or the OCI
 * layout of Docker 25+ and the containerd store (blobs/sha256/<digest>). Layers come from manifest.json
 * (both layouts have it), each checked against its digest and against the config's rootfs.diff_ids.
 */
export interface SavedImage {
  layout: 'oci' | 'docker'
  config: Record<string, unknown>
  configDigest: string
  layers: Array<{path: string; bytes: Buffer; diffId: string}>
  members: Map<string, Buffer>
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`

export async function readSavedImage(path: string): Promise<SavedImage> {
  const members = new Map<string, Buffer>()
  const links = new Map<string, string>()
  const extract = tar.extract()
  Readable.from([await readFile(path)]).pipe(extract)
  for await (const e of extract) {
    const chunks: Buffer[] = []
    for await (const c of e) chunks.push(c as Buffer)
    if (e.header.type === 'symlink' && e.header.linkname)
      links.set(e.header.name, posix.normalize(posix.join(posix.dirname(e.header.name), e.header.linkname)))
    else if (e.header.type === 'file') members.set(e.header.name, Buffer.concat(chunks))
  }
  const get = (name: string): Buffer => {
    const b = members.get(name) ?? members.get(links.get(name) ?? '')
    if (!b) throw new Error(`${path}: no member ${name}`)
    return b
  }
  const layout =
    members.has('index.json') && [...members.keys()].some((n) => n.startsWith('blobs/sha256/')) ? 'oci' : 'docker'
  const manifest = JSON.parse(get('manifest.json').toString('utf8')) as Array<{Config: string; Layers: string[]}>
  const entry = manifest[0]!
  const configBytes = get(entry.Config)
  const config = JSON.parse(configBytes.toString('utf8')) as {rootfs?: {diff_ids?: string[]}}
  const configDigest = sha(configBytes)
  if (layout === 'oci') {
    // Content addressing: every blob's name is its digest, and the index leads to this config.
    for (const [name, bytes] of members) {
      const hex = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name)?.[1]
      if (hex && sha(bytes) !== `sha256:${hex}`) throw new Error(`${path}: blob ${name} does not match its digest`)
    }
    if (`blobs/sha256/${configDigest.slice(7)}` !== entry.Config)
      throw new Error(`${path}: manifest.json names config ${entry.Config}, digest is ${configDigest}`)
  }
  const diffIds = config.rootfs?.diff_ids ?? []
  const layers = entry.Layers.map((p, i) => {
    const bytes = get(p)
    const plain = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes
    const diffId = sha(plain)
    if (diffIds[i] !== diffId)
      throw new Error(`${path}: layer ${p} has diff id ${diffId}, the config says ${diffIds[i]}`)
    return {path: p, bytes: plain, diffId}
  })
  return {layout, config: config, configDigest, layers, members}
}

/** Names of the files in the image's layers (each layer a tar). */
export async function layerFiles(image: SavedImage): Promise<string[]> {
  const names: string[] = []
  for (const l of image.layers) {
    const inner = tar.extract()
    Readable.from([l.bytes]).pipe(inner)
    for await (const f of inner) {
      names.push(f.header.name.replace(/^\.\//, ''))
      f.resume()
    }
  }
  return names
}

/**
 * skopeo's verdict on the saved tar, from outside any engine: it reads the archive in its layout
 * (oci-archive: or docker-archive:) and copies every blob to a dir, checking digests as it goes.
 */
export async function skopeoCopies(path: string, layout: 'oci' | 'docker'): Promise<{ok: boolean; output: string}> {
  const dir = await mkdtemp(join(tmpdir(), 'ir-skopeo-'))
  try {
    const r = await execa(
      'skopeo',
      ['copy', '--quiet', `${layout === 'oci' ? 'oci-archive' : 'docker-archive'}:${path}`, `dir:${join(dir, 'out')}`],
      {reject: false, timeout: 120_000},
    )
    return {ok: r.exitCode === 0, output: r.stdout + r.stderr}
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}
