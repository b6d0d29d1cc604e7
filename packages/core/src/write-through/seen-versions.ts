import { OldestKeys } from '../lru-map.js'
import type { Snapshot } from '../tags/versions.js'

/** Tags remembered at most; past it the oldest is dropped (a dropped one costs a snapshot read). */
const MAX_TAGS = 10_000
/**
 * A version older than this is not used: it only ever costs a refused fill when another process
 * moved the tag since, and a bound keeps that cost to rows this process touched recently.
 */
const MAX_AGE_MS = 10_000
/** Hits and misses of reads with more tags than this (lists) are not remembered. */
export const SEEN_MAX_TAGS_PER_READ = 8

interface Seen {
  epoch: string
  version: string
  at: number
}

/**
 * Versions this process saw current in the store (a hit's, a lookup's, a write snapshot's) or
 * installed itself (a write-through's new tokens, once the store applied them), so that a
 * write-through of a row it read or wrote recently takes them as its snapshot instead of reading
 * them in a round trip before the write. Sound for any version that was current at some moment
 * before the database write began (docs/design.md, "Remembered write snapshots"): the guard only
 * ever stores the fill if the tag still holds that version at the bump.
 */
export class SeenVersions {
  private readonly seen = new Map<string, Seen>()
  private readonly oldest = new OldestKeys(this.seen)

  /** `versions[i]` of `tags[i]` under `epoch` were current in the store (just now). */
  record(epoch: string, tags: readonly string[], versions: readonly string[]): void {
    const at = performance.now()
    const seen = this.seen
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i]!
      // Updated in place (every hit of a row records its tags): no garbage per read. Eviction
      // is therefore by first sight, not last use; a tag evicted while hot costs one snapshot.
      const known = seen.get(tag)
      if (known !== undefined) {
        known.epoch = epoch
        known.version = versions[i]!
        known.at = at
        continue
      }
      if (seen.size >= MAX_TAGS) seen.delete(this.oldest.next()!)
      seen.set(tag, { epoch, version: versions[i]!, at })
    }
  }

  /** A snapshot of `tags` from what was seen, if every one was seen recently under one epoch. */
  snapshot(tags: readonly string[]): Snapshot | undefined {
    if (tags.length === 0) return undefined
    const oldest = performance.now() - MAX_AGE_MS
    const versions: string[] = []
    let epoch: string | undefined
    for (const tag of tags) {
      const seen = this.seen.get(tag)
      if (seen === undefined || seen.at < oldest) return undefined
      if (epoch === undefined) epoch = seen.epoch
      else if (seen.epoch !== epoch) return undefined
      versions.push(seen.version)
    }
    return { epoch: epoch!, tags, versions }
  }

  /** Everything was invalidated (or the store lost writes): nothing seen before is worth using. */
  clear(): void {
    this.seen.clear()
    this.oldest.restart()
  }
}
