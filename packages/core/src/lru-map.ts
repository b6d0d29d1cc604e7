/** What an `LruMap` keeps per slot to order it. */
export interface LruSlot {
  /** The map's clock when the slot last moved to the newest end (set by the map). */
  touched: number
}

/**
 * A Map in approximate least-recently-used order, for the in-process tiers (the memory store, the
 * L1). A Map keeps insertion order, so the oldest slot comes first; using a slot moves it to the
 * newest end by a delete and a set. Three costs of V8's Map decide how:
 *
 * - A delete leaves a dead entry in place until the map rehashes. A hot slot therefore moves only
 *   once it has drifted a quarter of the way towards eviction, not on every use.
 * - A set of a key that was just deleted walks the key's whole hash chain, dead entries included,
 *   before it appends. Rewriting the same keys by delete and set (a table's tag and write log on
 *   every write) grew those chains to thousands of entries: ~10 µs per write of a store holding
 *   9,000 slots. A rewrite of an undrifted slot is therefore a set in place, which keeps its
 *   position (as a use of it would).
 * - `keys().next()` walks every dead entry at the front. Evicting through one long-lived
 *   iterator instead passes each of them once: a Map iterator goes on from where it stopped,
 *   skips what was deleted and reaches what was inserted since, so it yields the oldest slot
 *   (~6 µs against ~0.3 µs per eviction of a full 10,000-slot store).
 */
export class LruMap<S extends LruSlot> {
  private readonly slots = new Map<string, S>()
  /** Counts insertions and moves. */
  private clock = 0
  private readonly oldest = new OldestKeys(this.slots)

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.slots.size
  }

  /** The slot at `key`, moved to the newest end when it has drifted (above). */
  get(key: string): S | undefined {
    const slot = this.slots.get(key)
    if (slot !== undefined && this.drifted(slot)) {
      this.slots.delete(key)
      this.slots.set(key, slot)
      slot.touched = ++this.clock
    }
    return slot
  }

  /** The slot at `key`, where it is. */
  peek(key: string): S | undefined {
    return this.slots.get(key)
  }

  /**
   * Stores `slot` at `key`: in place of an undrifted slot there, else at the newest end. Returns
   * the slot it replaced, so callers keep their accounting without a second lookup.
   */
  set(key: string, slot: S): S | undefined {
    const old = this.slots.get(key)
    if (old !== undefined && !this.drifted(old)) {
      slot.touched = old.touched
      this.slots.set(key, slot)
      return old
    }
    if (old !== undefined) this.slots.delete(key)
    slot.touched = ++this.clock
    this.slots.set(key, slot)
    return old
  }

  delete(key: string): S | undefined {
    const slot = this.slots.get(key)
    if (slot !== undefined) this.slots.delete(key)
    return slot
  }

  /**
   * Removes the least recently used slot and returns its key and slot; undefined when empty. One
   * call both finds and removes, so the cursor never passes a slot that stays.
   */
  takeOldest(): { key: string; slot: S } | undefined {
    const key = this.oldest.next()
    if (key === undefined) return undefined
    const slot = this.slots.get(key)!
    this.slots.delete(key)
    return { key, slot }
  }

  clear(): void {
    this.slots.clear()
    this.oldest.restart()
  }

  private drifted(slot: S): boolean {
    return this.clock - slot.touched > this.maxEntries >>> 2
  }
}

/**
 * The oldest key of a Map in insertion order, through one long-lived iterator: a bounded map
 * evicting its oldest key by a fresh `keys().next()` walks every dead entry at the front each
 * time (LruMap). The caller removes each key it is given before asking for the next one.
 */
export class OldestKeys<K> {
  private cursor: Iterator<K>

  constructor(private readonly map: Map<K, unknown>) {
    this.cursor = map.keys()
  }

  /** The oldest key, undefined when the map is empty. */
  next(): K | undefined {
    let next = this.cursor.next()
    if (next.done) {
      // Not reached while the cursor passes only keys removed since (it then stands before the
      // oldest live one), but a finished iterator would stay finished: start again.
      this.restart()
      next = this.cursor.next()
    }
    return next.done ? undefined : next.value
  }

  restart(): void {
    this.cursor = this.map.keys()
  }
}
