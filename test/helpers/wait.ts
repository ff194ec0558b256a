/**
 * Poll for the real condition instead of sleeping a fixed time: `fn` runs every `interval` ms until it returns
 * something truthy (returned), or `timeout` ms pass (an Error naming `what`, with the last value or error seen).
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: {timeout?: number; interval?: number; what?: string} = {},
): Promise<NonNullable<T>> {
  const timeout = opts.timeout ?? 30_000
  const interval = opts.interval ?? 100
  const deadline = Date.now() + timeout
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
      last = v
    } catch (error) {
      last = error
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last)
      throw new Error(`timed out after ${timeout} ms waiting for ${opts.what ?? 'a condition'} (last: ${seen})`)
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))))
  }
}

/** Wait until the wall clock is in a later second than `second` (Unix seconds), e.g. for 1 s event resolution. */
export async function nextSecond(second = Math.floor(Date.now() / 1000)): Promise<number> {
  return waitFor(() => (Math.floor(Date.now() / 1000) > second ? Math.floor(Date.now() / 1000) : 0), {
    timeout: 2_000,
    interval: 20,
    what: `the second after ${second}`,
  })
}
