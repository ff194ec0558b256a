import {Worker} from 'node:worker_threads'

// Runs inside the worker: stream the file and hash it, off the main thread.
const WORKER_SOURCE = `
const {parentPort, workerData} = require('node:worker_threads')
const {createHash} = require('node:crypto')
const {createReadStream} = require('node:fs')
const hash = createHash('sha256')
let size = 0
createReadStream(workerData.path, {highWaterMark: 1024 * 1024})
  .on('data', (c) => { hash.update(c); size += c.length })
  .on('error', (e) => parentPort.postMessage({error: e.message, code: e.code}))
  .on('end', () => parentPort.postMessage({sha256: hash.digest('hex'), size}))
`

/**
 * SHA-256 of a file computed in a worker thread, so re-reading what was just written (to verify
 * it) runs on another core while the main thread keeps streaming other evidence.
 */
export function sha256FileInWorker(path: string): Promise<{sha256: string; size: number}> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {eval: true, workerData: {path}})
    worker.once('message', (m: {sha256?: string; size?: number; error?: string; code?: string}) => {
      void worker.terminate()
      if (m.error) reject(Object.assign(new Error(m.error), {code: m.code, path}))
      else resolve({sha256: m.sha256!, size: m.size!})
    })
    worker.once('error', reject)
  })
}
