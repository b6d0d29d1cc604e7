import type { OrmCacheError } from './errors.js'
import type { ReadInfo, ReadSource } from './read-path/cache-aside.js'
import type { CircuitChange } from './store/store-breaker.js'

/** Why a read did not return a fresh cached value. */
export type MissReason = 'absent' | 'expired' | 'invalidated' | 'corrupt' | 'store-unavailable'

export interface CacheEvents {
  hit: { key: string }
  stale: { key: string }
  miss: { key: string; reason: MissReason }
  load: { key: string; ms: number; ok: boolean }
  set: { key: string; bytes: number }
  delete: { key: string }
  invalidate: { tags: readonly string[]; everything: boolean }
  error: { error: OrmCacheError; operation: string; key?: string }
  /** One per `wrap` / `wrapWithInfo` call (every cached ORM read), once it settled. */
  read: CacheReadEvent
  /**
   * The store's circuit changed state (open, half-open, closed), with the store faults and
   * skipped calls counted since the previous change. While the circuit is not closed, store
   * faults are counted here (and in `stats().errors`) instead of one `error` event each.
   */
  circuit: CircuitChange
}

/**
 * A finished cached read, for your own metrics (the built-in exporters record reads without
 * it). Emitted only while someone listens, so a cache nobody observes pays nothing for it.
 */
export interface CacheReadEvent {
  key: string
  /** Where the value came from; `error` when the loader (or the cache) threw at the caller. */
  source: ReadSource | 'error'
  tier?: ReadInfo['tier']
  reason?: ReadInfo['reason']
  /** The model or table the adapter named (`WrapOptions.model`). */
  model?: string
  /** The ORM operation the adapter named (`WrapOptions.operation`), e.g. `findUnique`, `select`. */
  operation?: string
  /** Tags the entry depends on. */
  tagCount: number
  /** Wall time of the whole read, loader included. */
  ms: number
  /** Length of the stored entry read (hit, stale) or written (miss); 0 when none. */
  bytes: number
  /** Store round trips the call made itself: the lookup (and its re-reads) and the fill. */
  roundTrips: number
}

export type CacheEventName = keyof CacheEvents
export type CacheListener<E extends CacheEventName> = (event: CacheEvents[E]) => void

/** Told when a listener throws; the emitter itself carries on with the other listeners. */
export type ListenerFailure = (error: unknown, event: string, listener: (event: never) => void) => void

/**
 * A small typed emitter. A throwing listener is isolated: it never breaks a cache operation and
 * never stops other listeners; `onListenerError` reports it (see ListenerError).
 */
export class Emitter<Events extends object = CacheEvents> {
  private readonly listeners = new Map<keyof Events, Set<(event: never) => void>>()

  constructor(private readonly onListenerError?: ListenerFailure) {}

  on<E extends keyof Events>(name: E, listener: (event: Events[E]) => void): () => void {
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

  has(name: keyof Events): boolean {
    return (this.listeners.get(name)?.size ?? 0) > 0
  }

  emit<E extends keyof Events>(name: E, event: Events[E]): void {
    const set = this.listeners.get(name)
    if (set === undefined) return
    for (const listener of set) {
      try {
        ;(listener as (event: Events[E]) => void)(event)
      } catch (error) {
        // A listener's bug must not turn into a cache fault (or a lost write): reported, not thrown.
        this.onListenerError?.(error, String(name), listener)
      }
    }
  }

  clear(): void {
    this.listeners.clear()
  }
}
