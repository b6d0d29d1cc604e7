import { setTimeout as sleep } from 'node:timers/promises'
import type { CacheContext } from './context.js'
import { newToken } from './tags.js'

export interface LeaseOptions {
  /** ms a lease is held at most (a crashed holder's lease expires). Default 10,000. */
  ttl?: number
  /** ms a process waits for another process's load before loading itself. Default 2,000. */
  wait?: number
}

const FIRST_POLL_MS = 2
const RECHECK_AFTER_MS = 2
const MAX_POLL_MS = 50

/**
 * Distributed stampede control for a cold key: one process in the fleet holds the lease (SET NX
 * PX / memcached add, with an owner token) and loads; the others poll the store for its result
 * and load themselves only if the wait runs out or the holder gave up. In-process callers are
 * already merged by single-flight, so at most one lease attempt per process and key.
 */
export async function withLease<R>(
  ctx: CacheContext,
  storeKey: string,
  poll: () => Promise<R | undefined>,
  run: () => Promise<R>,
): Promise<R> {
  const lease = ctx.options.lease
  if (lease === false || !ctx.store.capabilities.shared) return run()
  const key = ctx.keys.aux('l', storeKey)
  const owner = newToken()
  const startedAt = performance.now()
  const deadline = startedAt + lease.wait
  let delay = FIRST_POLL_MS
  for (;;) {
    let acquired: boolean
    try {
      acquired = await ctx.store.add(key, owner, lease.ttl)
    } catch (error) {
      ctx.reportError(error, 'lease', storeKey)
      return run()
    }
    if (acquired) {
      try {
        // A previous holder may have stored its value and let go between our miss and our add.
        // That takes a whole load, so only a lease won well after the miss is worth a re-check.
        const late = performance.now() - startedAt > RECHECK_AFTER_MS
        return (late ? await poll().catch(() => undefined) : undefined) ?? (await run())
      } finally {
        ctx.store
          .deleteIfEquals(key, owner)
          .catch((error: unknown) => ctx.reportError(error, 'lease', storeKey))
      }
    }
    // Someone else is loading: wait for their value, re-contending if they let go without one.
    while (performance.now() < deadline) {
      await sleep(delay)
      delay = Math.min(delay * 2, MAX_POLL_MS)
      const found = await poll().catch(() => undefined)
      if (found !== undefined) return found
      const holder = await ctx.store.get(key).catch(() => undefined)
      if (holder === undefined) break
    }
    if (performance.now() >= deadline) return run()
  }
}
