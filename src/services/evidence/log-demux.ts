import {once} from 'node:events'
import {Writable} from 'node:stream'

/**
 * Docker multiplexes stdout and stderr of a non-TTY container into frames:
 * [stream type (1 stdout, 2 stderr), 0, 0, 0, payload size uint32 big-endian] + payload.
 * Split such a stream into stdout and stderr in one pass, across arbitrary chunk boundaries, writing each payload to its
 * destination and waiting for it when it pushes back (memory stays flat). Ends both at the end.
 */
export function splitDockerStream(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Writable {
  let header = Buffer.alloc(0)
  let remaining = 0
  let current = 0
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      // Frames are small (one log line each): gather each stream's payloads of this chunk and write
      // them once, instead of one stream write per line.
      const outParts: Buffer[] = []
      const errParts: Buffer[] = []
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
        if (current === 1) outParts.push(buf.subarray(0, take))
        else if (current === 2) errParts.push(buf.subarray(0, take))
        remaining -= take
        buf = buf.subarray(take)
      }
      const waits: Array<Promise<unknown>> = []
      if (outParts.length > 0 && !stdout.write(outParts.length === 1 ? outParts[0]! : Buffer.concat(outParts)))
        waits.push(once(stdout as unknown as NodeJS.EventEmitter, 'drain'))
      if (errParts.length > 0 && !stderr.write(errParts.length === 1 ? errParts[0]! : Buffer.concat(errParts)))
        waits.push(once(stderr as unknown as NodeJS.EventEmitter, 'drain'))
      if (waits.length === 0) cb()
      else Promise.all(waits).then(() => cb(), cb)
    },
    final(cb) {
      stdout.end()
      stderr.end()
      cb()
    },
    destroy(err, cb) {
      if (err) {
        ;(stdout as unknown as Writable).destroy(err)
        ;(stderr as unknown as Writable).destroy(err)
      }
      cb(err)
    },
  })
}
