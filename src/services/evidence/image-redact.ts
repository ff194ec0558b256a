import {PassThrough, type Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import tar from 'tar-stream'

import {redactDeep} from '../../case/redact.js'

/** Image config documents inside a `docker save` tar (legacy layout): <id>.json and <layer>/json. */
const CONFIG_ENTRY = /^(?:[0-9a-f]{64}\.json|[0-9a-f]{64}\/json)$/
const MAX_CONFIG = 16 * 1024 * 1024

export interface ImageRedaction {
  configsRedacted: number
  /** Config entries that were not valid JSON and were kept as they are. */
  keptAsIs: string[]
  /**
   * The engine saved in the OCI layout (Docker 25+): content-addressed blobs cannot be rewritten
   * without breaking `docker load`, so the config blob was kept byte-exact.
   */
  ociLayout: boolean
}

/**
 * Rewrite a `docker save` stream so that the image config (which holds `container_config`, the
 * container's original Env and Cmd) carries no secret values, passing every layer through
 * unchanged and streaming (memory stays flat). The result still loads with `docker load`.
 */
export function redactImageTar(source: Readable): {output: Readable; done: Promise<ImageRedaction>} {
  const extract = tar.extract()
  const pack = tar.pack()
  const output = new PassThrough({highWaterMark: 1024 * 1024})
  const summary: ImageRedaction = {configsRedacted: 0, keptAsIs: [], ociLayout: false}

  extract.on('entry', (header, stream, next) => {
    if (header.type === 'file' && (header.size ?? 0) <= MAX_CONFIG && CONFIG_ENTRY.test(header.name)) {
      const chunks: Buffer[] = []
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer)
      })
      stream.on('end', () => {
        const raw = Buffer.concat(chunks)
        let body = raw
        try {
          body = Buffer.from(JSON.stringify(redactDeep(JSON.parse(raw.toString('utf8')))))
          summary.configsRedacted++
        } catch {
          summary.keptAsIs.push(header.name)
        }
        pack.entry({...header, size: body.length}, body, next)
      })
      return
    }
    if (header.name.startsWith('blobs/sha256/')) summary.ociLayout = true
    const sink = pack.entry(header, next)
    // When the transfer is aborted the pack is destroyed: its entry sink then errors; the error
    // already travels through the pipelines, so only make sure nothing is left unhandled.
    sink.on('error', (error: Error) => stream.destroy(error))
    stream.on('error', () => undefined)
    stream.pipe(sink)
  })
  extract.on('finish', () => pack.finalize())

  const done = (async () => {
    await Promise.all([
      pipeline(source, extract).catch((error: Error) => {
        pack.destroy(error)
        throw error
      }),
      pipeline(pack, output),
    ])
    return summary
  })()
  done.catch((error: Error) => output.destroy(error))
  return {output, done}
}
