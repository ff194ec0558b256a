import pino, {type Logger} from 'pino'

export type {Logger} from 'pino'

/**
 * The diagnostic logger (stderr). Silent unless --debug or IR_DEBUG is set. It is not the
 * case's audit log (src/case/audit-log.ts) and never writes to stdout, so --json stays clean.
 */
export function createDebugLogger(debug: boolean): Logger {
  if (!debug) return pino({level: 'silent'})
  return pino(
    {level: 'debug', base: undefined, timestamp: pino.stdTimeFunctions.isoTime},
    pino.destination({fd: 2, sync: true}),
  )
}

export const silentLogger: Logger = pino({level: 'silent'})
