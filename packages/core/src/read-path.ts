import type { CacheContext } from './context.js'
import { type Entry, type EntryHead, readHead, readValue } from './entry.js'
import type { MissReason } from './events.js'
import type { EntryAddress } from './keys.js'
import { leaseTtl, releaseLease } from './lease.js'
import { lookupEntry } from './store-ops.js'
import type { LeaseRef } from './stores/types.js'
import { isCurrent, type Snapshot } from './tags.js'

export type Lookup =
  /** The store answered, but its data set is not known to be the one the epoch was written on. */
  | { kind: 'untrusted' }
  | { kind: 'hit'; entry: Entry }
  | { kind: 'stale'; entry: Entry; current: Snapshot }
  /** `entry` is the head of an entry that was found but is no longer current. */
  | {
      kind: 'miss'
      reason: MissReason
      current: Snapshot
      entry?: DeadEntry
      /** true: this process holds the lease; false: another does; undefined: not decided. */
      leased: boolean | undefined
    }

export interface DeadEntry {
  head: EntryHead
  raw: string
  /** Offset of the payload in `raw`; -1 when the store sent only the head. */
  body: number
}

/**
 * Reads an entry together with the current versions of the namespace epoch and `tags` in one
 * store round trip, creating missing versions in the same trip (a missing version is a change,
 * and the miss that follows needs a token to snapshot). With `lease`, a store that can see the
 * entry is dead (Redis) also takes the lease in that trip. The entry's head is checked before its
 * payload is parsed, so a dead entry costs no decode. Only if the stored entry depends on other
 * tags than the ones asked for (a plain `get`) does a second read fetch those versions.
 * `current` is what a miss must snapshot: it was read before any loader runs.
 * Store faults reject; the caller decides how to fail open.
 */
export async function lookup(
  ctx: CacheContext,
  address: EntryAddress,
  tags: readonly string[],
  lease?: LeaseRef,
): Promise<Lookup> {
  const started = performance.now()
  const reply = await lookupEntry(ctx.store, {
    entryKey: address.storeKey,
    keys: ctx.tags.storeKeys(tags),
    token: ctx.lineage.token(),
    tagTtlMs: ctx.options.tagTtl,
    lease: lease === undefined ? undefined : { ...lease, ttlMs: leaseTtl(ctx) },
  })
  ctx.stats.readLatency.record(performance.now() - started)
  const versions = reply.versions
  const leased = reply.leased
  const epoch = await ctx.lineage.verify(versions[0]!)
  if (epoch === undefined) {
    if (leased === true && lease !== undefined) releaseLease(ctx, lease)
    return { kind: 'untrusted' }
  }
  const current: Snapshot = { epoch, tags, versions: versions.slice(1) }
  const raw = reply.entry
  if (raw === undefined) return { kind: 'miss', reason: 'absent', current, leased }
  // The epoch was just moved (the store lost writes): whatever was stored before is dead.
  if (epoch !== versions[0]) return { kind: 'miss', reason: 'invalidated', current, leased }

  let head: EntryHead
  let body: number
  try {
    ;({ head, body } = readHead(raw, address.storeKey, address.identity))
  } catch (error) {
    ctx.reportError(error, 'decode', address.key)
    return { kind: 'miss', reason: 'corrupt', current, leased }
  }

  const valid = sameTags(head.tags, tags)
    ? isCurrent(head, current.epoch, current.versions)
    : isCurrent(head, current.epoch, await ctx.store.getMany(ctx.tags.storeKeys(head.tags).slice(1)))
  if (!valid) return { kind: 'miss', reason: 'invalidated', current, entry: { head, raw, body }, leased }

  let entry: Entry
  try {
    // The store trimmed an entry it judged dead by the asked-for tags, yet by its own tags it is
    // current (the caller changed the tags of this key): fetch it whole.
    const full = body === -1 ? await ctx.store.get(address.storeKey) : raw
    const at = body === -1 ? wholeBody(full, address, head) : body
    entry = { ...head, value: readValue(ctx.codec, full ?? '', at, address.storeKey) }
  } catch (error) {
    ctx.reportError(error, 'decode', address.key)
    return { kind: 'miss', reason: 'corrupt', current, leased }
  }
  // A store that took the lease for an entry we find usable (clock-free judgement differs only
  // for corrupt payloads, handled above): give it back.
  if (leased === true && lease !== undefined) releaseLease(ctx, lease)
  if (Date.now() < entry.freshUntil) return { kind: 'hit', entry }
  return { kind: 'stale', entry, current }
}

/**
 * The value of a dead entry, for a waiter that may use another process's load made under its own
 * snapshot. Fetches the payload only when the store sent just the head.
 */
export async function deadValue(
  ctx: CacheContext,
  address: EntryAddress,
  dead: DeadEntry,
): Promise<{ value: unknown } | undefined> {
  if (dead.body !== -1) return { value: readValue(ctx.codec, dead.raw, dead.body, address.storeKey) }
  const raw = await ctx.store.get(address.storeKey)
  if (raw === undefined) return undefined
  const { head, body } = readHead(raw, address.storeKey, address.identity)
  if (!sameVersions(head, dead.head)) return undefined
  return { value: readValue(ctx.codec, raw, body, address.storeKey) }
}

/** Where the payload of a re-fetched entry starts, or -1 if it is no longer the entry we judged. */
function wholeBody(raw: string | undefined, address: EntryAddress, judged: EntryHead): number {
  if (raw === undefined) return -1
  const again = readHead(raw, address.storeKey, address.identity)
  return sameVersions(again.head, judged) ? again.body : -1
}

/** Same namespace epoch, same tags, same version of each. */
export function sameVersions(
  a: { epoch: string; tags: readonly string[]; versions: readonly string[] },
  b: { epoch: string; tags: readonly string[]; versions: readonly string[] },
): boolean {
  if (a.epoch !== b.epoch || !sameTags(a.tags, b.tags)) return false
  for (let i = 0; i < a.versions.length; i++) if (a.versions[i] !== b.versions[i]) return false
  return true
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
