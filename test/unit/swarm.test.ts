import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {connectHosts, hostSpecFromFlag} from '../../src/docker/hosts.js'
import {swarmTaskOf} from '../../src/docker/labels.js'
import type {SwarmService, SwarmTask} from '../../src/docker/types.js'
import {loadStackModel} from '../../src/services/rebuild/stack.js'
import {selectTargets} from '../../src/services/targets.js'
import {silentLogger} from '../../src/util/logger.js'
import {tempDir} from '../helpers/cli.js'
import {fakeContainer, FakeEngine} from '../helpers/fake-engine.js'

describe('stack files', () => {
  it('reads build sections and images, later files overriding earlier ones, with ${VAR} interpolation', async () => {
    const dir = await tempDir('ir-stackmodel-')
    await mkdir(join(dir, 'web'))
    await writeFile(
      join(dir, 'stack.yml'),
      [
        'services:',
        '  web:',
        '    image: shop/web:${TAG:-dev}',
        '    build: ./web',
        '  db:',
        '    image: postgres:16',
        '',
      ].join('\n'),
    )
    await writeFile(
      join(dir, 'stack.prod.yml'),
      [
        'services:',
        '  web:',
        '    build:',
        '      context: ./web',
        '      dockerfile: Dockerfile.prod',
        '      args: [VERSION=1.4, FROM_ENV]',
        '      target: runtime',
        '  worker:',
        '    image: shop/worker:1',
        '    build: {context: ./worker, args: {A: "1"}}',
        '',
      ].join('\n'),
    )
    const model = await loadStackModel([join(dir, 'stack.yml'), join(dir, 'stack.prod.yml')], {
      TAG: '1.4',
      FROM_ENV: 'from-env',
    })
    expect(model).toEqual([
      {
        name: 'web',
        image: 'shop/web:1.4',
        build: {
          context: join(dir, 'web'),
          dockerfile: join(dir, 'web', 'Dockerfile.prod'),
          args: {VERSION: '1.4', FROM_ENV: 'from-env'},
          target: 'runtime',
        },
      },
      {name: 'db', image: 'postgres:16'},
      {
        name: 'worker',
        image: 'shop/worker:1',
        build: {context: join(dir, 'worker'), dockerfile: join(dir, 'worker', 'Dockerfile'), args: {A: '1'}},
      },
    ])
    await writeFile(join(dir, 'noimage.yml'), 'services:\n  web:\n    build: ./web\n')
    await expect(loadStackModel([join(dir, 'noimage.yml')], {})).rejects.toThrow(/builds an image but names none/)
  })
})

describe('swarm task labels', () => {
  it('reads the service and task (and the slot of a replicated task) from the labels the swarm sets', () => {
    expect(
      swarmTaskOf({
        'com.docker.swarm.service.name': 'shop_web',
        'com.docker.swarm.service.id': 'svc1',
        'com.docker.swarm.task.id': 'task9',
        'com.docker.swarm.task.name': 'shop_web.2.task9',
        'com.docker.swarm.node.id': 'node1',
      }),
    ).toEqual({
      service: {id: 'svc1', name: 'shop_web'},
      task: {id: 'task9', slot: 2, nodeId: 'node1'},
    })
    expect(
      swarmTaskOf({
        'com.docker.swarm.service.name': 'agent',
        'com.docker.swarm.task.id': 't1',
        'com.docker.swarm.task.name': 'agent.node1abc.t1',
      }),
    ).toEqual({service: {id: '', name: 'agent'}, task: {id: 't1'}})
    expect(swarmTaskOf({app: 'web'})).toBeUndefined()
  })
})

describe('selecting a service across node engines', () => {
  const service: SwarmService = {
    id: 'svc1',
    name: 'web',
    version: 7,
    labels: {},
    image: 'shop/web:1.4',
    mode: 'replicated',
    replicas: 4,
    spec: {Name: 'web'},
  }
  const task = (id: string, slot: number, nodeId: string, containerId?: string, state = 'running'): SwarmTask => ({
    id,
    serviceId: 'svc1',
    slot,
    nodeId,
    desiredState: 'running',
    state,
    ...(containerId ? {containerId} : {}),
    image: service.image,
  })

  it('maps each task container to the engine of its node; a task on a node not given is an error naming it', async () => {
    const cid = (n: number): string => String(n).repeat(64)
    const manager = new FakeEngine([fakeContainer({id: cid(1), name: 'web.1.t1'})], 'unix:///run/m.sock')
    manager.info = async () => ({id: 'MGR', name: 'm', serverVersion: '20.10'})
    Object.assign(manager.swarm, {
      state: async () => ({localNodeState: 'active', nodeId: 'n-m', controlAvailable: true}),
      inspectService: async () => service,
      tasks: async (f?: Record<string, string[]>) =>
        f?.service?.[0] === 'svc1'
          ? [
              task('t1', 1, 'n-m', cid(1)),
              task('t2', 2, 'n-w', cid(2)),
              task('t3', 3, 'n-x', cid(3)),
              task('t4', 4, 'n-w', undefined, 'pending'),
            ]
          : [],
      nodes: async () => [
        {id: 'n-m', hostname: 'mgr', role: 'manager', availability: 'active', state: 'ready'},
        {id: 'n-w', hostname: 'worker-1', role: 'worker', availability: 'active', state: 'ready'},
        {id: 'n-x', hostname: 'worker-2', role: 'worker', availability: 'active', state: 'ready'},
      ],
    })
    const worker = new FakeEngine([fakeContainer({id: cid(2), name: 'web.2.t2'})], 'unix:///run/w.sock')
    worker.info = async () => ({id: 'WRK', name: 'w', serverVersion: '20.10'})
    Object.assign(worker.swarm, {
      state: async () => ({localNodeState: 'active', nodeId: 'n-w', controlAvailable: false}),
    })
    const engines: Record<string, FakeEngine> = {'unix:///run/m.sock': manager, 'unix:///run/w.sock': worker}
    const hosts = await connectHosts(
      Object.keys(engines).map((h) => hostSpecFromFlag(h, {})),
      {log: silentLogger, makeEngine: (s) => engines[s.name]!},
    )

    const sel = await selectTargets(hosts, {refs: [], services: ['web']})
    expect(sel.perHost.map((p) => [p.host.name, p.targets.map((x) => [x.id, x.service?.name, x.task?.id])])).toEqual([
      ['unix:///run/m.sock', [[cid(1), 'web', 't1']]],
      ['unix:///run/w.sock', [[cid(2), 'web', 't2']]],
    ])
    expect(sel.failed).toHaveLength(1)
    expect(sel.failed[0]!.error.message).toMatch(
      /Task web\.3 of service web runs on node worker-2 \(n-x\), which is not among the reachable hosts/,
    )
    expect(sel.services[0]!.warnings).toEqual([
      expect.stringMatching(/task web\.4 .* has no container yet \(pending\)/),
    ])
    expect(sel.services[0]!.tasks.map((x) => [x.id, x.host ?? null, x.node])).toEqual([
      ['t1', 'unix:///run/m.sock', 'mgr'],
      ['t2', 'unix:///run/w.sock', 'worker-1'],
      ['t3', null, 'worker-2'],
      ['t4', 'unix:///run/w.sock', 'worker-1'],
    ])

    const noManager = await selectTargets({...hosts, hosts: hosts.hosts.slice(1)}, {refs: [], services: ['web']})
    expect(noManager.failed[0]!.error.message).toMatch(/none of the hosts is a swarm manager/)
  })
})
