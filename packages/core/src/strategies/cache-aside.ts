import type { CacheContext } from '../context.js'
import { decodeEntry, encodeEntry } from '../entry.js'
import { OrmCacheError } from '../errors.js'
import type { MissReason } from '../events.js'
import type { Invalidator } from '../invalidation.js'
import type { EntryAddress } from '../keys.js'
import { lookup, snapshotFor } from '../read-path.js'
import { isCurrent, type Snapshot } from '../tags.js'

/** Where a `wrap` result came from. */
export type ReadSource =
  /** A fresh cached value. */
  | 'hit'
  /** An expired value served inside its stale-while-revalidate window; a refresh was started. */
  | 'stale'
  /** This call ran the loader (and filled the cache if it could). */
  | 'miss'
  /** Another concurrent call ran the loader; this one received its result. */
  | 'shared'
  /** The store was skipped (unavailable, or an invalidation is still pending); the loader ran. */
  | 'bypass'

export interface ReadInfo {
  source: ReadSource
  /** Why the cached value was not used (for miss, shared and bypass). */
  reason?: MissReason | 'invalidation-pending'
}

export interface ReadPolicy {
  ttl: number
  tags: readonly string[]
  staleWhileRevalidate: number
}

interface LoadOutcome<T> {
  value: T
  /** The stored payload, from which other waiters decode their own copy. */
  raw: string | undefined
}

/**
 * Cache-aside (lazy loading). Read the entry and its tag versions in one round trip; on a miss,
 * keep those versions as the snapshot, run the loader once per (key, snapshot) in this process,
 * and store the result under the snapshot. An invalidation that lands while the loader runs
 * makes the stored entry invalid, so a slow reader can never leave a stale entry behind.
 */
export async function cacheAside<T>(
  ctx: CacheContext,
  invalidator: Invalidator,
  key: string,
  load: () => Promise<T> | T,
  policy: ReadPolicy,
): Promise<{ value: T; info: ReadInfo }> {
  const address = ctx.keys.entry(key)
  if (invalidator.pending) {
    // Try to apply the pending invalidations first; only a successful flush re-enables the store.
    if ((await invalidator.flush()) === undefined) {
      return bypass(ctx, address, load, 'invalidation-pending')
    }
  }

  let snapshot: Snapshot
  let reason: MissReason
  const localEpoch = ctx.localEpoch
  try {
    const found = await lookup(ctx, address, policy.tags)
    if (found.kind === 'hit') {
      ctx.stats.add('hits')
      ctx.events.emit('hit', { key })
      return { value: found.entry.value as T, info: { source: 'hit' } }
    }
    if (
      found.kind === 'stale' &&
      policy.staleWhileRevalidate > 0 &&
      withinGrace(found.entry.freshUntil, policy)
    ) {
      ctx.stats.add('staleHits')
      ctx.events.emit('stale', { key })
      const refreshSnapshot = await snapshotFor(ctx, policy.tags, found.current)
      refreshInBackground(ctx, address, load, refreshSnapshot, policy, localEpoch)
      return { value: found.entry.value as T, info: { source: 'stale' } }
    }
    reason = found.kind === 'stale' ? 'expired' : found.reason
    snapshot = await snapshotFor(ctx, policy.tags, found.current)
  } catch (error) {
    ctx.reportError(error, 'read', key)
    return bypass(ctx, address, load, 'store-unavailable')
  }

  ctx.stats.add('misses')
  ctx.events.emit('miss', { key, reason })
  const flight = ctx.flights.run(flightKey(address, snapshot), () =>
    loadAndFill(ctx, address, load, snapshot, policy, localEpoch),
  )
  const outcome = await flight.promise
  if (flight.leader) return { value: outcome.value, info: { source: 'miss', reason } }
  return { value: copyFor(ctx, address, outcome), info: { source: 'shared', reason } }
}

function withinGrace(freshUntil: number, policy: ReadPolicy): boolean {
  return Date.now() < freshUntil + policy.staleWhileRevalidate
}

/**
 * Runs the loader without the store. Concurrent calls still share one load, but only within
 * one local invalidation epoch (see CacheContext.localEpoch).
 */
async function bypass<T>(
  ctx: CacheContext,
  address: EntryAddress,
  load: () => Promise<T> | T,
  reason: ReadInfo['reason'],
): Promise<{ value: T; info: ReadInfo }> {
  ctx.stats.add('misses')
  ctx.events.emit('miss', { key: address.key, reason: 'store-unavailable' })
  const flight = ctx.flights.run(`${address.storeKey}|local|${ctx.localEpoch}`, async () => ({
    value: await timedLoad(ctx, address, load),
    raw: undefined,
  }))
  const outcome = await flight.promise
  return { value: outcome.value, info: { source: 'bypass', reason } }
}

function refreshInBackground<T>(
  ctx: CacheContext,
  address: EntryAddress,
  load: () => Promise<T> | T,
  snapshot: Snapshot,
  policy: ReadPolicy,
  localEpoch: number,
): void {
  const key = flightKey(address, snapshot)
  if (ctx.flights.has(key)) return
  ctx.flights
    .run(key, () => loadAndFill(ctx, address, load, snapshot, policy, localEpoch))
    .promise.catch((error: unknown) => {
      ctx.reportError(error, 'refresh', address.key)
    })
}

async function loadAndFill<T>(
  ctx: CacheContext,
  address: EntryAddress,
  load: () => Promise<T> | T,
  snapshot: Snapshot,
  policy: ReadPolicy,
  localEpoch: number,
): Promise<LoadOutcome<T>> {
  const value = await timedLoad(ctx, address, load)
  if (ctx.localEpoch !== localEpoch && !(await stillCurrent(ctx, snapshot))) {
    // This process invalidated something while we loaded. If it hit our tags, the value is
    // already outdated: storing it would only overwrite a fresher entry a later reader stored.
    return { value, raw: undefined }
  }
  const negative = value === null || value === undefined
  const negativeTtl = ctx.options.negativeTtl
  if (negative && negativeTtl === false) return { value, raw: undefined }
  const ttl = ctx.jittered(negative ? Math.min(negativeTtl as number, policy.ttl) : policy.ttl)

  let raw: string
  try {
    raw = encodeEntry(ctx.codec, {
      identity: address.identity,
      freshUntil: Date.now() + ttl,
      epoch: snapshot.epoch,
      tags: snapshot.tags,
      versions: snapshot.versions,
      value,
    })
  } catch (error) {
    // Not cacheable (function, cycle, class instance…): the caller still gets the loaded value.
    ctx.reportError(error, 'encode', address.key)
    return { value, raw: undefined }
  }
  try {
    await ctx.store.set(address.storeKey, raw, ttl + policy.staleWhileRevalidate)
    ctx.stats.add('sets')
    ctx.events.emit('set', { key: address.key, bytes: raw.length })
  } catch (error) {
    ctx.reportError(error, 'fill', address.key)
  }
  return { value, raw }
}

async function timedLoad<T>(
  ctx: CacheContext,
  address: EntryAddress,
  load: () => Promise<T> | T,
): Promise<T> {
  const started = performance.now()
  try {
    const value = await load()
    const ms = performance.now() - started
    ctx.stats.add('loads')
    ctx.stats.loadLatency.record(ms)
    ctx.events.emit('load', { key: address.key, ms, ok: true })
    return value
  } catch (error) {
    const ms = performance.now() - started
    ctx.stats.add('loadErrors')
    ctx.events.emit('load', { key: address.key, ms, ok: false })
    // The loader's own error reaches every waiter unchanged; it is never cached.
    throw error
  }
}

/** Waiters that did not run the loader get their own decoded copy, never the leader's object. */
function copyFor<T>(ctx: CacheContext, address: EntryAddress, outcome: LoadOutcome<T>): T {
  try {
    if (outcome.raw !== undefined)
      return decodeEntry(ctx.codec, outcome.raw, address.storeKey, address.identity).value as T
    return ctx.codec.clone(outcome.value)
  } catch (error) {
    // Not serializable: there is no way to copy it, so waiters share the loaded value.
    if (!OrmCacheError.is(error)) throw error
    return outcome.value
  }
}

async function stillCurrent(ctx: CacheContext, snapshot: Snapshot): Promise<boolean> {
  try {
    const current = await ctx.store.getMany(ctx.tags.storeKeys(snapshot.tags))
    return isCurrent(snapshot, current[0], current.slice(1))
  } catch {
    return false
  }
}

function flightKey(address: EntryAddress, snapshot: Snapshot): string {
  return `${address.storeKey}|${snapshot.epoch}|${snapshot.versions.join('|')}`
}
