import type { Entry } from '../entry.js'

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
  /** `clock` when the slot last moved to the most-recent end. */
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
  private readonly slots = new Map<string, Slot>()
  private readonly byTag = new Map<string, Set<string>>()
  /** Counts insertions and moves; orders slots for the approximate LRU. */
  private clock = 0
  /** False while entries cannot be kept coherent (bus down, store circuit open). */
  private enabled = true

  constructor(options: L1Options) {
    this.maxEntries = options.maxEntries ?? 10_000
    this.maxStaleness = options.maxStaleness ?? 1_000
  }

  get size(): number {
    return this.slots.size
  }

  get active(): boolean {
    return this.enabled
  }

  get(storeKey: string): Slot | undefined {
    const slot = this.slots.get(storeKey)
    if (slot === undefined) return undefined
    // Approximate LRU: moving a slot costs a Map delete + insert, so a hot slot moves only once
    // it has drifted a quarter of the way towards eviction.
    if (this.clock - slot.touched > this.maxEntries >>> 2) {
      this.slots.delete(storeKey)
      this.slots.set(storeKey, slot)
      slot.touched = ++this.clock
    }
    return slot
  }

  /** Within maxStaleness of being cached and before its TTL ran out. */
  isFresh(slot: Slot): boolean {
    return performance.now() - slot.cachedAt < this.maxStaleness && Date.now() < slot.entry.freshUntil
  }

  set(storeKey: string, entry: Entry): void {
    if (!this.enabled) return
    this.delete(storeKey)
    this.slots.set(storeKey, { entry, cachedAt: performance.now(), touched: ++this.clock })
    for (const tag of entry.tags) {
      let keys = this.byTag.get(tag)
      if (keys === undefined) {
        keys = new Set()
        this.byTag.set(tag, keys)
      }
      keys.add(storeKey)
    }
    while (this.slots.size > this.maxEntries) {
      const oldest = this.slots.keys().next()
      if (oldest.done) break
      this.delete(oldest.value)
    }
  }

  delete(storeKey: string): void {
    const slot = this.slots.get(storeKey)
    if (slot === undefined) return
    this.slots.delete(storeKey)
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
