import {describe, expect, it} from 'vitest'

import {AbortError} from '../../src/errors.js'
import {engineFailure, FakeEngine} from '../helpers/fake-engine.js'

describe('FakeEngine throws what the real client throws', () => {
  it('an unknown container is an AbortError with exit NOT_FOUND naming the call, not a raw {statusCode}', async () => {
    const e = new FakeEngine([])
    const err = await e.containers.pause('nope').catch((error: unknown) => error)
    expect(err).toBeInstanceOf(AbortError)
    expect(err).toMatchObject({exitName: 'NOT_FOUND', message: 'pause container nope: No such container: nope'})
    expect((err as {statusCode?: number}).statusCode).toBeUndefined()
  })

  it('engineFailure maps other statuses as the real client does (the HTTP status in the message)', () => {
    const err = engineFailure('stop container x', 'boom', {status: 500})
    expect(err).toBeInstanceOf(AbortError)
    expect(err.message).toBe('stop container x: boom (engine answered HTTP 500)')
    expect(err.exitName).not.toBe('NOT_FOUND')
  })
})
