import type { CacheContext } from './context.js'
import { decodeEntry, type Entry, encodeEntry } from './entry.js'
import { OrmCacheError } from './errors.js'
import type { EntryAddress } from './keys.js'
import { withLease } from './lease.js'
import { type AfterLoad, settleAfterLoad } from './post-load.js'
import { lookup } from './read-path.js'
import { isCurrent, type Snapshot } from './tags.js'

export interface FillPolicy {
  ttl: number
  tags: readonly string[]
  staleWhileRevalidate: number
  /** Dependencies known only from the loaded value (post-load.ts); `tags` holds their guards. */
  afterLoad?: AfterLoad | undefined
}

export interface LoadOutcome<T> {
  value: T
  /** The stored payload, from which other waiters decode their own copy. */
  raw: string | undefined
  /** Loaded by another process that held the lease. */
  fromPeer?: boolean
}

/**
 * The miss path: under a distributed lease, run the loader and store its result under the
 * version snapshot that was taken before it ran. `localEpoch` is the process's invalidation
 * counter when the snapshot was taken.
 */
export function loadUnderLease<T>(
  ctx: CacheContext,
  address: EntryAddress,
  load: () => Promise<T> | T,
  snapshot: Snapshot,
  policy: FillPolicy,
  localEpoch: number,
): Promise<LoadOutcome<T>> {
  return withLease(
    ctx,
    address.storeKey,
    async () => {
      const found = await lookup(ctx, address, policy.tags)
      // Another process's value counts if it is current, or if it was loaded under exactly our
      // snapshot: equal (never reused) tokens mean no invalidation landed between their snapshot
      // and ours, so their load started after every write that finished before this read began.
      const entry = found.kind === 'hit' || found.kind === 'miss' ? found.entry : undefined
      const usable = found.kind === 'hit' || (entry !== undefined && sameSnapshot(entry, snapshot))
      return usable && entry !== undefined
        ? { value: entry.value as T, raw: undefined, fromPeer: true }
        : undefined
    },
    () => loadAndFill(ctx, address, load, snapshot, policy, localEpoch),
  )
}

export async function loadAndFill<T>(
  ctx: CacheContext,
  address: EntryAddress,
  load: () => Promise<T> | T,
  snapshot: Snapshot,
  policy: FillPolicy,
  localEpoch: number,
): Promise<LoadOutcome<T>> {
  const value = await timedLoad(ctx, address, load)
  if (ctx.localEpoch !== localEpoch && !(await stillCurrent(ctx, snapshot))) {
    // This process invalidated something while we loaded. If it hit our tags, the value is
    // already outdated: storing it would only overwrite a fresher entry a later reader stored.
    return { value, raw: undefined }
  }
  const stored =
    policy.afterLoad === undefined ? snapshot : await settleAfterLoad(ctx, snapshot, value, policy.afterLoad)
  if (stored === undefined) return { value, raw: undefined }
  const negative = value === null || value === undefined
  const negativeTtl = ctx.options.negativeTtl
  if (negative && negativeTtl === false) return { value, raw: undefined }
  const ttl = ctx.jittered(negative ? Math.min(negativeTtl as number, policy.ttl) : policy.ttl)
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
    return { value, raw: undefined }
  }
  try {
    await ctx.store.set(address.storeKey, raw, ttl + policy.staleWhileRevalidate)
    ctx.stats.add('sets')
    ctx.events.emit('set', { key: address.key, bytes: raw.length })
    if (ctx.l1 !== undefined && ctx.localEpoch === localEpoch) {
      ctx.l1.set(address.storeKey, { ...entry, value: ctx.codec.clone(value) })
    }
  } catch (error) {
    ctx.reportError(error, 'fill', address.key)
  }
  return { value, raw }
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
    if (outcome.raw !== undefined)
      return decodeEntry(ctx.codec, outcome.raw, address.storeKey, address.identity).value as T
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

async function stillCurrent(ctx: CacheContext, snapshot: Snapshot): Promise<boolean> {
  try {
    const current = await ctx.store.getMany(ctx.tags.storeKeys(snapshot.tags))
    return isCurrent(snapshot, current[0], current.slice(1))
  } catch {
    return false
  }
}

function sameSnapshot(entry: Entry, snapshot: Snapshot): boolean {
  if (entry.epoch !== snapshot.epoch || entry.tags.length !== snapshot.tags.length) return false
  for (let i = 0; i < entry.tags.length; i++) {
    if (entry.tags[i] !== snapshot.tags[i] || entry.versions[i] !== snapshot.versions[i]) return false
  }
  return true
}
