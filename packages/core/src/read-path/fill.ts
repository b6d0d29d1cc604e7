import type { CacheContext, LocalMark } from '../cache-context.js'
import { type Entry, encodeEntry, readHead, readOwnValue, readValue } from '../entry.js'
import { OrmCacheError } from '../errors.js'
import type { EntryAddress } from '../query-key.js'
import { sameList } from '../same-list.js'
import type { Budget } from '../store/budget.js'
import { fillEntry } from '../store/store-ops.js'
import type { LeaseRef } from '../store/types.js'
import { isCurrent, type Snapshot } from '../tags/versions.js'
import { expectStoredHit } from './hit-hints.js'
import { LeaseWait, leaseOf, releaseLease, takeLease } from './lease.js'
import {
  type AfterLoad,
  fillLogged,
  guardTags,
  settleAfterLoad,
  withoutGuards,
  writeLogFor,
} from './post-load.js'
import { deadValue, lookup, sameVersions } from './store-lookup.js'

/** The asked tags of `policy` that its after-load fill replaces (none without afterLoad). */
export function guardsOf(policy: FillPolicy): readonly string[] {
  return policy.afterLoad === undefined ? NO_GUARDS : guardTags(policy.afterLoad)
}

const NO_GUARDS: readonly string[] = []

export interface FillPolicy {
  ttl: number
  tags: readonly string[]
  staleWhileRevalidate: number
  /** Dependencies known only from the loaded value (post-load.ts); `tags` holds their guards. */
  afterLoad?: AfterLoad | undefined
}

export interface LoadOutcome<T> {
  value: T
  /** The payload this process stored (never another's), from which other waiters decode their own copy. */
  raw: string | undefined
  /** Loaded by another process that held the lease. */
  fromPeer?: boolean
}

const RECHECK_AFTER_MS = 2

/**
 * The miss path: run the loader and store its result under the version snapshot that was taken
 * before it ran. `leased` is what the lookup said about the distributed lease (see lease.ts):
 * true, this cache holds it and loads; false, another process is loading, so wait for its value
 * (or for the lease to come free); undefined, the store could not decide in the lookup, so take
 * it now. `local` is where the process's invalidations stood when the snapshot was taken;
 * `missedAt` is performance.now() when the lookup was sent.
 */
export async function loadShared<T>(
  ctx: CacheContext,
  budget: Budget | undefined,
  address: EntryAddress,
  load: () => Promise<T> | T,
  snapshot: Snapshot,
  policy: FillPolicy,
  local: LocalMark,
  leased: boolean | undefined,
  missedAt: number,
): Promise<LoadOutcome<T>> {
  const lease = leaseOf(ctx, address.storeKey)
  const alone = () => loadAndFill(ctx, budget, address, load, snapshot, policy, local, undefined)
  if (lease === undefined) return alone()
  let held = leased
  if (held === undefined) {
    try {
      held = await takeLease(ctx, budget, lease)
    } catch (error) {
      ctx.reportError(error, 'lease', address.key)
      return alone()
    }
    // A previous holder may have stored its value and let go between our miss and our take.
    // That takes a whole load, so only a lease won well after the miss is worth a re-check.
    if (held && performance.now() - missedAt > RECHECK_AFTER_MS) {
      const peer = (
        await peerValue<T>(ctx, budget, address, policy, snapshot, undefined).catch(() => undefined)
      )?.peer
      if (peer !== undefined) {
        releaseLease(ctx, lease)
        return peer
      }
    }
  }
  const wait = new LeaseWait(ctx, address.storeKey, missedAt)
  while (!held) {
    if (wait.expired) return alone()
    const announced = await wait.next()
    const peer = announced === undefined ? undefined : announcedValue<T>(ctx, address, snapshot, announced)
    if (peer !== undefined) return peer
    let next: boolean | undefined
    try {
      const look = await peerValue<T>(ctx, budget, address, policy, snapshot, lease)
      if (look.peer !== undefined) return look.peer
      next = look.leased
      if (next === undefined) next = await takeLease(ctx, budget, lease)
    } catch (error) {
      ctx.reportError(error, 'lease', address.key)
      return alone()
    }
    held = next
  }
  return loadAndFill(ctx, budget, address, load, snapshot, policy, local, lease)
}

/**
 * Another process's value, if it is current, or if it was loaded under exactly our snapshot:
 * equal (never reused) tokens mean no invalidation landed between their snapshot and ours, so
 * their load started after every write that finished before this read began.
 */
async function peerValue<T>(
  ctx: CacheContext,
  budget: Budget | undefined,
  address: EntryAddress,
  policy: FillPolicy,
  snapshot: Snapshot,
  lease: LeaseRef | undefined,
): Promise<{ peer?: LoadOutcome<T>; leased?: boolean }> {
  const found = await lookup(ctx, budget, address, policy.tags, lease, guardsOf(policy))
  if (found.kind === 'hit') return { peer: { value: found.entry.value as T, raw: undefined, fromPeer: true } }
  if (found.kind !== 'miss') return {}
  const leased = found.leased
  if (found.entry === undefined || !sameVersions(found.entry.head, snapshot))
    return leased === undefined ? {} : { leased }
  const peer = await deadValue(ctx, budget, address, found.entry)
  if (peer === undefined) return leased === undefined ? {} : { leased }
  if (leased === true && lease !== undefined) releaseLease(ctx, lease)
  return { peer: { value: peer.value as T, raw: undefined, fromPeer: true } }
}

/**
 * The value of an entry the lease holder announced with its fill, if it was loaded under exactly
 * our snapshot (the rule of peerValue, which needs no store read); else the caller looks it up.
 * An announced entry that does not parse is ignored the same way.
 */
function announcedValue<T>(
  ctx: CacheContext,
  address: EntryAddress,
  snapshot: Snapshot,
  raw: string,
): LoadOutcome<T> | undefined {
  try {
    const { head, body } = readHead(raw, address.storeKey, address.identity)
    if (!sameVersions(head, snapshot)) return undefined
    return { value: readValue(ctx.codec, raw, body, address.storeKey) as T, raw: undefined, fromPeer: true }
  } catch {
    return undefined
  }
}

export async function loadAndFill<T>(
  ctx: CacheContext,
  budget: Budget | undefined,
  address: EntryAddress,
  load: () => Promise<T> | T,
  snapshot: Snapshot,
  policy: FillPolicy,
  local: LocalMark,
  lease?: LeaseRef,
): Promise<LoadOutcome<T>> {
  const hintSince = ctx.hitHints.now()
  let value: T
  try {
    value = await timedLoad(ctx, address, load)
  } catch (error) {
    if (lease !== undefined) releaseLease(ctx, lease)
    throw error
  }
  const skip = (): LoadOutcome<T> => {
    if (lease !== undefined) releaseLease(ctx, lease)
    // A key a plain read proved dead is presumed dead until its next fill (hit-hints.ts).
    ctx.hitHints.loadSkipped(address.storeKey)
    return { value, raw: undefined }
  }
  const own = withoutGuards(snapshot, policy.afterLoad)
  if (
    ctx.localEpoch !== local.epoch &&
    ctx.hitHints.bumpedSince(local.hints, own.tags) &&
    !(await stillCurrent(ctx, budget, own))
  ) {
    // This process invalidated one of our tags while we loaded. Unless that landed before our
    // snapshot was read, the value is already outdated: storing it would only overwrite a
    // fresher entry a later reader stored. Local invalidations of other tags are known here
    // without a store read (HitHints). The guard table tags are not the entry's own: the
    // after-load check below judges writes to those tables by the rows they name.
    return skip()
  }
  const negative = value === null || value === undefined
  const negativeTtl = ctx.options.negativeTtl
  if (negative && negativeTtl === false) return skip()
  const ttl = ctx.jittered(negative ? Math.min(negativeTtl as number, policy.ttl) : policy.ttl)
  const log = policy.afterLoad === undefined ? undefined : writeLogFor(ctx, budget, policy.afterLoad)
  if (log !== undefined) {
    // Checked and stored in one store operation; it releases the lease when it stores.
    const timing = { freshUntil: Date.now() + ttl, ttlMs: ttl + policy.staleWhileRevalidate }
    const logged = await fillLogged(ctx, log, address, snapshot, value, policy.afterLoad!, timing, lease)
    if (logged.entry === undefined) return logged.released === true ? { value, raw: undefined } : skip()
    ctx.stats.add('sets')
    ctx.events.emit('set', { key: address.key, bytes: logged.raw!.length })
    expectHitAfterFill(ctx, address, policy, logged.entry.tags, hintSince)
    if (ctx.l1 !== undefined && ctx.localEpoch === local.epoch) {
      ctx.l1.set(address.storeKey, { ...logged.entry, value: ctx.codec.clone(value) })
    }
    return { value, raw: logged.raw }
  }
  const stored =
    policy.afterLoad === undefined
      ? snapshot
      : await settleAfterLoad(ctx, budget, snapshot, value, policy.afterLoad)
  if (stored === undefined) return skip()
  const entry: Entry = {
    identity: address.identity,
    freshUntil: Date.now() + ttl,
    epoch: stored.epoch,
    tags: stored.tags,
    versions: stored.versions,
    value,
  }

  let raw: string
  try {
    raw = encodeEntry(ctx.codec, entry)
  } catch (error) {
    // Not cacheable (function, cycle, class instance…): the caller still gets the loaded value.
    ctx.reportError(error, 'encode', address.key)
    return skip()
  }
  try {
    // The fill and the lease release travel together.
    await fillEntry(
      ctx.store.within(budget),
      { key: address.storeKey, value: raw, ttlMs: ttl + policy.staleWhileRevalidate },
      lease,
    )
    ctx.stats.add('sets')
    ctx.events.emit('set', { key: address.key, bytes: raw.length })
    expectHitAfterFill(ctx, address, policy, entry.tags, hintSince)
    if (ctx.l1 !== undefined && ctx.localEpoch === local.epoch) {
      ctx.l1.set(address.storeKey, { ...entry, value: ctx.codec.clone(value) })
    }
  } catch (error) {
    ctx.reportError(error, 'fill', address.key)
    if (lease !== undefined) releaseLease(ctx, lease)
  }
  return { value, raw }
}

/** Sets the hit hint for an entry just stored under `stored` (hit-hints.ts `expectStoredHit`). */
function expectHitAfterFill(
  ctx: CacheContext,
  address: EntryAddress,
  policy: FillPolicy,
  stored: readonly string[],
  since: number,
): void {
  expectStoredHit(ctx, address.storeKey, sameList(stored, policy.tags) ? undefined : stored, since)
}

export async function timedLoad<T>(
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

/** Waiters that did not run the loader get their own copy, never the leader's object. */
export function copyFor<T>(ctx: CacheContext, address: EntryAddress, outcome: LoadOutcome<T>): T {
  try {
    // Only this process's own fills leave `raw` (a peer's value comes without it).
    if (outcome.raw !== undefined) return readOwnValue(ctx.codec, outcome.raw, address.storeKey) as T
    return ctx.codec.clone(outcome.value)
  } catch (error) {
    // Not serializable: there is no way to copy it, so waiters share the loaded value.
    if (!OrmCacheError.is(error)) throw error
    return outcome.value
  }
}

export function flightKey(address: EntryAddress, snapshot: Snapshot): string {
  return `${address.storeKey}|${snapshot.epoch}|${snapshot.versions.join('|')}`
}

async function stillCurrent(
  ctx: CacheContext,
  budget: Budget | undefined,
  snapshot: Snapshot,
): Promise<boolean> {
  try {
    const current = await ctx.store.getMany(ctx.tags.storeKeys(snapshot.tags), budget)
    return isCurrent(snapshot, current[0], current.slice(1))
  } catch {
    return false
  }
}
