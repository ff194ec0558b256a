import {createHash} from 'node:crypto'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {
  connectHosts,
  hostSpecFromContext,
  hostSpecFromFlag,
  hostSpecsFromFlags,
  readInventory,
} from '../../src/docker/hosts.js'
import {findHost} from '../../src/services/targets.js'
import {silentLogger} from '../../src/util/logger.js'
import {tempDir} from '../helpers/cli.js'
import {FakeEngine} from '../helpers/fake-engine.js'

const PEM = (what: string): string => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`

describe('host specs', () => {
  it('takes --host addresses as the docker CLI does, named by the address', () => {
    const unix = hostSpecFromFlag('unix:///run/ir/docker-1.sock', {})
    expect(unix).toMatchObject({
      name: 'unix:///run/ir/docker-1.sock',
      source: {kind: 'host', value: 'unix:///run/ir/docker-1.sock'},
      cli: {args: ['-H', 'unix:///run/ir/docker-1.sock']},
    })
    expect(unix.endpoint.options).toEqual({socketPath: '/run/ir/docker-1.sock'})
    // ssh:// goes through the system ssh (its config, keys, agent and known_hosts), never through a socket option.
    expect(hostSpecFromFlag('ssh://ops@node-1', {SSH_AUTH_SOCK: '/tmp/agent.sock'}).endpoint).toEqual({
      display: 'ssh://ops@node-1',
      options: {},
      ssh: {host: 'node-1', user: 'ops', display: 'ssh://ops@node-1'},
    })
    expect(hostSpecFromFlag('tcp://10.0.0.5:2375', {}).endpoint.options).toEqual({
      host: '10.0.0.5',
      port: 2375,
      protocol: 'http',
    })
    expect(() => hostSpecFromFlag('ftp://x', {})).toThrow(/--host scheme/)
  })

  it('uses DOCKER_CERT_PATH for tcp:// --host with TLS', async () => {
    const certs = await tempDir('ir-certs-')
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) await writeFile(join(certs, f), PEM(f))
    const spec = hostSpecFromFlag('tcp://10.0.0.5:2376', {DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs})
    expect(spec.endpoint.options).toMatchObject({protocol: 'https', host: '10.0.0.5', port: 2376})
    expect(String(spec.endpoint.options.ca)).toContain('ca.pem')
  })

  it('reads a context from the docker CLI store, with its TLS material', async () => {
    const config = await tempDir('ir-dockercfg-')
    const digest = createHash('sha256').update('prod-manager').digest('hex')
    await mkdir(join(config, 'contexts', 'meta', digest), {recursive: true})
    await writeFile(
      join(config, 'contexts', 'meta', digest, 'meta.json'),
      JSON.stringify({
        Name: 'prod-manager',
        Metadata: {Description: 'prod'},
        Endpoints: {docker: {Host: 'tcp://10.1.0.2', SkipTLSVerify: false}},
      }),
    )
    const tls = join(config, 'contexts', 'tls', digest, 'docker')
    await mkdir(tls, {recursive: true})
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) await writeFile(join(tls, f), PEM(`ctx ${f}`))
    const spec = await hostSpecFromContext('prod-manager', {DOCKER_CONFIG: config})
    expect(spec).toMatchObject({
      name: 'prod-manager',
      source: {kind: 'context', name: 'prod-manager'},
      cli: {args: ['--context', 'prod-manager']},
      labels: {Description: 'prod'},
    })
    // No port in the address and TLS material present: the TLS port, as the docker CLI uses.
    expect(spec.endpoint.options).toMatchObject({protocol: 'https', host: '10.1.0.2', port: 2376})
    expect(String(spec.endpoint.options.key)).toContain('ctx key.pem')
    await expect(hostSpecFromContext('missing', {DOCKER_CONFIG: config})).rejects.toThrow(/context "missing" not found/)
  })

  it('reads an inventory with per-host TLS paths relative to the file, and refuses duplicates and unknown keys', async () => {
    const dir = await tempDir('ir-inv-')
    await mkdir(join(dir, 'certs'))
    for (const f of ['ca.pem', 'web-1-cert.pem', 'web-1-key.pem']) await writeFile(join(dir, 'certs', f), PEM(f))
    await writeFile(
      join(dir, 'hosts.yml'),
      [
        '- name: web-1',
        '  endpoint: tcp://10.0.0.5',
        '  tls: {ca: certs/ca.pem, cert: certs/web-1-cert.pem, key: certs/web-1-key.pem}',
        '  labels: {role: web, rack: 3}',
        '- name: local',
        '  endpoint: unix:///var/run/docker.sock',
        '',
      ].join('\n'),
    )
    const specs = await readInventory(join(dir, 'hosts.yml'), {})
    expect(specs.map((s) => s.name)).toEqual(['web-1', 'local'])
    expect(specs[0]!.endpoint.options).toMatchObject({protocol: 'https', host: '10.0.0.5', port: 2376})
    expect(String(specs[0]!.endpoint.options.cert)).toContain('web-1-cert.pem')
    expect(specs[0]!.labels).toEqual({role: 'web', rack: '3'})
    expect(specs[0]!.cli.args).toEqual([
      '-H',
      'tcp://10.0.0.5',
      '--tlsverify',
      '--tlscacert',
      join(dir, 'certs/ca.pem'),
      '--tlscert',
      join(dir, 'certs/web-1-cert.pem'),
      '--tlskey',
      join(dir, 'certs/web-1-key.pem'),
    ])
    expect(specs[0]!.source).toEqual({kind: 'inventory', file: join(dir, 'hosts.yml'), name: 'web-1'})

    await writeFile(join(dir, 'bad.yml'), '- {name: a, endpoint: unix:///a.sock, port: 3}\n')
    await expect(readInventory(join(dir, 'bad.yml'), {})).rejects.toThrow(/invalid/)
    await writeFile(
      join(dir, 'dup.yml'),
      '- {name: a, endpoint: unix:///a.sock}\n- {name: a, endpoint: unix:///b.sock}\n',
    )
    await expect(hostSpecsFromFlags({hosts: join(dir, 'dup.yml')}, {})).rejects.toThrow(/Two hosts are named "a"/)
    await writeFile(
      join(dir, 'nocert.yml'),
      '- {name: a, endpoint: tcp://10.0.0.9:2376, tls: {cert: certs/web-1-cert.pem, key: certs/web-1-key.pem}}\n',
    )
    await expect(readInventory(join(dir, 'nocert.yml'), {})).rejects.toThrow(/give tls.ca/)
  })

  it('without host flags is the one engine of DOCKER_HOST', async () => {
    const specs = await hostSpecsFromFlags({}, {DOCKER_HOST: 'unix:///tmp/x.sock'})
    expect(specs).toEqual([expect.objectContaining({name: 'unix:///tmp/x.sock', source: {kind: 'default'}})])
  })
})

describe('connecting to many hosts', () => {
  const engines = new Map<string, FakeEngine>()
  const make = (id: string, down = false): FakeEngine => {
    const e = new FakeEngine([])
    e.info = async () => ({id, name: 'vm', serverVersion: '20.10'})
    if (down) e.ping = async () => Promise.reject(Object.assign(new Error('connect ENOENT'), {code: 'ENOENT'}))
    return e
  }

  it('connects concurrently, reports unreachable hosts, and gives each host an evidence folder', async () => {
    engines.set('unix:///run/a.sock', make('AAAA:1111'))
    engines.set('unix:///run/b.sock', make('BBBB:2222'))
    engines.set('unix:///run/c.sock', make('CCCC:3333', true))
    const specs = [...engines.keys()].map((k) => hostSpecFromFlag(k, {}))
    const set = await connectHosts(specs, {log: silentLogger, makeEngine: (s) => engines.get(s.name)!})
    expect(set.multi).toBe(true)
    expect(set.hosts.map((h) => [h.name, h.engineId, h.dir])).toEqual([
      ['unix:///run/a.sock', 'AAAA:1111', 'unix_run_a.sock'],
      ['unix:///run/b.sock', 'BBBB:2222', 'unix_run_b.sock'],
    ])
    expect(set.unreachable).toEqual([
      expect.objectContaining({
        name: 'unix:///run/c.sock',
        error: expect.objectContaining({code: 'ENGINE_UNREACHABLE'}),
      }),
    ])
  })

  it('fails naming every host when none answers', async () => {
    const specs = ['unix:///run/x.sock', 'unix:///run/y.sock'].map((k) => hostSpecFromFlag(k, {}))
    await expect(connectHosts(specs, {log: silentLogger, makeEngine: () => make('X', true)})).rejects.toThrow(
      /No Docker engine answered: unix:\/\/\/run\/x\.sock .*unix:\/\/\/run\/y\.sock/,
    )
  })

  it('finds a host by name, endpoint, engine id, or a unique engine hostname', () => {
    const hosts = [
      {name: 'web-1', endpoint: 'tcp://10.0.0.5:2376 (TLS)', engineId: 'AAAA', engineName: 'node-a'},
      {name: 'web-2', endpoint: 'tcp://10.0.0.6:2376 (TLS)', engineId: 'BBBB', engineName: 'node-b'},
      {name: 'web-3', endpoint: 'tcp://10.0.0.7:2376 (TLS)', engineId: 'CCCC', engineName: 'node-b'},
    ]
    expect(findHost(hosts, 'web-2')).toEqual([1])
    expect(findHost(hosts, 'CCCC')).toEqual([2])
    expect(findHost(hosts, 'node-a')).toEqual([0])
    expect(findHost(hosts, 'node-b')).toEqual([1, 2])
    expect(findHost(hosts, 'nope')).toEqual([])
  })
})
