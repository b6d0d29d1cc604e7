import type { InvalidationBus } from '../tiers/bus.js'

/**
 * A store moves strings and nothing else: the core owns keys, serialization, tags and TTL
 * policy. Every method may reject; the cache treats any rejection as a store fault and falls
 * back to the database, so a store never needs to swallow its own errors.
 */
export interface CacheStore {
  /** Short name used in events and errors, e.g. "memory", "redis", "memcached". */
  readonly name: string
  readonly capabilities: StoreCapabilities

  get(key: string): Promise<string | undefined>
  /** One round trip where the backend allows it; results are in the order of `keys`. */
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>
  /** `ttlMs` undefined means no expiry. Throws `ValueTooLargeError` for values over the limit. */
  set(key: string, value: string, ttlMs?: number): Promise<void>
  setMany(entries: readonly StoreWrite[]): Promise<void>
  /** Writes only if the key is absent; resolves true if this call created it. */
  add(key: string, value: string, ttlMs?: number): Promise<boolean>
  /** Atomically replaces `expected` by `value`; resolves false if the current value differs. */
  compareAndSet(key: string, expected: string, value: string, ttlMs?: number): Promise<boolean>
  delete(key: string): Promise<void>
  /** Deletes only if the current value equals `value` (lease release by its owner). */
  deleteIfEquals(key: string, value: string): Promise<boolean>
  close(): Promise<void>
  /** A bus over the same backend (Redis pub/sub), used for L1 coherence when the cache has L1. */
  createBus?(channel: string): InvalidationBus
}

export interface StoreWrite {
  key: string
  value: string
  ttlMs?: number
}

export interface StoreCapabilities {
  /** Other processes see the same data (Redis, Memcached), so leases and buses make sense. */
  shared: boolean
  /**
   * A `getMany` sees the writes of a concurrent `setMany` as a prefix, in order (one Redis node:
   * MGET is atomic and a pipeline executes in order; the memory store is synchronous). Without
   * it, ordering-sensitive writes and reads take two sequential round trips (see tags.ts).
   */
  orderedBatches?: boolean
  /** Largest value the backend accepts, in bytes; larger writes are skipped with an event. */
  maxValueBytes?: number
}
