import {Readable, Writable} from 'node:stream'
import {finished, pipeline} from 'node:stream/promises'

import {describe, expect, it} from 'vitest'

import {demuxDockerStream} from '../../src/services/evidence/log-demux.js'

function frame(type: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text)
  const h = Buffer.alloc(8)
  h[0] = type
  h.writeUInt32BE(payload.length, 4)
  return Buffer.concat([h, payload])
}

async function run(input: Buffer, keep: 1 | 2, chunk: number): Promise<string> {
  const chunks: Buffer[] = []
  for (let i = 0; i < input.length; i += chunk) chunks.push(input.subarray(i, i + chunk))
  const out: Buffer[] = []
  await pipeline(Readable.from(chunks), demuxDockerStream(keep), new Writable({write(c, _e, cb) { out.push(c); cb() }}))
  return Buffer.concat(out).toString()
}

describe('docker log demultiplexing', () => {
  it('separates stdout and stderr whatever the chunk boundaries', async () => {
    const input = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n'), frame(2, '')])
    for (const size of [1, 3, 7, 8, 9, 1000]) {
      expect(await run(input, 1, size)).toBe('out one\nout two\n')
      expect(await run(input, 2, size)).toBe('err one\n')
    }
  })
})

describe('splitting a log stream in one pass', () => {
  it('writes stdout and stderr frames to their own destinations and ends both', async () => {
    const {splitDockerStream} = await import('../../src/services/evidence/log-demux.js')
    const input = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n')])
    for (const size of [1, 5, 9, 1000]) {
      const out: Buffer[] = []
      const err: Buffer[] = []
      const sink = (into: Buffer[]) => new Writable({highWaterMark: 1, write(c, _e, cb) { into.push(c); setImmediate(cb) }})
      const o = sink(out)
      const e = sink(err)
      const chunks: Buffer[] = []
      for (let i = 0; i < input.length; i += size) chunks.push(input.subarray(i, i + size))
      await pipeline(Readable.from(chunks), splitDockerStream(o, e))
      await Promise.all([finished(o), finished(e)])
      expect(Buffer.concat(out).toString()).toBe('out one\nout two\n')
      expect(Buffer.concat(err).toString()).toBe('err one\n')
    }
  })
})
