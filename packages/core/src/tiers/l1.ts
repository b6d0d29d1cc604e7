import type { Entry } from '../entry.js'
import { LruMap } from '../lru-map.js'
import { sameList } from '../same-list.js'

export interface L1Options {
  /** Most entries held in process. Default 10,000. */
  maxEntries?: number
  /**
   * bounded mode: how long (ms) an L1 entry may be served without asking the store. Other
   * processes' invalidations arrive over the bus much sooner; this bounds the damage if one is
   * lost. Default 1,000.
   */
  maxStaleness?: number
}

interface Slot {
  entry: Entry
  /** performance.now() when the slot was filled. */
  cachedAt: number
  touched: number
}

/**
 * The near cache in front of a remote store: decoded entries, so a hit costs no network and no
 * parse. Indexed by tag so an invalidation evicts exactly the entries that depend on it.
 * Values are never handed out directly; the caller copies them (Codec.clone).
 */
export class NearCache {
  readonly maxEntries: number
  readonly maxStaleness: number
  private readonly slots: LruMap<Slot>
  private readonly byTag = new Map<string, Set<string>>()
  /** False while entries cannot be kept coherent (bus down, store circuit open). */
  private enabled = true

  constructor(options: L1Options) {
    this.maxEntries = options.maxEntries ?? 10_000
    this.maxStaleness = options.maxStaleness ?? 1_000
    this.slots = new LruMap(this.maxEntries)
  }

  get size(): number {
    return this.slots.size
  }

  get active(): boolean {
    return this.enabled
  }

  get(storeKey: string): Slot | undefined {
    return this.slots.get(storeKey)
  }

  /** Within maxStaleness of being cached and before its TTL ran out. */
  isFresh(slot: Slot): boolean {
    return performance.now() - slot.cachedAt < this.maxStaleness && Date.now() < slot.entry.freshUntil
  }

  set(storeKey: string, entry: Entry): void {
    if (!this.enabled) return
    const old = this.slots.set(storeKey, { entry, cachedAt: performance.now(), touched: 0 })
    // Refilled under the same tags (the common case), the index already holds it: removing and
    // adding it again would leave a dead entry per tag in sets that can be large (lru-map.ts).
    if (old !== undefined && sameList(old.entry.tags, entry.tags)) return
    if (old !== undefined) this.unindex(storeKey, old)
    for (const tag of entry.tags) {
      let keys = this.byTag.get(tag)
      if (keys === undefined) {
        keys = new Set()
        this.byTag.set(tag, keys)
      }
      keys.add(storeKey)
    }
    while (this.slots.size > this.maxEntries) {
      const oldest = this.slots.takeOldest()
      if (oldest === undefined) break
      this.unindex(oldest.key, oldest.slot)
    }
  }

  delete(storeKey: string): void {
    const slot = this.slots.delete(storeKey)
    if (slot !== undefined) this.unindex(storeKey, slot)
  }

  private unindex(storeKey: string, slot: Slot): void {
    for (const tag of slot.entry.tags) {
      const keys = this.byTag.get(tag)
      keys?.delete(storeKey)
      if (keys?.size === 0) this.byTag.delete(tag)
    }
  }

  evictTags(tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag)
      if (keys === undefined) continue
      for (const key of [...keys]) this.delete(key)
    }
  }

  clear(): void {
    this.slots.clear()
    this.byTag.clear()
  }

  /** Drops everything and refuses new entries until `enable()`. */
  disable(): void {
    this.enabled = false
    this.clear()
  }

  enable(): void {
    this.enabled = true
  }
}
