import {describe, expect, it} from 'vitest'

import {nextSecond, waitFor} from '../helpers/wait.js'

describe('waitFor', () => {
  it('returns the first truthy value, polling until then', async () => {
    let calls = 0
    const v = await waitFor(() => (++calls >= 3 ? `after ${calls}` : undefined), {interval: 5, timeout: 1000})
    expect(v).toBe('after 3')
    expect(calls).toBe(3)
  })

  it('keeps polling through thrown errors, and times out naming what it waited for and the last error', async () => {
    const t0 = Date.now()
    await expect(
      waitFor(
        () => {
          throw new Error('not yet')
        },
        {interval: 10, timeout: 120, what: 'the ready file'},
      ),
    ).rejects.toThrow(/timed out after 120 ms waiting for the ready file \(last: not yet\)/)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110)
  })

  it('nextSecond resolves in a later wall-clock second', async () => {
    const s = Math.floor(Date.now() / 1000)
    expect(await nextSecond(s)).toBeGreaterThan(s)
    expect(Math.floor(Date.now() / 1000)).toBeGreaterThan(s)
  })
})
