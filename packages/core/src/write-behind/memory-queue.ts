import { WriteBehindError } from '../errors.js'
import type { DeadLetterRecord, LockVerdict, QueuedWrite, ReplayVerdict, WriteBehindQueue } from './queue.js'

/**
 * The in-process queue: the same coalescing, retry and dead-letter semantics as the Redis
 * Stream queue, without durability. Writes acknowledged but not yet flushed live only in this
 * process's memory: a crash or an exit without `close()` loses them. Use it with the memory
 * store, in tests, or where losing the last flush window on a crash is acceptable.
 */
export class MemoryQueue implements WriteBehindQueue {
  readonly kind = 'memory'
  readonly durable = false
  readonly keepAliveMs = undefined
  private sequence = 0
  private attached = false
  /** Queued and not yet handed to the flusher, oldest first. */
  private fresh: QueuedWrite[] = []
  /** Handed to the flusher and not yet completed or dead-lettered. */
  private readonly owned = new Map<string, QueuedWrite>()
  private readonly latest = new Map<string, string>()
  private dead: DeadLetterRecord[] = []

  attach(): void {
    if (this.attached) throw new WriteBehindError('This memory queue is already used by another writer')
    this.attached = true
  }

  async open(): Promise<void> {}

  async enqueue(write: Omit<QueuedWrite, 'id'>): Promise<string> {
    const entry = { ...write, id: this.nextId() }
    this.fresh.push(entry)
    this.latest.set(entry.key, entry.id)
    return entry.id
  }

  async *pass(max: number): AsyncIterable<QueuedWrite[]> {
    const unfinished = [...this.owned.values()]
    for (let i = 0; i < unfinished.length; i += max) yield unfinished.slice(i, i + max)
    while (this.fresh.length > 0) {
      const chunk = this.fresh.splice(0, max)
      for (const entry of chunk) this.owned.set(entry.id, entry)
      yield chunk
    }
  }

  async lock(entries: readonly QueuedWrite[]): Promise<LockVerdict[]> {
    return entries.map((entry) => {
      if (this.latest.get(entry.key) === entry.id) return 'ok'
      this.owned.delete(entry.id)
      return 'stale'
    })
  }

  async complete(entries: readonly QueuedWrite[]): Promise<boolean[]> {
    return entries.map((entry) => {
      this.owned.delete(entry.id)
      if (this.latest.get(entry.key) !== entry.id) return false
      this.latest.delete(entry.key)
      return true
    })
  }

  async deadLetter(entries: readonly QueuedWrite[], error: string, attempts: number): Promise<void> {
    const failedAt = Date.now()
    for (const entry of entries) {
      this.owned.delete(entry.id)
      this.dead.push({ ...entry, failedAt, attempts, error })
    }
  }

  async keepAlive(entries: readonly QueuedWrite[]): Promise<boolean[]> {
    return entries.map(() => true)
  }

  async deadLetters(): Promise<DeadLetterRecord[]> {
    return [...this.dead]
  }

  async replay(record: DeadLetterRecord): Promise<ReplayVerdict | 'gone'> {
    const index = this.dead.findIndex((entry) => entry.id === record.id)
    if (index === -1) return 'gone'
    this.dead.splice(index, 1)
    if (this.latest.get(record.key) !== record.id) return 'superseded'
    await this.enqueue({
      key: record.key,
      payload: record.payload,
      tags: record.tags,
      writtenAt: record.writtenAt,
    })
    return 'replayed'
  }

  async size(): Promise<number> {
    return this.fresh.length + this.owned.size
  }

  async close(): Promise<void> {}

  private nextId(): string {
    this.sequence += 1
    return String(this.sequence)
  }
}

/** An in-process write-behind queue; see `MemoryQueue` for what it does not survive. */
export function memoryQueue(): MemoryQueue {
  return new MemoryQueue()
}
