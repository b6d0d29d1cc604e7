import type { OrmCacheError, WriteBehindError } from '../errors.js'

export interface WriteBehindEvents {
  /** A batch reached the database; `items` is one per key (coalesced). */
  flush: { keys: readonly string[]; items: number; attempt: number; ms: number }
  /** A flush failed and will be tried again after `delayMs`. */
  retry: { keys: readonly string[]; attempt: number; delayMs: number; error: unknown }
  /** A batch failed `attempts` times and was moved to the dead-letter list. */
  'dead-letter': { keys: readonly string[]; attempts: number; error: WriteBehindError }
  /** A write went to the database synchronously because the queue or the store was unavailable. */
  fallback: { key: string; reason: 'queue-unavailable' | 'store-unavailable' }
  error: { error: OrmCacheError; operation: string; key?: string }
}

export type WriteBehindEventName = keyof WriteBehindEvents
export type WriteBehindListener<E extends WriteBehindEventName> = (event: WriteBehindEvents[E]) => void

/** A throwing listener is isolated: it never breaks a flush and never stops other listeners. */
export class WriteBehindEmitter {
  private readonly listeners = new Map<WriteBehindEventName, Set<(event: never) => void>>()

  on<E extends WriteBehindEventName>(name: E, listener: WriteBehindListener<E>): () => void {
    let set = this.listeners.get(name)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(name, set)
    }
    set.add(listener as (event: never) => void)
    return () => {
      set.delete(listener as (event: never) => void)
    }
  }

  emit<E extends WriteBehindEventName>(name: E, event: WriteBehindEvents[E]): void {
    const set = this.listeners.get(name)
    if (set === undefined) return
    for (const listener of set) {
      try {
        ;(listener as WriteBehindListener<E>)(event)
      } catch {
        // A listener's bug must not turn into a lost write.
      }
    }
  }
}
