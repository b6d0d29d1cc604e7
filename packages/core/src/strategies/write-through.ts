import type { CacheContext } from '../context.js'
import { writeEntry } from '../entry.js'
import type { Invalidator } from '../invalidation.js'
import { newToken, type Snapshot } from '../tags.js'

export interface WriteCommit {
  /** Tags the committed write changed (table and row tags, …). */
  invalidate: readonly string[]
  /** Also invalidate the whole namespace (e.g. unparsed raw SQL). */
  everything?: boolean
  /** The row the write returned, to store as the primary-key lookup's entry. */
  fill?: { key: string; value: unknown; ttl?: number }
}

/**
 * What `commit` did with the fill: stored it, skipped it because another write raced this one
 * (or none was asked for), or could not use the store (a fault was reported as an error event).
 */
export type WriteOutcome = 'filled' | 'skipped' | 'unavailable'

/** Begun before the database write; committed after the database commit. */
export interface WriteIntent {
  commit(result: WriteCommit): Promise<WriteOutcome>
}

/**
 * Write-through, guarded so that it can never store a value older than the database:
 *
 * 1. Before the write, snapshot the versions of the fill's tags (row tag, bulk tag).
 * 2. After the commit, move each fill tag that the write invalidates (the row tag) from its
 *    snapshot version to a new token with compare-and-set. If any CAS fails, another writer
 *    bumped the tag since our snapshot and may have committed after us: plain-bump it and skip
 *    the fill. Tags the write does not bump (the bulk tag) keep their snapshot version, so a
 *    bulk write that landed meanwhile also makes the filled entry invalid.
 * 3. Store the returned row under exactly those versions.
 *
 * A concurrent writer that commits after us always bumps after its own commit, so whichever
 * order the bumps land in, the entry holding our row is invalid once their write resolves.
 */
export async function beginWrite(
  ctx: CacheContext,
  invalidator: Invalidator,
  fillTags: readonly string[],
): Promise<WriteIntent> {
  let snapshot: Snapshot | undefined
  let faulted = false
  // Like get/set: apply pending invalidations first; if the store refuses them, skip the fill.
  if (fillTags.length > 0 && invalidator.pending) faulted = (await invalidator.flush()) === undefined
  if (fillTags.length > 0 && !faulted) {
    try {
      const keys = ctx.tags.storeKeys(fillTags)
      snapshot = await ctx.tags.resolve(ctx.store, fillTags, keys, await ctx.store.getMany(keys))
    } catch (error) {
      ctx.reportError(error, 'write-snapshot')
      faulted = true
    }
  }
  return { commit: (result) => commitWrite(ctx, invalidator, snapshot, faulted, result) }
}

async function commitWrite(
  ctx: CacheContext,
  invalidator: Invalidator,
  snapshot: Snapshot | undefined,
  snapshotFaulted: boolean,
  result: WriteCommit,
): Promise<WriteOutcome> {
  let faulted = snapshotFaulted
  const invalidate = [...new Set(result.invalidate)]
  const guarded =
    snapshot === undefined || result.fill === undefined
      ? []
      : invalidate.filter((t) => snapshot.tags.includes(t))
  const plain = invalidate.filter((tag) => !guarded.includes(tag))

  const fresh = new Map<string, string>()
  let fillAllowed = snapshot !== undefined && result.fill !== undefined && !result.everything
  // Plain (coarse) bumps first, guarded (row) tags after: see TagVersions.bump for why fine tags
  // must never become visible before the coarse tags of the same write.
  const retry: string[] = []
  if (plain.length > 0 || result.everything) {
    const applied = await invalidator.invalidate(plain, result.everything === true)
    if (applied === undefined) {
      fillAllowed = false
      faulted = true
      retry.push(...guarded)
    }
  }
  if (guarded.length > 0 && snapshot !== undefined && !faulted) {
    ctx.localEpoch += 1
    try {
      const outcomes = await Promise.all(
        guarded.map(async (tag) => {
          const token = newToken()
          const expected = snapshot.versions[snapshot.tags.indexOf(tag)]!
          const swapped = await ctx.store.compareAndSet(
            ctx.keys.tag(tag),
            expected,
            token,
            ctx.options.tagTtl,
          )
          if (swapped) fresh.set(tag, token)
          return swapped ? undefined : tag
        }),
      )
      const lost = outcomes.filter((tag): tag is string => tag !== undefined)
      if (lost.length > 0) {
        fillAllowed = false
        retry.push(...lost)
      } else {
        ctx.stats.add('invalidations', guarded.length)
        ctx.events.emit('invalidate', { tags: guarded, everything: false })
      }
    } catch (error) {
      ctx.reportError(error, 'write-through')
      fillAllowed = false
      faulted = true
      retry.push(...guarded)
    }
  }
  if (retry.length > 0) {
    const applied = await invalidator.invalidate(retry)
    if (applied === undefined) {
      fillAllowed = false
      faulted = true
    }
  }
  if (!fillAllowed || snapshot === undefined || result.fill === undefined) {
    return faulted ? 'unavailable' : 'skipped'
  }

  const fill = result.fill
  try {
    const address = ctx.keys.entry(fill.key)
    const ttl = ctx.jittered(fill.ttl ?? ctx.options.ttl)
    const versions = snapshot.tags.map((tag, i) => fresh.get(tag) ?? snapshot.versions[i]!)
    const raw = writeEntry(
      {
        identity: address.identity,
        freshUntil: Date.now() + ttl,
        epoch: snapshot.epoch,
        tags: snapshot.tags,
        versions,
      },
      ctx.codec.encode(fill.value),
    )
    await ctx.store.set(address.storeKey, raw, ttl)
    ctx.stats.add('sets')
    ctx.events.emit('set', { key: fill.key, bytes: raw.length })
    return 'filled'
  } catch (error) {
    ctx.reportError(error, 'write-through', fill.key)
    return 'unavailable'
  }
}
