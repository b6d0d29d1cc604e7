import { setTimeout as sleep } from 'node:timers/promises'
import type { Codec } from '../codec.js'
import { WriteBehindError } from '../errors.js'
import type { WriteBehindEmitter } from './events.js'
import { backoff, type ResolvedWriteBehindOptions, type WriteBehindItem } from './options.js'
import { decodePayload } from './payload.js'
import { pendingTag } from './pending-tag.js'
import type { QueuedWrite } from './queue.js'
import type { WriteBehindStats } from './stats.js'

/** What one pass over the queue did. */
export interface FlushReport {
  /** Items written to the database (one per key per flush). */
  flushed: number
  /** Queued writes skipped because a newer write to the same key exists. */
  superseded: number
  deadLettered: number
  /** Writes left for a later pass because another process is flushing their key. */
  deferred: number
}

export interface FlusherDeps<T> {
  options: ResolvedWriteBehindOptions<T>
  codec: Codec
  events: WriteBehindEmitter
  stats: WriteBehindStats
  report(error: unknown, operation: string, key?: string): void
  /** Invalidates tags after a write reached the database; reports faults, never throws. */
  invalidate(tags: readonly string[]): Promise<void>
}

interface Pending<T> {
  entry: QueuedWrite
  value: T
}

/**
 * Applies queued writes to the database. A pass takes chunks from the queue, keeps only the
 * entries that are still their key's latest write (the queue drops the rest: coalescing),
 * locks those keys, and hands them to `flush`. A failed flush is retried with exponential
 * backoff, re-checking before each attempt that no newer write has replaced an item; after the
 * last attempt the items go to the dead-letter list. Queue faults abort the pass: the entries
 * stay owned by this consumer and are picked up again by the next pass.
 */
export class Flusher<T> {
  constructor(private readonly deps: FlusherDeps<T>) {}

  async pass(): Promise<FlushReport> {
    const report: FlushReport = { flushed: 0, superseded: 0, deadLettered: 0, deferred: 0 }
    for await (const chunk of this.deps.options.queue.pass(this.deps.options.maxBatch)) {
      if (chunk.length > 0) await this.chunk(chunk, report)
    }
    return report
  }

  private async chunk(entries: readonly QueuedWrite[], report: FlushReport): Promise<void> {
    const ready = await this.lock(entries, report)
    const batch: Pending<T>[] = []
    const corrupt: QueuedWrite[] = []
    for (const entry of ready) {
      try {
        batch.push({ entry, value: decodePayload(this.deps.codec, entry.payload, entry.id) as T })
      } catch (error) {
        this.deps.report(error, 'write-behind-decode', entry.key)
        corrupt.push(entry)
      }
    }
    if (corrupt.length > 0)
      await this.bury(corrupt, new Error('the queued payload cannot be decoded'), 0, report)
    if (batch.length > 0) await this.apply(batch, report)
  }

  /** Entries that are still the latest for their key and now locked by this consumer. */
  private async lock(entries: readonly QueuedWrite[], report: FlushReport): Promise<QueuedWrite[]> {
    const verdicts = await this.deps.options.queue.lock(entries)
    const ready: QueuedWrite[] = []
    entries.forEach((entry, i) => {
      const verdict = verdicts[i]
      if (verdict === 'ok') ready.push(entry)
      else if (verdict === 'busy') report.deferred += 1
      else {
        report.superseded += 1
        this.deps.stats.superseded += 1
      }
    })
    return ready
  }

  private async apply(initial: Pending<T>[], report: FlushReport): Promise<void> {
    const { options, events, stats } = this.deps
    let batch = initial
    const stopHeartbeat = this.heartbeat(() => batch.map((item) => item.entry))
    try {
      for (let attempt = 1; ; attempt++) {
        const started = performance.now()
        const items: WriteBehindItem<T>[] = batch.map(({ entry, value }) => ({
          key: entry.key,
          value,
          writtenAt: entry.writtenAt,
        }))
        try {
          await options.flush(items)
        } catch (error) {
          if (attempt >= options.attempts) {
            if (batch.length === 1) await this.bury([batch[0]!.entry], error, attempt, report)
            else await this.isolate(await this.recheck(batch, report), attempt, report)
            return
          }
          const delayMs = backoff(options, attempt)
          stats.retries += 1
          events.emit('retry', { keys: batch.map((item) => item.entry.key), attempt, delayMs, error })
          await sleep(delayMs)
          batch = await this.recheck(batch, report)
          if (batch.length === 0) return
          continue
        }
        await this.settle(batch, attempt, performance.now() - started, report)
        return
      }
    } finally {
      stopHeartbeat()
    }
  }

  /** The items still the latest for their keys (a newer write may have arrived during a backoff). */
  private async recheck(batch: Pending<T>[], report: FlushReport): Promise<Pending<T>[]> {
    const still = new Set(
      await this.lock(
        batch.map((item) => item.entry),
        report,
      ),
    )
    return batch.filter((item) => still.has(item.entry))
  }

  /**
   * A batch failed every attempt. One bad item (a constraint violation, a poison value) must not
   * take the others with it, so each item gets one attempt of its own; only the items that fail
   * alone are dead-lettered.
   */
  private async isolate(batch: Pending<T>[], attempts: number, report: FlushReport): Promise<void> {
    for (const item of batch) {
      const started = performance.now()
      try {
        await this.deps.options.flush([
          { key: item.entry.key, value: item.value, writtenAt: item.entry.writtenAt },
        ])
      } catch (error) {
        await this.bury([item.entry], error, attempts + 1, report)
        continue
      }
      await this.settle([item], attempts + 1, performance.now() - started, report)
    }
  }

  /** The batch is in the database: drop it from the queue, then invalidate what it changed. */
  private async settle(batch: Pending<T>[], attempt: number, ms: number, report: FlushReport): Promise<void> {
    const { options, events, stats } = this.deps
    const entries = batch.map((item) => item.entry)
    let settled: boolean[] = entries.map(() => false)
    try {
      settled = await options.queue.complete(entries)
    } catch (error) {
      // The entries stay queued and will be flushed again (same value): harmless, not lost.
      this.deps.report(error, 'write-behind-complete')
    }
    stats.flushes += 1
    stats.flushedItems += entries.length
    report.flushed += entries.length
    const keys = entries.map((entry) => entry.key)
    events.emit('flush', { keys, items: entries.length, attempt, ms })
    const tags = new Set<string>()
    entries.forEach((entry, i) => {
      for (const tag of entry.tags) tags.add(tag)
      // Only when no newer write is waiting: its cached value must stay readable until its flush.
      if (settled[i]) tags.add(pendingTag(entry.key))
    })
    if (tags.size > 0) await this.deps.invalidate([...tags])
  }

  private async bury(
    entries: QueuedWrite[],
    cause: unknown,
    attempts: number,
    report: FlushReport,
  ): Promise<void> {
    const reason = cause instanceof Error ? cause.message : String(cause)
    const keys = entries.map((entry) => entry.key)
    try {
      await this.deps.options.queue.deadLetter(entries, reason, attempts)
    } catch (error) {
      // Still queued and owned by this consumer: the next pass tries them again.
      this.deps.report(error, 'write-behind-dead-letter')
      return
    }
    this.deps.stats.deadLettered += entries.length
    report.deadLettered += entries.length
    const error = new WriteBehindError(
      `${entries.length} write(s) moved to the dead-letter list after ${attempts} failed flush attempt(s): ${reason}`,
      { cause },
    )
    this.deps.events.emit('dead-letter', { keys, attempts, error })
    this.deps.report(error, 'write-behind-flush')
  }

  /** Keeps ownership of in-flight entries alive while a slow flush or a backoff runs. */
  private heartbeat(current: () => QueuedWrite[]): () => void {
    const every = this.deps.options.queue.keepAliveMs
    if (every === undefined) return () => {}
    const timer = setInterval(() => {
      this.deps.options.queue.keepAlive(current()).catch((error: unknown) => {
        this.deps.report(error, 'write-behind-keep-alive')
      })
    }, every)
    timer.unref?.()
    return () => clearInterval(timer)
  }
}
