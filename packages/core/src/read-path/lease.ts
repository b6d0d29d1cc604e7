import { setTimeout as sleep } from 'node:timers/promises'
import type { CacheContext } from '../cache-context.js'
import type { Budget } from '../store/budget.js'
import type { LeaseRef } from '../store/types.js'

const FIRST_POLL_MS = 2
const MAX_POLL_MS = 50

/**
 * Distributed stampede control for a cold key: one process in the fleet holds the lease (SET NX
 * PX / memcached add) and loads; the others wait for its value and load themselves only if the
 * wait runs out or the holder let go without one. The owner is the cache instance (its bus
 * origin), not the call: callers in one process are merged by single-flight per snapshot, and a
 * second flight of the same process (another snapshot) may load alongside its first one instead of
 * waiting on itself. Leases only save work; correctness comes from the version snapshots.
 *
 * The lease is taken in the same round trip as the lookup where the store can judge the entry
 * (Redis); elsewhere `takeLease` does it in a round trip of its own.
 */
export function leaseOf(ctx: CacheContext, storeKey: string): LeaseRef | undefined {
  if (ctx.options.lease === false || !ctx.store.capabilities.shared) return undefined
  return { key: ctx.keys.lease(storeKey), owner: ctx.origin }
}

export function leaseTtl(ctx: CacheContext): number {
  const lease = ctx.options.lease
  return lease === false ? 0 : lease.ttl
}

export function leaseWait(ctx: CacheContext): number {
  const lease = ctx.options.lease
  return lease === false ? 0 : lease.wait
}

/** true if this cache holds the lease now. Store faults reject. */
export async function takeLease(
  ctx: CacheContext,
  budget: Budget | undefined,
  lease: LeaseRef,
): Promise<boolean> {
  if (await ctx.store.add(lease.key, lease.owner, leaseTtl(ctx), budget)) return true
  return (await ctx.store.get(lease.key, budget)) === lease.owner
}

/**
 * Fire and forget: a lease that cannot be released expires on its own. Nobody waits for it, so it
 * draws from no operation's budget: a reader that spent its own still lets the lease go.
 */
export function releaseLease(ctx: CacheContext, lease: LeaseRef): void {
  ctx.store
    .deleteIfEquals(lease.key, lease.owner)
    .catch((error: unknown) => ctx.reportError(error, 'lease', lease.key))
}

/** ms a waiter sleeps on the store's wake signal before it looks anyway (a lost wake). */
const WAKE_FALLBACK_MS = 50

/**
 * Between looks at a key another process is loading: sleep until the holder's fill is announced
 * where the store can listen (Redis pub/sub, see stores/redis-wake.ts), else poll with backoff.
 */
export class LeaseWait {
  private delay = FIRST_POLL_MS
  readonly deadline: number

  constructor(
    private readonly ctx: CacheContext,
    private readonly storeKey: string,
    /** performance.now() when the lookup that found the lease held was sent. */
    private lookedAt: number,
  ) {
    this.deadline = performance.now() + leaseWait(ctx)
  }

  get expired(): boolean {
    return performance.now() >= this.deadline
  }

  /** Resolves with the holder's entry as stored when its wake carried it, else undefined. */
  async next(): Promise<string | undefined> {
    const left = Math.max(0, this.deadline - performance.now())
    const since = this.lookedAt
    this.lookedAt = performance.now()
    const woken = this.ctx.store.waitForFill?.(this.storeKey, Math.min(WAKE_FALLBACK_MS, left), since)
    if (woken !== undefined) return woken
    await sleep(Math.min(this.delay, left))
    this.delay = Math.min(this.delay * 2, MAX_POLL_MS)
    return undefined
  }
}
