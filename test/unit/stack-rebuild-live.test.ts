import {rm} from 'node:fs/promises'
import {Readable} from 'node:stream'

import {describe, expect, it} from 'vitest'

import {CaseStore} from '../../src/case/case-store.js'
import type {ConnectedHost, HostSet} from '../../src/docker/hosts.js'
import {type ContainmentRecord, saveContainmentRecord} from '../../src/services/containment-state.js'
import {isolatedTasks} from '../../src/services/rebuild/stack.js'
import {tempDir} from '../helpers/cli.js'
import {FakeEngine, fakeContainer} from '../helpers/fake-engine.js'

const PAUSED = 'a'.repeat(64)
const STOPPED = 'b'.repeat(64)

function record(id: string, name: string, mode: ContainmentRecord['mode']): ContainmentRecord {
  return {
    containerId: id,
    name,
    image: 'shop/web:1',
    status: 'isolated',
    mode,
    stateBefore: 'running',
    isolatedAt: '2026-12-03T10:00:00.000Z',
    endpoints: [],
    networkCut: true,
    dockerSocket: false,
    froze: mode === 'pause',
    host: 'manager',
    engineId: 'FAKE',
    service: {id: 'svc1', name: 'shop_web'},
  }
}

describe('a swarm stack rebuild needs the live state of isolated tasks, as a compose rebuild does', () => {
  it('is missing for a paused task until a live capture is in the case; a stopped task needs none', async () => {
    const engine = new FakeEngine([
      fakeContainer({id: PAUSED, name: 'shop_web.1.x', state: 'paused'}),
      fakeContainer({id: STOPPED, name: 'shop_web.2.y', state: 'exited'}),
    ])
    const hosts: HostSet = {
      hosts: [{name: 'manager', engineId: 'FAKE', engine} as unknown as ConnectedHost],
      unreachable: [],
      multi: false,
    }
    const dir = await tempDir('ir-stack-')
    const {kase} = await new CaseStore(dir).open({id: 'CASE-STACK'})
    await saveContainmentRecord(kase, record(PAUSED, 'shop_web.1.x', 'pause'))
    await saveContainmentRecord(kase, record(STOPPED, 'shop_web.2.y', 'stop'))
    for (const id of [PAUSED, STOPPED])
      await kase.addEvidence({
        name: `${id.slice(0, 4)}/image.tar`,
        type: 'image-tar',
        description: 'saved image',
        source: {containerId: id},
        content: Readable.from([Buffer.from('tar bytes')]),
      })
    const before = await isolatedTasks(kase, hosts, 'shop', ['shop_web'])
    const paused = before.find((c) => c.containerId === PAUSED)!
    expect(paused).toMatchObject({liveState: 'missing', evidence: 'missing', service: 'shop_web'})
    expect(before.find((c) => c.containerId === STOPPED)).toMatchObject({liveState: 'not-needed', evidence: 'verified'})

    await kase.addJsonEvidence({
      name: `${PAUSED.slice(0, 4)}/live-1/processes.json`,
      type: 'live-processes',
      description: 'live process table',
      source: {containerId: PAUSED},
      data: {processes: []},
    })
    const after = await isolatedTasks(kase, hosts, 'shop', ['shop_web'])
    expect(after.find((c) => c.containerId === PAUSED)).toMatchObject({liveState: 'captured', evidence: 'verified'})

    // The host does not answer: the record decides (a pause keeps processes, a stop does not).
    const gone: HostSet = {hosts: [], unreachable: [], multi: false}
    const fallback = await isolatedTasks(kase, gone, 'shop', ['shop_web'])
    expect(fallback.find((c) => c.containerId === STOPPED)?.liveState).toBe('not-needed')
    expect(fallback.find((c) => c.containerId === PAUSED)?.liveState).toBe('captured')
    // A container of another stack is not this rebuild's.
    expect(await isolatedTasks(kase, hosts, 'other', ['other_api'])).toEqual([])
    await rm(dir, {recursive: true, force: true})
  })
})
