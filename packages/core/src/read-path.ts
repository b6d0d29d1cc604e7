import type { CacheContext } from './context.js'
import { decodeEntry, type Entry } from './entry.js'
import type { MissReason } from './events.js'
import type { EntryAddress } from './keys.js'
import { isCurrent, type Snapshot } from './tags.js'

export type Lookup =
  | { kind: 'hit'; entry: Entry }
  | { kind: 'stale'; entry: Entry; current: readonly (string | undefined)[] }
  /** `entry` is set when an entry was found but is no longer current. */
  | { kind: 'miss'; reason: MissReason; current: readonly (string | undefined)[]; entry?: Entry }

/**
 * Reads an entry together with the current versions of the namespace epoch and `tags` in one
 * store round trip. Only if the stored entry depends on other tags than the ones asked for (a
 * plain `get`, or a caller that changed its tags) does a second read fetch those versions.
 * `current` is what a miss must snapshot: it was read before any loader runs.
 * Store faults reject; the caller decides how to fail open.
 */
export async function lookup(
  ctx: CacheContext,
  address: EntryAddress,
  tags: readonly string[],
): Promise<Lookup> {
  const versionKeys = ctx.tags.storeKeys(tags)
  const started = performance.now()
  const values = await ctx.store.getMany([address.storeKey, ...versionKeys])
  ctx.stats.readLatency.record(performance.now() - started)
  const raw = values[0]
  const current = values.slice(1)
  if (raw === undefined) return { kind: 'miss', reason: 'absent', current }

  let entry: Entry
  try {
    entry = decodeEntry(ctx.codec, raw, address.storeKey, address.identity)
  } catch (error) {
    ctx.reportError(error, 'decode', address.key)
    return { kind: 'miss', reason: 'corrupt', current }
  }

  const entryVersions = sameTags(entry.tags, tags)
    ? current.slice(1)
    : await ctx.store.getMany(ctx.tags.storeKeys(entry.tags).slice(1))
  if (!isCurrent(entry, current[0], entryVersions))
    return { kind: 'miss', reason: 'invalidated', current, entry }
  if (Date.now() < entry.freshUntil) return { kind: 'hit', entry }
  return { kind: 'stale', entry, current }
}

/** The snapshot a fill must carry: versions read before loading, missing ones created now. */
export function snapshotFor(
  ctx: CacheContext,
  tags: readonly string[],
  current: readonly (string | undefined)[],
): Promise<Snapshot> {
  return ctx.tags.resolve(ctx.store, tags, ctx.tags.storeKeys(tags), current)
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
