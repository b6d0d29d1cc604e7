import type { CacheContext, LocalMark } from '../cache-context.js'
import type { MissReason } from '../events.js'
import type { EntryAddress } from '../query-key.js'
import type { Budget } from '../store/budget.js'
import type { Invalidator } from '../tags/invalidation.js'
import type { Snapshot } from '../tags/versions.js'
import { SEEN_MAX_TAGS_PER_READ } from '../write-through/seen-versions.js'
import { copyFor, type FillPolicy, flightKey, guardsOf, loadAndFill, loadShared, timedLoad } from './fill.js'
import { readL1 } from './l1-read.js'
import { leaseOf } from './lease.js'
import { DEAD, expectsHit, plainHit } from './plain-hit.js'

/** Where a `wrap` result came from. */
export type ReadSource =
  /** A fresh cached value (`tier` says whether from the in-process L1 or the store). */
  | 'hit'
  /** An expired value served inside its stale-while-revalidate window; a refresh was started. */
  | 'stale'
  /** This call ran the loader (and filled the cache if it could). */
  | 'miss'
  /** Another concurrent call (or another process holding the lease) loaded; this one got its result. */
  | 'shared'
  /** The store was skipped (unavailable, recovering, or an invalidation is pending); the loader ran. */
  | 'bypass'

export interface ReadInfo {
  source: ReadSource
  tier?: 'l1' | 'l2'
  /** Why the cached value was not used (for miss, shared and bypass). */
  reason?: MissReason | 'invalidation-pending' | 'store-recovering'
}

/** A read's result with what observers measure; `wrapWithInfo` hands callers only value and info. */
export interface ReadOutcome<T> {
  value: T
  info: ReadInfo
  /** Length of the stored entry this read decoded (hit, stale) or wrote (miss); 0 when none. */
  bytes: number
  /** Store round trips this call made itself: the lookup (and its re-reads) and the fill. */
  roundTrips: number
}

export type ReadPolicy = FillPolicy

/**
 * Cache-aside (lazy loading). Read the entry and its tag versions in one round trip; on a miss,
 * keep those versions as the snapshot, run the loader once per (key, snapshot) in this process
 * (and once per fleet under a lease), and store the result under the snapshot. An invalidation
 * that lands while the loader runs makes the stored entry invalid, so a slow reader can never
 * leave a stale entry behind. `budget` bounds the read's store calls in total (budget.ts).
 */
export async function cacheAside<T>(
  ctx: CacheContext,
  budget: Budget | undefined,
  invalidator: Invalidator,
  key: string,
  load: () => Promise<T> | T,
  policy: ReadPolicy,
): Promise<ReadOutcome<T>> {
  const address = ctx.keys.entry(key)
  if (invalidator.pending && !(await invalidator.settle(budget))) {
    // Only a successful flush of the pending invalidations makes the store trustworthy again.
    return bypass(ctx, address, load, 'invalidation-pending')
  }
  const recovery = ctx.recoveringUntil
  if (recovery > 0 && performance.now() < recovery) return bypass(ctx, address, load, 'store-recovering')

  let snapshot: Snapshot
  let reason: MissReason
  let leased: boolean | undefined
  let missedAt: number
  const local = ctx.localMark()
  try {
    if (ctx.l1 !== undefined) {
      const near = await readL1(ctx, budget, address, policy.tags, guardsOf(policy))
      // A call that was the half-open probe of a recovering store must not trust what it read.
      if (ctx.recoveringUntil !== recovery) return bypass(ctx, address, load, 'store-recovering')
      if (near !== undefined) return hit(ctx, key, ctx.codec.clone(near.value as T), 'l1')
    }

    missedAt = performance.now()
    // A key expected to hit is read plainly (plain-hit.ts), outside the lookup batch: a hit
    // needs no lease and no merging. Anything else takes the full lookup, batched as before.
    const plain = expectsHit(ctx, address, policy.tags)
    const read = plain ? await plainHit(ctx, budget, address, policy.tags, guardsOf(policy)) : undefined
    let found = read === DEAD ? undefined : read
    if (found === undefined) {
      found = await ctx.lookups.lookup(
        ctx,
        budget,
        address,
        policy.tags,
        leaseOf(ctx, address.storeKey),
        guardsOf(policy),
      )
      // The plain read that came back without a hit was a round trip too.
      if (plain && (found.kind === 'hit' || found.kind === 'stale'))
        found = { ...found, trips: found.trips + 1 }
    }
    if (ctx.recoveringUntil !== recovery || found.kind === 'untrusted')
      return bypass(ctx, address, load, 'store-recovering')
    if (found.kind === 'hit') {
      const entry = found.entry
      if (entry.tags.length <= SEEN_MAX_TAGS_PER_READ)
        ctx.seenVersions.record(entry.epoch, entry.tags, entry.versions)
      if (ctx.l1 !== undefined && ctx.localEpoch === local.epoch) {
        ctx.l1.set(address.storeKey, { ...found.entry, value: ctx.codec.clone(found.entry.value) })
      }
      return hit(ctx, key, found.entry.value as T, 'l2', found.bytes, found.trips)
    }
    if (found.kind === 'stale' && Date.now() < found.entry.freshUntil + policy.staleWhileRevalidate) {
      ctx.stats.add('staleHits')
      ctx.events.emit('stale', { key })
      refreshInBackground(ctx, address, load, found.current, policy, local)
      return {
        value: found.entry.value as T,
        info: { source: 'stale' },
        bytes: found.bytes,
        roundTrips: found.trips,
      }
    }
    reason = found.kind === 'stale' ? 'expired' : found.reason
    leased = found.kind === 'miss' ? found.leased : undefined
    snapshot = found.current
    if (snapshot.tags.length <= SEEN_MAX_TAGS_PER_READ)
      ctx.seenVersions.record(snapshot.epoch, snapshot.tags, snapshot.versions)
  } catch (error) {
    ctx.reportError(error, 'read', key)
    return bypass(ctx, address, load, 'store-unavailable')
  }

  ctx.stats.add('misses')
  ctx.events.emit('miss', { key, reason })
  const flight = ctx.flights.run(flightKey(address, snapshot), () =>
    loadShared(ctx, budget, address, load, snapshot, policy, local, leased, missedAt),
  )
  const outcome = await flight.promise
  // The lookup, plus the fill when this call stored the value it loaded.
  const bytes = outcome.raw?.length ?? 0
  if (flight.leader) {
    const source = outcome.fromPeer ? 'shared' : 'miss'
    return { value: outcome.value, info: { source, reason }, bytes, roundTrips: bytes > 0 ? 2 : 1 }
  }
  return {
    value: copyFor(ctx, address, outcome),
    info: { source: 'shared', reason },
    bytes: 0,
    roundTrips: 1,
  }
}

function hit<T>(
  ctx: CacheContext,
  key: string,
  value: T,
  tier: 'l1' | 'l2',
  bytes = 0,
  roundTrips = 0,
): ReadOutcome<T> {
  ctx.stats.add('hits')
  if (tier === 'l1') ctx.stats.add('l1Hits')
  // The event object only when someone listens: a hit is the hot path, and nobody listening is
  // the common case.
  if (ctx.events.has('hit')) ctx.events.emit('hit', { key })
  return { value, info: { source: 'hit', tier }, bytes, roundTrips }
}

/**
 * Runs the loader without the store. Concurrent calls share a load only if it starts after they
 * did (SingleFlight.runFresh): with no version snapshot to compare, a load that began earlier
 * may predate a write another process committed (and could not announce) in between.
 */
async function bypass<T>(
  ctx: CacheContext,
  address: EntryAddress,
  load: () => Promise<T> | T,
  reason: NonNullable<ReadInfo['reason']>,
): Promise<ReadOutcome<T>> {
  ctx.stats.add('misses')
  ctx.events.emit('miss', { key: address.key, reason: 'store-unavailable' })
  const flight = ctx.flights.runFresh(`${address.storeKey}|bypass`, async () => ({
    value: await timedLoad(ctx, address, load),
    raw: undefined,
  }))
  const outcome = await flight.promise
  const value = flight.leader ? outcome.value : copyFor(ctx, address, outcome)
  return { value, info: { source: 'bypass', reason }, bytes: 0, roundTrips: 0 }
}

function refreshInBackground<T>(
  ctx: CacheContext,
  address: EntryAddress,
  load: () => Promise<T> | T,
  snapshot: Snapshot,
  policy: ReadPolicy,
  local: LocalMark,
): void {
  const key = flightKey(address, snapshot)
  if (ctx.flights.has(key)) return
  // Not part of the caller's operation: it gets its own store budget.
  ctx.flights
    .run(key, () => loadAndFill(ctx, ctx.budget(), address, load, snapshot, policy, local))
    .promise.catch((error: unknown) => {
      ctx.reportError(error, 'refresh', address.key)
    })
}
