import type { WriteBehindEventName, WriteBehindListener } from './events.js'
import type { FlushReport } from './flusher.js'
import type { WriteBehindQueue } from './queue.js'
import type { WriteBehindStats } from './stats.js'

/** How a write was acknowledged. */
export interface WriteAck {
  /** In the queue, to be flushed; `id` is its queue id. */
  queued: boolean
  id: string | undefined
  /** Already written to the database synchronously (the queue or the store was unavailable). */
  direct: boolean
}

export interface DeadLetter<T> {
  id: string
  key: string
  /** Undefined only if the queued payload could not be decoded. */
  value: T | undefined
  writtenAt: number
  failedAt: number
  attempts: number
  error: string
}

export interface WriteBehind<T> {
  readonly queue: WriteBehindQueue
  /**
   * Resolves once the write is acknowledged: in the cache (readable with `cache.get(key)`) and
   * in the queue, or, if either is unavailable, written to the database by `flush`. Rejects with
   * a `WriteBehindError` when neither worked: the write was not acknowledged.
   */
  write(key: string, value: T): Promise<WriteAck>
  /** Runs a pass now (after any running one) and resolves with what it flushed. */
  flushNow(): Promise<FlushReport>
  /** Waits for in-flight writes, drains the queue (flush, retry, dead-letter), then stops. */
  close(): Promise<void>
  on<E extends WriteBehindEventName>(event: E, listener: WriteBehindListener<E>): () => void
  stats(): WriteBehindStats
  /** Writes queued and not yet flushed or dead-lettered, by any writer sharing the queue. */
  pending(): Promise<number>
  deadLetters(): Promise<DeadLetter<T>[]>
  /**
   * Queues every dead letter again, except those a newer write to the same key has superseded
   * (those are dropped: their value would never be the final one).
   */
  replayDeadLetters(): Promise<{ replayed: number; superseded: number }>
}
