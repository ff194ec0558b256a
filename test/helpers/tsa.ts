import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'

/**
 * A throwaway RFC 3161 timestamping authority: a CA and a TSA certificate made with openssl, and a
 * loopback HTTP server that answers each TimeStampReq with `openssl ts -reply`.
 */
export interface LocalTsa {
  url: string
  caFile: string
  requests: number
  close(): Promise<void>
}

export async function startLocalTsa(): Promise<LocalTsa> {
  const dir = await mkdtemp(join(tmpdir(), 'ir-tsa-'))
  const o = (args: string[]) => execa('openssl', args, {cwd: dir})
  await o([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-subj',
    '/CN=ir test TSA CA',
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  await o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tsa.key', '-out', 'tsa.csr', '-subj', '/CN=ir test TSA'])
  await writeFile(
    join(dir, 'ext.cnf'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n',
  )
  await o([
    'x509',
    '-req',
    '-in',
    'tsa.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'tsa.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ])
  await writeFile(join(dir, 'serial'), '01\n')
  await writeFile(
    join(dir, 'tsa.cnf'),
    `[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir = ${dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`,
  )
  let n = 0
  const state = {requests: 0}
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      state.requests++
      const id = ++n
      const q = join(dir, `q${id}.tsq`)
      const r = join(dir, `r${id}.tsr`)
      void (async () => {
        try {
          if (req.headers['content-type'] !== 'application/timestamp-query') throw new Error('wrong content type')
          await writeFile(q, Buffer.concat(chunks))
          await o(['ts', '-reply', '-config', 'tsa.cnf', '-queryfile', q, '-out', r])
          const body = await readFile(r)
          res.writeHead(200, {'content-type': 'application/timestamp-reply', 'content-length': body.length})
          res.end(body)
        } catch (error) {
          res.writeHead(500)
          res.end(String(error))
        }
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/tsr`,
    caFile: join(dir, 'ca.pem'),
    get requests() {
      return state.requests
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
