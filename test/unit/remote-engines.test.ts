import {createHash} from 'node:crypto'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {defaultEndpoint} from '../../src/docker/engine-config.js'
import {defaultHostSpec} from '../../src/docker/hosts.js'
import {classifySshFailure, parseSshUrl} from '../../src/docker/ssh.js'
import {tempDir} from '../helpers/cli.js'

async function context(config: string, name: string, host: string, tls?: Record<string, string>): Promise<void> {
  const digest = createHash('sha256').update(name).digest('hex')
  await mkdir(join(config, 'contexts', 'meta', digest), {recursive: true})
  await writeFile(
    join(config, 'contexts', 'meta', digest, 'meta.json'),
    JSON.stringify({
      Name: name,
      Metadata: {Description: name},
      Endpoints: {docker: {Host: host, SkipTLSVerify: false}},
    }),
  )
  if (tls) {
    const dir = join(config, 'contexts', 'tls', digest, 'docker')
    await mkdir(dir, {recursive: true})
    for (const [f, body] of Object.entries(tls)) await writeFile(join(dir, f), body)
  }
}

describe('ssh:// addresses', () => {
  it('are split as the docker CLI splits them: -l user -p port -- host', () => {
    expect(parseSshUrl('ssh://irlocal', '--host')).toEqual({host: 'irlocal', display: 'ssh://irlocal'})
    expect(parseSshUrl('ssh://root@127.0.0.1:2222', '--host')).toEqual({
      host: '127.0.0.1',
      user: 'root',
      port: 2222,
      display: 'ssh://root@127.0.0.1:2222',
    })
    expect(parseSshUrl('ssh://ops@[::1]:22', '--host')).toMatchObject({host: '::1', user: 'ops'})
  })

  it('refuse what the docker CLI refuses: a password, a path, an option as a host', () => {
    expect(() => parseSshUrl('ssh://u:secret@h', '--host')).toThrow(/password in an ssh:\/\/ address is not supported/)
    expect(() => parseSshUrl('ssh://h/var/run/docker.sock', '--host')).toThrow(/takes no path/)
    expect(() => parseSshUrl('ssh://-oProxyCommand=x', '--host')).toThrow()
  })
})

describe('ssh failures: one line naming the host and why', () => {
  const dest = parseSshUrl('ssh://irlocal', '--host')
  // Messages as OpenSSH 9 prints them; `ssh -G` resolves the alias (here: no config, so the name itself).
  const cases: [string, number, RegExp][] = [
    [
      '@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@@@@@\nHost key for [127.0.0.1]:2222 has changed and you have requested strict checking.\nHost key verification failed.\n',
      255,
      /^ssh:\/\/irlocal: host key of .* has CHANGED .*refused$/,
    ],
    [
      'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\n',
      255,
      /^ssh:\/\/irlocal: host key of .* is unknown \(not in known_hosts\): refused$/,
    ],
    [
      'root@127.0.0.1: Permission denied (publickey).\n',
      255,
      /^ssh:\/\/irlocal: ssh authentication failed \(server accepts: publickey\)$/,
    ],
    [
      'ssh: connect to host 10.9.9.9 port 22: Connection timed out\n',
      255,
      /^ssh:\/\/irlocal: ssh connection timed out$/,
    ],
    ['ssh: connect to host 127.0.0.1 port 2223: Connection refused\n', 255, /connection refused/],
    ['ssh: Could not resolve hostname nohost: Name or service not known\n', 255, /host name not found/],
    ['bash: line 1: docker: command not found\n', 127, /no docker CLI on the remote host/],
    [
      'failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: permission denied\n',
      1,
      /^ssh:\/\/irlocal: the remote docker CLI cannot reach its engine: dial unix \/var\/run\/docker.sock: connect: permission denied$/,
    ],
  ]
  it.each(cases)('%j', async (stderr, code, re) => {
    const e = await classifySshFailure(dest, stderr, code, 'ssh', {PATH: process.env.PATH ?? ''})
    expect(e.message).toMatch(re)
    expect(e.message).not.toContain('\n')
    expect(e.exitName).toBe('ENGINE_UNREACHABLE')
    expect(e.hint).toBeTruthy()
  })
})

describe('the default engine, chosen as the docker CLI chooses it', () => {
  it('DOCKER_HOST, then DOCKER_CONTEXT, then currentContext, then the default socket', async () => {
    const config = await tempDir('ir-dockercfg-')
    await context(config, 'remote', 'ssh://irlocal')
    await context(config, 'current', 'tcp://10.1.0.2:2376', {'ca.pem': 'CA', 'cert.pem': 'CERT', 'key.pem': 'KEY'})
    await writeFile(join(config, 'config.json'), JSON.stringify({auths: {}, currentContext: 'current'}))
    const env = {DOCKER_CONFIG: config}

    expect(
      (await defaultEndpoint({...env, DOCKER_HOST: 'unix:///run/x.sock', DOCKER_CONTEXT: 'remote'})).endpoint.options,
    ).toEqual({socketPath: '/run/x.sock'})
    const viaEnv = await defaultEndpoint({...env, DOCKER_CONTEXT: 'remote'})
    expect(viaEnv).toMatchObject({context: 'remote', endpoint: {display: 'ssh://irlocal', ssh: {host: 'irlocal'}}})
    const current = await defaultEndpoint(env)
    expect(current.context).toBe('current')
    expect(current.endpoint.options).toMatchObject({protocol: 'https', host: '10.1.0.2', port: 2376})
    expect(String(current.endpoint.options.ca)).toBe('CA')
    expect((await defaultEndpoint({...env, DOCKER_CONTEXT: 'default'})).endpoint.options).toEqual({
      socketPath: '/var/run/docker.sock',
    })
    await expect(defaultEndpoint({...env, DOCKER_CONTEXT: 'gone'})).rejects.toThrow(
      /context "gone" not found \(named by DOCKER_CONTEXT/,
    )
    // The docker CLI reaches the same engine from the same environment: no -H / --context added.
    expect((await defaultHostSpec({...env, DOCKER_CONTEXT: 'remote'})).cli.args).toEqual([])
  })

  it('without any of them: the default socket, and HOME/.docker is where the store is looked for', async () => {
    const home = await tempDir('ir-home-')
    expect((await defaultEndpoint({HOME: home})).endpoint.display).toBe('unix:///var/run/docker.sock')
    await mkdir(join(home, '.docker'))
    await writeFile(join(home, '.docker', 'config.json'), '{"currentContext": "nowhere"}')
    await expect(defaultEndpoint({HOME: home})).rejects.toThrow(
      /context "nowhere" not found \(named by currentContext in/,
    )
  })
})
