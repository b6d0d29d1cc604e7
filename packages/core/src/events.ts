import type { OrmCacheError } from './errors.js'

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
}

export type CacheEventName = keyof CacheEvents
export type CacheListener<E extends CacheEventName> = (event: CacheEvents[E]) => void

/**
 * A small typed emitter. A throwing listener is isolated: it never breaks a cache operation and
 * never stops other listeners.
 */
export class Emitter<Events extends object = CacheEvents> {
  private readonly listeners = new Map<keyof Events, Set<(event: never) => void>>()

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
      } catch {
        // A listener's bug must not turn into a cache fault (or a lost write).
      }
    }
  }

  clear(): void {
    this.listeners.clear()
  }
}
