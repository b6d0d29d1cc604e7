import { setTimeout as sleep } from 'node:timers/promises'
import {
  CircuitOpenError,
  InvalidKeyError,
  InvalidTagError,
  OrmCacheError,
  StoreError,
  WriteBehindError,
} from '../errors.js'
import { isWellFormed } from '../hash.js'
import { CircuitBreaker } from '../store/circuit-breaker.js'
import { WriteBehindEmitter, type WriteBehindEventName, type WriteBehindListener } from './events.js'
import { Flusher, type FlushReport } from './flusher.js'
import {
  type ResolvedWriteBehindOptions,
  resolveWriteBehindOptions,
  type WriteBehindOptions,
} from './options.js'
import { decodePayload, encodePayload } from './payload.js'
import { pendingTag } from './pending-tag.js'
import type { WriteBehindQueue } from './queue.js'
import { emptyStats, type WriteBehindStats } from './stats.js'
import type { DeadLetter, WriteAck, WriteBehind } from './types.js'

/**
 * Write-behind: `write()` puts the value in the cache and a queue; a flusher applies queued
 * writes to the database in coalesced batches (last value per key wins), retries failures with
 * backoff, dead-letters what keeps failing, and invalidates the written keys' tags after each
 * successful flush so cached ORM reads see the new rows.
 */
export function writeBehind<T>(options: WriteBehindOptions<T>): WriteBehind<T> {
  return new WriteBehindWriter(resolveWriteBehindOptions(options))
}

class WriteBehindWriter<T> implements WriteBehind<T> {
  private readonly events = new WriteBehindEmitter()
  private readonly counters = emptyStats()
  private readonly flusher: Flusher<T>
  private readonly inFlight = new Set<Promise<unknown>>()
  private opening: Promise<void> | undefined
  private durabilityChecked = false
  private passes: Promise<unknown> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined
  private readonly queueBreaker = new CircuitBreaker({ failureThreshold: 3, resetAfterMs: 1_000 })
  private closing: Promise<void> | undefined

  constructor(private readonly options: ResolvedWriteBehindOptions<T>) {
    options.queue.attach({ namespace: options.cache.namespace })
    this.flusher = new Flusher({
      options,
      codec: options.cache.codec,
      events: this.events,
      stats: this.counters,
      report: (error, operation, key) => this.report(error, operation, key),
      invalidate: (tags) => this.invalidate(tags),
    })
    this.schedule()
  }

  get queue(): WriteBehindQueue {
    return this.options.queue
  }

  write(key: string, value: T): Promise<WriteAck> {
    if (this.closing !== undefined) return Promise.reject(new WriteBehindError('The writer has been closed'))
    const done = this.acknowledge(key, value)
    this.inFlight.add(done)
    const forget = () => this.inFlight.delete(done)
    done.then(forget, forget)
    return done
  }

  flushNow(): Promise<FlushReport> {
    return this.runPass()
  }

  close(): Promise<void> {
    this.closing ??= this.drain()
    return this.closing
  }

  on<E extends WriteBehindEventName>(event: E, listener: WriteBehindListener<E>): () => void {
    return this.events.on(event, listener)
  }

  stats(): WriteBehindStats {
    return { ...this.counters }
  }

  pending(): Promise<number> {
    return this.options.queue.size()
  }

  async deadLetters(): Promise<DeadLetter<T>[]> {
    const records = await this.options.queue.deadLetters()
    return records.map((record) => {
      let value: T | undefined
      try {
        value = decodePayload(this.options.cache.codec, record.payload, record.id) as T
      } catch {
        value = undefined
      }
      const { id, key, writtenAt, failedAt, attempts, error } = record
      return { id, key, value, writtenAt, failedAt, attempts, error }
    })
  }

  async replayDeadLetters(): Promise<{ replayed: number; superseded: number }> {
    await this.open()
    let replayed = 0
    let superseded = 0
    for (const record of await this.options.queue.deadLetters()) {
      const verdict = await this.options.queue.replay(record)
      if (verdict === 'replayed') replayed += 1
      else if (verdict === 'superseded') superseded += 1
    }
    this.counters.replayed += replayed
    return { replayed, superseded }
  }

  private async acknowledge(key: string, value: T): Promise<WriteAck> {
    if (typeof key !== 'string' || key.length === 0)
      throw new InvalidKeyError('Write-behind keys must be non-empty strings')
    // A queue stores keys as UTF-8 text (a Redis Stream field), where two keys differing only in
    // a lone surrogate would become one key and one write would be dropped as superseded.
    if (!isWellFormed(key)) {
      throw new InvalidKeyError(
        'Write-behind keys must be well-formed UTF-16 (this key has a lone surrogate)',
      )
    }
    const tags = this.tagsFor(key)
    // Encoding first rejects values the codec cannot round-trip before anything is written.
    const payload = encodePayload(this.options.cache.codec, value)
    const writtenAt = Date.now()
    const wbTag = pendingTag(key)
    const intent = await this.options.cache.beginWrite([wbTag])
    let id: string
    try {
      // After repeated failures the queue is skipped for a while, so an outage costs each write
      // one fast fallback instead of a full enqueue timeout.
      if (!this.queueBreaker.allow()) throw new CircuitOpenError('write-behind-enqueue')
      await this.open()
      id = await this.options.queue.enqueue({ key, payload, tags, writtenAt })
      this.queueBreaker.success()
    } catch (error) {
      if (!(error instanceof CircuitOpenError)) this.queueBreaker.failure()
      this.report(error, 'write-behind-enqueue', key)
      await this.direct(key, payload, tags, writtenAt, 'queue-unavailable')
      this.counters.writes += 1
      return { queued: false, id: undefined, direct: true }
    }
    const outcome = await intent.commit({ invalidate: [wbTag], fill: { key, value, ttl: this.options.ttl } })
    this.counters.writes += 1
    if (outcome !== 'unavailable') return { queued: true, id, direct: false }
    // Queued, but the cache cannot serve the value: bring the database up to date now so reads
    // that fall through to it see this write. If that fails the queue still has the write.
    try {
      await this.direct(key, payload, tags, writtenAt, 'store-unavailable')
      return { queued: true, id, direct: true }
    } catch {
      return { queued: true, id, direct: false }
    }
  }

  /** The synchronous fallback: the database write itself, then the invalidation it implies. */
  private async direct(
    key: string,
    payload: string,
    tags: readonly string[],
    writtenAt: number,
    reason: 'queue-unavailable' | 'store-unavailable',
  ): Promise<void> {
    this.events.emit('fallback', { key, reason })
    try {
      const value = decodePayload(this.options.cache.codec, payload, 'direct') as T
      await this.options.flush([{ key, value, writtenAt }])
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause)
      const error = new WriteBehindError(
        reason === 'queue-unavailable'
          ? `Write to "${key}" was not acknowledged: the queue is unavailable and the database write failed: ${message}`
          : `Write to "${key}" is queued, but the cache store is unavailable and the direct database write failed: ${message}`,
        { cause },
      )
      this.report(error, 'write-behind-direct', key)
      throw error
    }
    this.counters.fallbacks += 1
    await this.invalidate([...tags, pendingTag(key)])
  }

  private tagsFor(key: string): readonly string[] {
    const tags = this.options.tags(key)
    if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string' || tag.length === 0)) {
      throw new InvalidTagError(`tags("${key}") must return an array of non-empty strings`)
    }
    return [...new Set(tags)]
  }

  private open(): Promise<void> {
    this.opening ??= this.options.queue.open().then(
      () => this.checkDurability(),
      (error: unknown) => {
        this.opening = undefined
        throw error
      },
    )
    return this.opening
  }

  /** Warns once when the queue's server may lose acknowledged writes; never delays a write. */
  private checkDurability(): void {
    const { queue } = this.options
    if (this.durabilityChecked || queue.durability === undefined) return
    this.durabilityChecked = true
    queue.durability().then(
      ({ persistence, detail }) => {
        if (persistence !== 'aof') this.events.emit('durability', { persistence, message: detail })
      },
      () => {},
    )
  }

  private runPass(): Promise<FlushReport> {
    const pass = this.passes.then(async () => {
      await this.open()
      return this.flusher.pass()
    })
    this.passes = pass.catch(() => {})
    return pass
  }

  private schedule(): void {
    if (this.closing !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.runPass()
        .catch((error: unknown) => this.report(error, 'write-behind-pass'))
        .finally(() => this.schedule())
    }, this.options.flushIntervalMs)
    // A pending timer must not keep the process alive; `close()` is how writes get drained.
    this.timer.unref?.()
  }

  private async drain(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await Promise.allSettled([...this.inFlight])
    try {
      for (;;) {
        const report = await this.runPass()
        if (report.deferred === 0) break
        // Another process is flushing some of these keys; its lock ends when it is done.
        await sleep(this.options.flushIntervalMs)
      }
    } catch (error) {
      // Only a durable queue can fail here, and it keeps the rest for another process.
      this.report(error, 'write-behind-drain')
    }
    await this.options.queue.close()
  }

  private async invalidate(tags: readonly string[]): Promise<void> {
    try {
      await this.options.cache.invalidateTags(tags)
    } catch (error) {
      this.report(error, 'write-behind-invalidate')
    }
  }

  private report(error: unknown, operation: string, key?: string): void {
    const typed = OrmCacheError.is(error) ? error : new StoreError(operation, error)
    this.counters.errors += 1
    this.events.emit(
      'error',
      key === undefined ? { error: typed, operation } : { error: typed, operation, key },
    )
  }
}
