import {neutralizeControls} from '../util/controls.js'
import {formatBytes} from '../util/bytes.js'

/**
 * Byte progress for long transfers: a single refreshed line on a TTY (bytes, rate), nothing
 * without one (CI logs stay quiet).
 */
export function byteProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): {onProgress: (bytes: number) => void; done: () => void} {
  if (!stream.isTTY) return {onProgress: () => undefined, done: () => undefined}
  const name = neutralizeControls(label, {singleLine: true})
  const start = Date.now()
  let last = 0
  let bytes = 0
  const draw = (): void => {
    const secs = Math.max((Date.now() - start) / 1000, 0.001)
    stream.write(`\r\u001B[2K  ${name}: ${formatBytes(bytes)} (${formatBytes(bytes / secs)}/s)`)
  }
  return {
    onProgress(n) {
      bytes = n
      const now = Date.now()
      if (now - last > 250) {
        last = now
        draw()
      }
    },
    done() {
      if (bytes > 0) {
        draw()
        stream.write('\n')
      }
    },
  }
}
