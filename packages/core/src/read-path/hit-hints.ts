import type { CacheContext } from '../cache-context.js'
import { OldestKeys } from '../lru-map.js'
import { PerTagsArray } from '../tags/per-tags-array.js'

/** Keys remembered at most; past it the oldest hint is dropped (a dropped hint costs nothing wrong). */
const MAX_KEYS = 10_000
/** Tags whose local bumps are remembered; past it every older hint is dropped at once. */
const MAX_TAGS = 10_000
/**
 * The last RECENT invalidations' tags, by seq. A check of a list (~80 tags) a few invalidations
 * after its hint walks the tags those invalidations named (a write names a handful) against the
 * list's tag set, instead of looking up each of its tags: with writes in the mix, almost every
 * list check came after some invalidation, and the per-tag loop was ~6 µs/op of a Prisma
 * 95/5 Zipf mix.
 */
const RECENT = 32
/** Arrays shorter than this are checked tag by tag: a set of them would cost more than it saves. */
const SET_FROM_TAGS = 16
const NONE: readonly string[] = []
/**
 * A key whose plain read missed: kept with a seq below every floor (so no hint) rather than
 * deleted, since a key deleted and set again walks its hash chain's dead entries (lru-map.ts),
 * and a hot key goes from hit to miss and back after each write of its rows.
 */
const MISSED = -1
/**
 * A key whose plain read proved its entry dead (plain-hit.ts DEAD): no hint, and `voided` until
 * the next hit or fill, so the lookups of its other readers presume it dead as well.
 */
const PROVEN_DEAD = -2

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
  /** storeKey → `seq` when the lookup that hit it started, or MISSED or PROVEN_DEAD. */
  private readonly keys = new Map<string, number>()
  private readonly oldestKeys = new OldestKeys(this.keys)
  /** tag → `seq` of its last local invalidation. */
  private readonly bumped = new Map<string, number>()
  private seq = 0
  /** Hints taken before this are void (the tag map was cleared, or everything was invalidated). */
  private floor = 0
  /**
   * recent[s % RECENT]: the tags invalidation `s` named, for the last RECENT seqs. One of
   * everything names none here: it moved `floor`, and no hint older than the floor is checked.
   */
  private readonly recent: (readonly string[])[] = new Array(RECENT).fill(NONE)
  /** A set of each long-lived tags array checked (an entry's head tags, a query shape's tags). */
  private readonly tagSets = new PerTagsArray<ReadonlySet<string>>()
  private readonly seenOnce = new WeakSet<readonly string[]>()

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
    if (at === PROVEN_DEAD) return true
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
    // Every bump takes a new seq: none since `at` means none of these tags.
    if (at >= this.seq) return false
    if (this.seq - at <= RECENT && tags.length >= SET_FROM_TAGS) {
      const walked = this.walkRecent(at, tags)
      if (walked !== undefined) return walked
    }
    for (let i = 0; i < tags.length; i++) {
      const bump = this.bumped.get(tags[i]!)
      if (bump !== undefined && bump > at) return true
    }
    return false
  }

  /**
   * The same answer from the invalidations after `at` (all still in the ring, and none of them of
   * everything: `at` is past the floor): whether one named a tag of `tags`. Undefined where the
   * per-tag loop is the cheaper one: the first time an array is asked with (one made for a single
   * question, as a load's own tags are, never gets a set), or when the invalidations since name
   * more tags than `tags` holds.
   */
  private walkRecent(at: number, tags: readonly string[]): boolean | undefined {
    let set = this.tagSets.get(tags)
    if (set === undefined && !this.seenOnce.has(tags)) {
      this.seenOnce.add(tags)
      return undefined
    }
    let budget = tags.length
    for (let s = at + 1; s <= this.seq; s++) {
      budget -= this.recent[s % RECENT]!.length
      if (budget < 0) return undefined
    }
    set ??= this.tagSets.set(tags, new Set(tags))
    for (let s = at + 1; s <= this.seq; s++) {
      const named = this.recent[s % RECENT]!
      for (let i = 0; i < named.length; i++) if (set.has(named[i]!)) return true
    }
    return false
  }

  /** `storeKey` was a hit for a lookup that started at `since` (from `now()`). */
  hit(storeKey: string, since: number): void {
    const keys = this.keys
    if (keys.size >= MAX_KEYS && !keys.has(storeKey)) keys.delete(this.oldestKeys.next()!)
    keys.set(storeKey, since)
  }

  /**
   * The plain read found no usable entry: read `storeKey` with the full lookup until it hits
   * again. `dead`: it proved the entry it knew dead (plain-hit.ts DEAD).
   */
  missed(storeKey: string, dead = false): void {
    if (this.keys.has(storeKey)) this.keys.set(storeKey, dead ? PROVEN_DEAD : MISSED)
  }

  /**
   * A load of `storeKey` stored nothing: a PROVEN_DEAD mark becomes a plain miss, so whatever
   * another process stores there is judged in full again. A hint is left as it is.
   */
  loadSkipped(storeKey: string): void {
    if (this.keys.get(storeKey) === PROVEN_DEAD) this.keys.set(storeKey, MISSED)
  }

  /** This process invalidated `tags` (or everything): hints taken before no longer hold for them. */
  invalidated(tags: readonly string[], everything: boolean): void {
    const seq = ++this.seq
    if (everything || this.bumped.size + tags.length > MAX_TAGS) {
      this.bumped.clear()
      this.floor = seq
      this.recent[seq % RECENT] = NONE
      return
    }
    for (const tag of tags) this.bumped.set(tag, seq)
    this.recent[seq % RECENT] = tags.slice() // the caller's array may be reused
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
