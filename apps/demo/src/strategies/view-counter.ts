import type { Cache, WriteBehind, WriteBehindQueue, WriteBehindStats } from '@ormcache/core'
import { writeBehind } from '@ormcache/core'
import type { Blog } from '../blog/types.js'
import { KeyedLock } from './keyed-lock.js'

export interface ViewCounterOptions {
  /** The cache that holds counts until they are flushed. */
  cache: Cache
  /** The ORM that writes flushed batches (its adapter then invalidates the posts' cached reads). */
  blog: Blog
  queue: WriteBehindQueue
  flushIntervalMs: number
}

export interface ViewCounterStats extends WriteBehindStats {
  /** Counts not yet in the database; null while the queue cannot be asked (its store is down). */
  pending: number | null
  queue: string
  durable: boolean
}

const PREFIX = 'views:post:'

/** The promise's value, or null if it rejects or takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      () => {
        clearTimeout(timer)
        resolve(null)
      },
    )
  })
}

/**
 * Write-behind on post view counters. A view writes the new count to the cache and a queue and
 * returns at once; the queue is flushed to the database in batches (one transaction per batch,
 * the last count per post wins). Reads overlay the pending count on the stored one, so a post
 * never shows fewer views than were counted.
 *
 * One counter serves both ORMs' routes (a view is a view): two writers with separate queues
 * could flush an older count after a newer one. Counts are read-increment-written under a
 * per-post lock in this process; several demo processes sharing one store would need an atomic
 * increment in the store, which the core does not offer.
 */
export class ViewCounter {
  private readonly writer: WriteBehind<number>
  private readonly lock = new KeyedLock()

  constructor(private readonly options: ViewCounterOptions) {
    this.writer = writeBehind<number>({
      cache: options.cache,
      queue: options.queue,
      flushIntervalMs: options.flushIntervalMs,
      flush: (batch) =>
        options.blog.saveViews(
          batch.map((item) => ({ postId: Number(item.key.slice(PREFIX.length)), views: item.value })),
        ),
    })
  }

  /** Counts one view; undefined if the post does not exist. */
  record(postId: number): Promise<number | undefined> {
    const key = PREFIX + postId
    return this.lock.run(key, async () => {
      const current =
        (await this.options.cache.get<number>(key)) ?? (await this.options.blog.storedViews(postId))
      if (current === undefined) return undefined
      await this.writer.write(key, current + 1)
      return current + 1
    })
  }

  /** The count to show: a pending (not yet flushed) count wins over the stored one. */
  async current(postId: number, stored: number): Promise<number> {
    return (await this.options.cache.get<number>(PREFIX + postId)) ?? stored
  }

  flushNow(): Promise<unknown> {
    return this.writer.flushNow()
  }

  async stats(): Promise<ViewCounterStats> {
    return {
      ...this.writer.stats(),
      // The dashboard must keep answering while the store is down (that is when it matters most),
      // so the queue gets a short time to say how much is pending.
      pending: await within(this.writer.pending(), 250),
      queue: this.writer.queue.kind,
      durable: this.writer.queue.durable,
    }
  }

  close(): Promise<void> {
    return this.writer.close()
  }
}
