import type { Cache } from '../cache.js'
import { InvalidOptionError } from '../errors.js'
import { integerOption, knownKeys, MAX_TIMER_MS, MAX_TTL_MS, optionsObject } from '../validate.js'
import { memoryQueue } from './memory-queue.js'
import type { WriteBehindQueue } from './queue.js'

/** One coalesced write handed to `flush`: the last value written to `key`. */
export interface WriteBehindItem<T> {
  key: string
  value: T
  /**
   * Epoch ms of the `write()` call. Writes reach `flush` in queue order per key, but a database
   * that must refuse an older value under every failure mode can compare this column-side
   * (`… WHERE written_at < $writtenAt`).
   */
  writtenAt: number
}

export interface RetryOptions {
  /** Flush attempts per batch before it is dead-lettered. Default 5. */
  attempts?: number
  /** Delay before the second attempt; doubles after each failure. Default 200 ms. */
  baseDelayMs?: number
  /** Upper bound of the delay. Default 10,000 ms. */
  maxDelayMs?: number
}

export interface WriteBehindOptions<T> {
  /** Holds each written value (readable with `cache.get(key)`) until it is in the database. */
  cache: Cache
  /**
   * The database write for one batch: at most one item per key, carrying the last value
   * written. Throwing fails the whole batch, which is retried; make it one transaction.
   */
  flush: (batch: WriteBehindItem<T>[]) => Promise<void> | void
  /**
   * Where acknowledged writes wait. Default `memoryQueue()` (in-process, lost on a crash);
   * required when the cache's store is shared, e.g. `redisStreamQueue({ client, name })`.
   */
  queue?: WriteBehindQueue
  /** How long writes accumulate (and coalesce) before a flush. Default 1,000 ms. */
  flushIntervalMs?: number
  /** Most items per `flush` call. Default 100. */
  maxBatch?: number
  retry?: RetryOptions
  /** Tags whose cached reads depend on `key`'s row; invalidated once the write is in the database. */
  tags?: (key: string) => readonly string[]
  /** How long a written value stays readable in the cache, in ms. Default: the cache's ttl. */
  ttl?: number
}

export interface ResolvedWriteBehindOptions<T> {
  cache: Cache
  flush: (batch: WriteBehindItem<T>[]) => Promise<void> | void
  queue: WriteBehindQueue
  flushIntervalMs: number
  maxBatch: number
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
  tags: (key: string) => readonly string[]
  ttl: number | undefined
}

const KNOWN = ['cache', 'flush', 'queue', 'flushIntervalMs', 'maxBatch', 'retry', 'tags', 'ttl']
const NO_TAGS = () => []

export function resolveWriteBehindOptions<T>(options: WriteBehindOptions<T>): ResolvedWriteBehindOptions<T> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object with at least { cache, flush }')
  }
  knownKeys('', options, KNOWN)
  const { cache, flush, queue } = options
  if (typeof cache !== 'object' || cache === null || typeof cache.beginWrite !== 'function') {
    throw new InvalidOptionError('cache', 'must be a Cache from createCache()')
  }
  if (typeof flush !== 'function') throw new InvalidOptionError('flush', 'must be a function')
  if (queue === undefined && cache.store.capabilities.shared) {
    throw new InvalidOptionError(
      'queue',
      `is required with a shared store ("${cache.store.name}"): pass redisStreamQueue(…) for durable writes, or memoryQueue() to accept losing unflushed writes on a crash`,
    )
  }
  if (queue !== undefined && !isQueue(queue)) {
    throw new InvalidOptionError(
      'queue',
      'must implement WriteBehindQueue (memoryQueue(), redisStreamQueue())',
    )
  }
  if (options.tags !== undefined && typeof options.tags !== 'function') {
    throw new InvalidOptionError('tags', 'must be a function (key) => string[]')
  }
  const retry = optionsObject('retry', options.retry ?? {})
  knownKeys('retry', retry, ['attempts', 'baseDelayMs', 'maxDelayMs'])
  const baseDelayMs = integer('retry.baseDelayMs', retry.baseDelayMs ?? 200, 0)
  return {
    cache,
    flush,
    queue: queue ?? memoryQueue(),
    flushIntervalMs: integer('flushIntervalMs', options.flushIntervalMs ?? 1_000, 1),
    maxBatch: integer('maxBatch', options.maxBatch ?? 100, 1, Number.MAX_SAFE_INTEGER),
    attempts: integer('retry.attempts', retry.attempts ?? 5, 1, Number.MAX_SAFE_INTEGER),
    baseDelayMs,
    maxDelayMs: integer('retry.maxDelayMs', retry.maxDelayMs ?? Math.max(10_000, baseDelayMs), baseDelayMs),
    tags: options.tags ?? NO_TAGS,
    ttl: options.ttl === undefined ? undefined : integer('ttl', options.ttl, 1, MAX_TTL_MS),
  }
}

/** Exponential backoff: `baseDelayMs` after the first failure, doubling, capped at `maxDelayMs`. */
export function backoff(policy: { baseDelayMs: number; maxDelayMs: number }, failures: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failures - 1))
}

/** An integer option; ms values default to Node's timer limit, past which a timer fires at once. */
export function integer(name: string, value: unknown, min: number, max = MAX_TIMER_MS): number {
  return integerOption(name, value, min, max)
}

function isQueue(value: unknown): value is WriteBehindQueue {
  if (typeof value !== 'object' || value === null) return false
  const queue = value as Record<string, unknown>
  return [
    'attach',
    'open',
    'enqueue',
    'pass',
    'lock',
    'complete',
    'deadLetter',
    'keepAlive',
    'deadLetters',
    'replay',
    'size',
    'close',
  ].every((method) => typeof queue[method] === 'function')
}
