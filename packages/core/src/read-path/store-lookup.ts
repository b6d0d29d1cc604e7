import type { CacheContext } from '../cache-context.js'
import { type Entry, type EntryHead, readHead, readValue } from '../entry.js'
import type { MissReason } from '../events.js'
import type { EntryAddress } from '../query-key.js'
import { sameList } from '../same-list.js'
import type { Budget } from '../store/budget.js'
import { lookupEntry } from '../store/store-ops.js'
import type { LeaseRef } from '../store/types.js'
import { PerTagsArray } from '../tags/per-tags-array.js'
import { isCurrent, type Snapshot } from '../tags/versions.js'
import { leaseTtl, releaseLease } from './lease.js'

export type Lookup =
  /** The store answered, but its data set is not known to be the one the epoch was written on. */
  | { kind: 'untrusted' }
  /** `bytes`: the stored entry's length; `trips`: store round trips the lookup took. */
  | { kind: 'hit'; entry: Entry; bytes: number; trips: number }
  | { kind: 'stale'; entry: Entry; current: Snapshot; bytes: number; trips: number }
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
 * payload is parsed, so a dead entry costs no decode. An entry that depends on other tags than the
 * ones asked for (afterLoad's fine tags, or a plain `get`) is judged by its own tags: by the
 * store inside the lookup when it can (single-node Redis, `tagKeyPrefix` / `ownCurrent`); else
 * their versions are read in the same trip when this process has seen that entry's tags before
 * (ctx.headTags), and by a second read otherwise.
 * `current` is what a miss must snapshot: it was read before any loader runs.
 * Store faults reject; the caller decides how to fail open. `budget` bounds its store calls.
 */
export async function lookup(
  ctx: CacheContext,
  budget: Budget | undefined,
  address: EntryAddress,
  tags: readonly string[],
  lease?: LeaseRef,
  /** The asked tags an after-load fill replaces by fine tags (post-load.ts guardTags). */
  guards: readonly string[] = [],
): Promise<Lookup> {
  const unknownServer = ctx.lineage.ready()
  if (unknownServer !== undefined) await unknownServer
  const started = performance.now()
  const known = ctx.headTags.get(address.storeKey)
  const since = ctx.hitHints.now()
  // This process moved one of the entry's own tags since it last saw it current: that entry is
  // dead, and reading each own tag's version (one per row of a list) would only confirm it. Only
  // the asked tags are read, for the snapshot; the entry is never served from this lookup. A
  // current entry another process stored since that write costs one load (the fill then sets
  // the hint again), never a stale read.
  // So is one a plain read found dead since (plain-hit.ts DEAD), for every reader of the key
  // until its next hit or fill.
  const presumeDead = known !== undefined && ctx.hitHints.voided(address.storeKey, known)
  const list = known === undefined || presumeDead ? undefined : readList(tags, known)
  const read = list === undefined ? tags : list.read
  const store = ctx.store.within(budget)
  const reply = await lookupEntry(store, {
    entryKey: address.storeKey,
    keys: ctx.tags.storeKeys(read),
    token: ctx.lineage.token(),
    tagTtlMs: ctx.options.tagTtl,
    lease: lease === undefined ? undefined : { ...lease, ttlMs: leaseTtl(ctx) },
    // Reading exactly the entry's own tags (as last seen), the store's comparison of the head with
    // them is the judgement already: judging its own tags again would read every version twice,
    // which for a list's row tags was most of a miss's cost on Redis. This side judges it anyway.
    tagKeyPrefix: read === known ? undefined : ctx.keys.tagPrefix,
    presumeDead,
  })
  ctx.stats.readLatency.record(performance.now() - started)
  const versions = reply.versions
  const leased = reply.leased
  const seen = versions[0]!
  // The common case (the epoch names the connected server) needs no await: verify only moves.
  const epoch = ctx.lineage.trusted(seen) ? seen : await ctx.lineage.verify(seen)
  if (epoch === undefined) {
    if (leased === true && lease !== undefined) releaseLease(ctx, lease)
    return { kind: 'untrusted' }
  }
  const current: Snapshot = {
    epoch,
    tags,
    versions:
      read === tags
        ? versions.slice(1)
        : list?.ownAt !== undefined
          ? versions.slice(1, tags.length + 1)
          : pick(tags, read, versions),
  }
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

  let valid: boolean
  // A second version read (the entry's own tags were not all in the lookup) is a second trip.
  let reread = false
  let hintable = false
  if (presumeDead) {
    valid = false
  } else if (sameList(head.tags, tags)) {
    valid = isCurrent(head, epoch, current.versions)
    if (known !== undefined) ctx.headTags.delete(address.storeKey)
    else hintable = true
  } else if (!answers(head.tags, tags, guards)) {
    valid = false
  } else if (reply.ownCurrent !== undefined) {
    // The store read the entry's own tags in the same atomic step. They are remembered all the
    // same: the next read of this key may then be a plain read of them (plain-hit.ts).
    valid = reply.ownCurrent
    rememberHeadTags(ctx, address.storeKey, known, head.tags)
    hintable = true
  } else {
    const ownAt = list?.ownAt
    const own = sameList(head.tags, read)
      ? versions.slice(1)
      : ownAt !== undefined && sameList(head.tags, known!)
        ? ownAt.map((at) => versions[at + 1]!)
        : pick(head.tags, read, versions)
    if (own.length === head.tags.length) valid = isCurrent(head, epoch, own)
    else {
      reread = true
      const fresh = store.capabilities.readVersionsOnly
        ? (await ctx.tags.current(store, head.tags)).slice(1)
        : await store.getMany(ctx.tags.storeKeys(head.tags).slice(1))
      valid = isCurrent(head, epoch, fresh)
    }
    rememberHeadTags(ctx, address.storeKey, known, head.tags)
    hintable = true
  }
  if (!valid) return { kind: 'miss', reason: 'invalidated', current, entry: { head, raw, body }, leased }

  let entry: Entry
  let bytes = raw.length
  try {
    // The store trimmed an entry it judged dead by the asked-for tags, yet by its own tags it is
    // current (the caller changed the tags of this key): fetch it whole.
    const full = body === -1 ? await store.get(address.storeKey) : raw
    const at = body === -1 ? wholeBody(full, address, head) : body
    entry = { ...head, value: readValue(ctx.codec, full ?? '', at, address.storeKey) }
    bytes = full?.length ?? 0
  } catch (error) {
    ctx.reportError(error, 'decode', address.key)
    return { kind: 'miss', reason: 'corrupt', current, leased }
  }
  // A store that took the lease for an entry we find usable (clock-free judgement differs only
  // for corrupt payloads, handled above): give it back.
  if (leased === true && lease !== undefined) releaseLease(ctx, lease)
  const trips = 1 + (reread ? 1 : 0) + (body === -1 ? 1 : 0)
  if (Date.now() < entry.freshUntil) {
    // The next read of this key may skip the script (plain-hit.ts).
    if (hintable) ctx.hitHints.hit(address.storeKey, since)
    return { kind: 'hit', entry, bytes, trips }
  }
  return { kind: 'stale', entry, current, bytes, trips }
}

/**
 * Whether an entry stored under `own` tags may answer a read asked with `asked`: only if it
 * depends on every asked tag, except the guards an after-load fill replaced by the fine tags it
 * learned (those are judged by their own tags, post-load.ts). Otherwise a caller who adds a tag to
 * a key (`cache: { tags: ['feed'] }` on a read an untagged call cached) would be served an entry
 * that `invalidateTags(['feed'])` can never evict.
 */
export function answers(
  own: readonly string[],
  asked: readonly string[],
  guards: readonly string[],
): boolean {
  for (const tag of asked) if (!own.includes(tag) && !guards.includes(tag)) return false
  return true
}

/**
 * The tags to read: the entry's own tags in their stored order when they cover the asked ones
 * (so the store's head comparison sees a current entry as current), else the asked tags followed
 * by the entry's others.
 */
function readList(tags: readonly string[], known: readonly string[]): ReadList {
  const cached = readLists.get(known)
  if (cached !== undefined && sameList(cached.tags, tags)) return cached
  let made: ReadList
  if (tags.every((tag) => known.includes(tag))) made = { tags: tags.slice(), read: known, ownAt: undefined }
  else {
    // One scan per known tag: an asked one is where the asked list has it, another is appended.
    const read = tags.slice()
    const ownAt = known.map((tag) => {
      const at = tags.indexOf(tag)
      return at === -1 ? read.push(tag) - 1 : at
    })
    made = { tags: tags.slice(), read, ownAt }
  }
  return readLists.set(known, made)
}

/**
 * What to read for an entry last seen under `known` tags, kept per `known` array (the one
 * ctx.headTags holds) for the asked tags it was made for: a list's lookup built a new list of
 * ~80 tags per read, so its store keys were looked up one by one every time, and the versions of
 * its own tags were found with an indexOf each. `ownAt[i]`: where `known[i]` is in `read`
 * (undefined when `read` is `known` itself).
 */
interface ReadList {
  tags: readonly string[]
  read: readonly string[]
  ownAt: readonly number[] | undefined
}
const readLists = new PerTagsArray<ReadList>()

/**
 * The versions of `wanted` out of `versions` (read for `read`, epoch first); shorter than
 * `wanted` when one of them was not read.
 */
function pick(wanted: readonly string[], read: readonly string[], versions: readonly string[]): string[] {
  const out: string[] = []
  for (const tag of wanted) {
    const at = read.indexOf(tag)
    if (at === -1) break
    out.push(versions[at + 1]!)
  }
  return out
}

/**
 * The value of a dead entry, for a waiter that may use another process's load made under its own
 * snapshot. Fetches the payload only when the store sent just the head.
 */
export async function deadValue(
  ctx: CacheContext,
  budget: Budget | undefined,
  address: EntryAddress,
  dead: DeadEntry,
): Promise<{ value: unknown } | undefined> {
  if (dead.body !== -1) return { value: readValue(ctx.codec, dead.raw, dead.body, address.storeKey) }
  const raw = await ctx.store.get(address.storeKey, budget)
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
  if (a.epoch !== b.epoch || !sameList(a.tags, b.tags)) return false
  for (let i = 0; i < a.versions.length; i++) if (a.versions[i] !== b.versions[i]) return false
  return true
}

/**
 * Remembers the tags an entry was stored under. The array already kept stays when it holds the
 * same tags: what is derived from it per array (the tags' store keys, the hit hint's tag set) is
 * kept with it, and a list's head parses into a new array on every lookup.
 */
function rememberHeadTags(
  ctx: CacheContext,
  storeKey: string,
  known: readonly string[] | undefined,
  tags: readonly string[],
): void {
  if (known === undefined || !sameList(known, tags)) ctx.headTags.set(storeKey, tags)
}
