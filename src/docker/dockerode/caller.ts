import type Docker from 'dockerode'

import type {Logger} from '../../util/logger.js'
import {dockerMessage, dockerStatus, engineError} from '../errors.js'
import type {IdempotentOutcome} from '../types.js'

/** Runs one engine call: logs before and after, maps failures to IrErrors naming the call. */
export class Caller {
  constructor(
    readonly docker: Docker,
    readonly endpoint: string,
    private readonly log: Logger,
  ) {}

  async call<T>(doing: string, fn: () => Promise<T>, idempotent?: (err: unknown) => T | undefined): Promise<T> {
    this.log.debug({doing}, 'engine call')
    try {
      const out = await fn()
      this.log.debug({doing}, 'engine call done')
      return out
    } catch (error) {
      const tolerated = idempotent?.(error)
      if (tolerated !== undefined) {
        this.log.debug(
          {doing, status: dockerStatus(error), message: dockerMessage(error)},
          'engine call: already in that state',
        )
        return tolerated
      }
      this.log.debug({doing, err: dockerMessage(error)}, 'engine call failed')
      throw engineError(error, this.endpoint, doing)
    }
  }
}

export function already(statusCodes: number[], pattern?: RegExp): (err: unknown) => IdempotentOutcome | undefined {
  return (err) => {
    const status = dockerStatus(err)
    if (status === undefined) return undefined
    if (statusCodes.includes(status) && (!pattern || pattern.test(dockerMessage(err)))) return 'already'
    return undefined
  }
}

/** 503 / 406: this engine is not a swarm manager (or not in a swarm). */
export const notManager = (err: unknown): [] | undefined =>
  dockerStatus(err) === 503 || dockerStatus(err) === 406 ? [] : undefined
