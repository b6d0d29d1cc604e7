import type { CacheContext } from '../cache-context.js'

/** Keys remembered at most; past it the oldest hint is dropped (a dropped hint costs nothing wrong). */
const MAX_KEYS = 10_000
/** Tags whose local bumps are remembered; past it every older hint is dropped at once. */
const MAX_TAGS = 10_000

/**
 * Which keys this process expects to be hits, so the lookup can read them with a plain read
 * (entry + versions, no script) and keep the script, which creates versions and takes the lease
 * in the same round trip, for the keys expected to miss (store-lookup.ts, docs/design.md
 * "The hit read"). A key is expected to hit when its last lookup was a hit and no tag it was read
 * with has been invalidated by this process since that lookup started. Writes by other
 * processes are not seen here: their first read after the write costs one extra round trip, and
 * that miss drops the hint. Only ever a hint: a wrong one costs a round trip, never a stale read.
 */
export class HitHints {
  /** storeKey → `seq` when the lookup that hit it started. */
  private readonly keys = new Map<string, number>()
  /** tag → `seq` of its last local invalidation. */
  private readonly bumped = new Map<string, number>()
  private seq = 0
  /** Hints taken before this are void (the tag map was cleared, or everything was invalidated). */
  private floor = 0

  /** The value to pass to `hit` for a lookup starting now. */
  now(): number {
    return this.seq
  }

  expects(storeKey: string, tags: readonly string[]): boolean {
    const at = this.keys.get(storeKey)
    return at !== undefined && at >= this.floor && !this.bumpedAfter(at, tags)
  }

  /**
   * True when `storeKey` had a hint and this process invalidated one of `tags` since: the entry
   * it knew is dead (a version it was stored under moved). A current entry under that key can
   * only be another process's fill made after that write.
   */
  voided(storeKey: string, tags: readonly string[]): boolean {
    const at = this.keys.get(storeKey)
    return at !== undefined && at >= this.floor && this.bumpedAfter(at, tags)
  }

  /**
   * Whether this process (or a bus message it applied) invalidated one of `tags`, or everything,
   * after `at` (from `now()`). Exact for the tags it names; past MAX_TAGS it answers true.
   */
  bumpedSince(at: number, tags: readonly string[]): boolean {
    return at < this.floor || this.bumpedAfter(at, tags)
  }

  /** Whether this process invalidated one of `tags` after `at`. */
  private bumpedAfter(at: number, tags: readonly string[]): boolean {
    // Every bump takes a new seq: none since `at` means none of these tags (a list names ~80).
    if (at >= this.seq) return false
    for (let i = 0; i < tags.length; i++) {
      const bump = this.bumped.get(tags[i]!)
      if (bump !== undefined && bump > at) return true
    }
    return false
  }

  /** `storeKey` was a hit for a lookup that started at `since` (from `now()`). */
  hit(storeKey: string, since: number): void {
    const keys = this.keys
    if (!keys.has(storeKey) && keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!)
    keys.set(storeKey, since)
  }

  /** The plain read found no usable entry: read `storeKey` with the full lookup until it hits again. */
  missed(storeKey: string): void {
    this.keys.delete(storeKey)
  }

  /** This process invalidated `tags` (or everything): hints taken before no longer hold for them. */
  invalidated(tags: readonly string[], everything: boolean): void {
    const seq = ++this.seq
    if (everything || this.bumped.size + tags.length > MAX_TAGS) {
      this.bumped.clear()
      this.floor = seq
      return
    }
    for (const tag of tags) this.bumped.set(tag, seq)
  }
}

/**
 * This process just stored the entry at `storeKey` (a miss's fill, write-through's guarded fill):
 * its next read is expected to hit, so it may take the plain read instead of the lookup script,
 * which a freshly stored key would otherwise pay once more before its first hit set the hint.
 * `own`: the tags the entry was stored under when they are not the ones reads ask with (an
 * after-load list), remembered as a lookup that saw its head would; undefined otherwise. Only a
 * hint: the plain read judges the entry in full, and a write of its tags this process made since
 * `since` (when the load or the write began) voids it.
 */
export function expectStoredHit(
  ctx: CacheContext,
  storeKey: string,
  own: readonly string[] | undefined,
  since: number,
): void {
  if (own === undefined) ctx.headTags.delete(storeKey)
  else ctx.headTags.set(storeKey, own)
  ctx.hitHints.hit(storeKey, since)
}
