import {Transform} from 'node:stream'

/**
 * Docker multiplexes stdout and stderr of a non-TTY container into frames:
 * [stream type (1 stdout, 2 stderr), 0, 0, 0, payload size uint32 big-endian] + payload.
 * This keeps the payload of the wanted stream only, across arbitrary chunk boundaries, streaming.
 */
export function demuxDockerStream(keep: 1 | 2): Transform {
  let header = Buffer.alloc(0)
  let remaining = 0
  let current = 0
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let buf = chunk
      while (buf.length > 0) {
        if (remaining === 0) {
          const need = 8 - header.length
          header = Buffer.concat([header, buf.subarray(0, need)])
          buf = buf.subarray(need)
          if (header.length < 8) break
          current = header[0]!
          remaining = header.readUInt32BE(4)
          header = Buffer.alloc(0)
          continue
        }
        const take = Math.min(remaining, buf.length)
        if (current === keep) this.push(buf.subarray(0, take))
        remaining -= take
        buf = buf.subarray(take)
      }
      cb()
    },
  })
}
