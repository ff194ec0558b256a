import {Readable, Writable} from 'node:stream'
import {finished, pipeline} from 'node:stream/promises'

import {describe, expect, it} from 'vitest'

import {splitDockerStream} from '../../src/services/evidence/log-demux.js'

function frame(type: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text)
  const h = Buffer.alloc(8)
  h[0] = type
  h.writeUInt32BE(payload.length, 4)
  return Buffer.concat([h, payload])
}

describe('splitting a log stream in one pass', () => {
  it('writes stdout and stderr frames to their own destinations and ends both', async () => {
    const input = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n')])
    for (const size of [1, 3, 5, 7, 8, 9, 1000]) {
      const out: Buffer[] = []
      const err: Buffer[] = []
      const sink = (into: Buffer[]) =>
        new Writable({
          highWaterMark: 1,
          write(c, _e, cb) {
            into.push(c)
            setImmediate(cb)
          },
        })
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
