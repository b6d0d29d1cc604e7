import type { CacheContext } from '../cache-context.js'
import { type Entry, readValue } from '../entry.js'
import { matchHead, storedUnder } from '../entry-match.js'
import type { EntryAddress } from '../query-key.js'
import type { Budget } from '../store/budget.js'
import type { GuardedStore } from '../store/guarded-store.js'
import { answers, type Lookup } from './store-lookup.js'

/**
 * The hit read (docs/design.md "The hit read"). A store's fused lookup (the Redis LOOKUP script)
 * does a miss's work in the same round trip as the read: it creates missing versions and takes
 * the lease. A hit needs none of it, and on Redis the script costs several times a plain MGET.
 * So a key this process expects to hit (hit-hints.ts) is read plainly first: the entry, the
 * namespace epoch and the tag versions in one read, judged exactly as the full lookup judges
 * them. Only a fresh, current entry is served from it; anything else (absent entry or version,
 * untrusted epoch, other tags, expired, corrupt) drops the hint and the caller does the full
 * lookup, which reads everything again and makes every decision itself.
 *
 * A plain read is offered only by a store that has one (`readHit`: Redis, a GETEX and an MGET,
 * held under CLIENT PAUSE WRITE like the script) and where a plain read of versions is as
 * trustworthy as the script's: not on a Redis Cluster, whose scripts judge versions per shard
 * life (`readVersionsOnly`). Memcached offers one too (its multi-get of the same keys), and so does
 * the memory store (its synchronous reads): their lookup is that same read, composed
 * (store-ops.ts), but a hit then skips the lookup batch's tick and the parse of an after-load
 * list's head that the composed lookup does to learn its own tags.
 */
export function expectsHit(ctx: CacheContext, address: EntryAddress, tags: readonly string[]): boolean {
  return (
    offersPlainRead(ctx.store) &&
    ctx.hitHints.expects(address.storeKey, ctx.headTags.get(address.storeKey) ?? tags)
  )
}

/** Whether `store` has the plain hit read and its plain version reads can be trusted (above). */
export function offersPlainRead(
  store: GuardedStore,
): store is GuardedStore & Required<Pick<GuardedStore, 'readHit'>> {
  return store.readHit !== undefined && store.capabilities.readVersionsOnly !== true
}

/**
 * The plain read proved the entry dead: none is stored, or it is stored under exactly the tags
 * read and is not current by them (another epoch, a version moved or gone). HitHints marks the
 * key, and its lookups presume the entry dead until its next hit or fill (store-lookup.ts): they
 * read only the asked tags for the snapshot, not a list's row tags again (most of a miss's lookup
 * on Redis), and serve nothing. An entry stored under other tags, an expired one
 * (stale-while-revalidate may still serve it), an untrusted epoch or a payload that does not
 * decode is left to the full judgement of the lookup (docs/design.md, "So is an entry the plain
 * read just found dead").
 */
export const DEAD = 'dead'

/**
 * The plain hit read of a key `expectsHit` accepted: the hit, DEAD, or undefined when the full
 * lookup must decide.
 */
export async function plainHit(
  ctx: CacheContext,
  budget: Budget | undefined,
  address: EntryAddress,
  tags: readonly string[],
  guards: readonly string[] = [],
): Promise<Lookup | typeof DEAD | undefined> {
  const since = ctx.hitHints.now()
  const started = performance.now()
  // An entry whose own tags differ from the asked ones (an after-load fill stored fine tags in
  // place of its guards) is read with, and judged by, its own tags, as the full lookup does; it
  // answers only if it depends on every asked tag but the guards (store-lookup.ts `answers`).
  const own = ctx.headTags.get(address.storeKey)
  if (own !== undefined && !answers(own, tags, guards)) return undefined
  const read = own ?? tags
  const values = await ctx.store.readHit!(address.storeKey, ctx.tags.storeKeys(read), budget)
  ctx.stats.readLatency.record(performance.now() - started)
  const entry = judge(ctx, address, read, values)
  if (entry === undefined || entry === DEAD) {
    ctx.hitHints.missed(address.storeKey, entry === DEAD)
    return entry
  }
  ctx.hitHints.hit(address.storeKey, since)
  return { kind: 'hit', entry, bytes: values[0]!.length, trips: 1 }
}

/** `values`: entry, epoch, then each tag's version. The entry if it is fresh and current. */
function judge(
  ctx: CacheContext,
  address: EntryAddress,
  tags: readonly string[],
  values: readonly (string | undefined)[],
): Entry | typeof DEAD | undefined {
  const raw = values[0]
  const epoch = values[1]
  if (epoch === undefined || !ctx.lineage.trusted(epoch)) return undefined
  if (raw === undefined) return DEAD
  const versions = new Array<string>(tags.length)
  for (let i = 0; i < tags.length; i++) {
    const version = values[i + 2]
    if (version === undefined) return storedUnder(raw, address, tags) ? DEAD : undefined
    versions[i] = version
  }
  // Compared in place (entry-match.ts): the same verdict as readHead + sameList + isCurrent.
  const read = matchHead(raw, address, tags, epoch, versions)
  if (read === undefined) return storedUnder(raw, address, tags) ? DEAD : undefined
  const head = read.head
  if (Date.now() >= head.freshUntil) return undefined
  try {
    const value = readValue(ctx.codec, raw, read.body, address.storeKey)
    return {
      identity: head.identity,
      freshUntil: head.freshUntil,
      epoch: head.epoch,
      tags: head.tags,
      versions: head.versions,
      value,
    }
  } catch {
    // Corrupt: the full lookup reads it again and reports it.
    return undefined
  }
}
