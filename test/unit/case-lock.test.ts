import {mkdir, stat, utimes} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {CaseLock} from '../../src/case/lock.js'
import {IrError} from '../../src/errors.js'
import {tempDir} from '../helpers/cli.js'

const gone = async (p: string): Promise<boolean> =>
  stat(p).then(
    () => false,
    () => true,
  )

describe('CaseLock (proper-lockfile)', () => {
  it('serialises runs in one process and is re-entrant within one call chain', async () => {
    const dir = await tempDir('ir-lock-')
    const lock = new CaseLock(join(dir, '.ir-lock'))
    const order: string[] = []
    const slow = lock.run(async () => {
      order.push('a-start')
      // Nested: would deadlock without re-entrancy.
      await lock.run(async () => order.push('a-nested'))
      await new Promise((r) => setTimeout(r, 50))
      order.push('a-end')
    })
    const fast = lock.run(async () => order.push('b'))
    await Promise.all([slow, fast])
    expect(order).toEqual(['a-start', 'a-nested', 'a-end', 'b'])
    expect(await gone(join(dir, '.ir-lock'))).toBe(true)
  })

  it('holds two locks of one folder at once (per-container locks beside each other)', async () => {
    const dir = await tempDir('ir-lock-')
    const a = new CaseLock(join(dir, 'containment-a'))
    const b = new CaseLock(join(dir, 'containment-b'))
    let both = false
    await a.run(async () => {
      await b.run(async () => {
        both = !(await gone(join(dir, 'containment-a'))) && !(await gone(join(dir, 'containment-b')))
      })
    })
    expect(both).toBe(true)
    expect(await gone(join(dir, 'containment-a'))).toBe(true)
    expect(await gone(join(dir, 'containment-b'))).toBe(true)
  })

  it('releases the lock when the work fails', async () => {
    const dir = await tempDir('ir-lock-')
    const lock = new CaseLock(join(dir, '.ir-lock'))
    await expect(lock.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await gone(join(dir, '.ir-lock'))).toBe(true)
    await lock.run(async () => undefined)
  })

  it('waits for a live holder, then says the case is busy (exit 5)', async () => {
    const dir = await tempDir('ir-lock-')
    await mkdir(join(dir, '.ir-lock'))
    const lock = new CaseLock(join(dir, '.ir-lock'), {waitMs: 300})
    const err = await lock.run(async () => 'never').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IrError)
    expect((err as IrError).exitCode).toBe(5)
    expect((err as IrError).message).toMatch(/busy/)
    // Not ours: left in place.
    expect(await gone(join(dir, '.ir-lock'))).toBe(false)
  })

  it("takes over a killed holder's stale lock", async () => {
    const dir = await tempDir('ir-lock-')
    await mkdir(join(dir, '.ir-lock'))
    const old = new Date(Date.now() - 60_000)
    await utimes(join(dir, '.ir-lock'), old, old)
    const lock = new CaseLock(join(dir, '.ir-lock'), {waitMs: 2_000})
    expect(await lock.run(async () => 'got it')).toBe('got it')
    expect(await gone(join(dir, '.ir-lock'))).toBe(true)
  })

  it('leaves nothing behind when the lock cannot be made (a missing or read-only parent)', async () => {
    const dir = await tempDir('ir-lock-')
    const lock = new CaseLock(join(dir, 'no-such-case', '.ir-lock'), {waitMs: 300})
    const err = (await lock.run(async () => undefined).catch((e: unknown) => e)) as NodeJS.ErrnoException
    expect(err.code).toBe('ENOENT')
    expect(await gone(join(dir, 'no-such-case'))).toBe(true)
  })
})
