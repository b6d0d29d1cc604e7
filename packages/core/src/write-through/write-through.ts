import type { CacheContext } from '../cache-context.js'
import { writeEntry } from '../entry.js'
import type { Budget } from '../store/budget.js'
import type { StoreWrite } from '../store/types.js'
import type { GuardedFill, Invalidator } from '../tags/invalidation.js'
import type { Snapshot } from '../tags/versions.js'

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
export function beginWrite(
  ctx: CacheContext,
  invalidator: Invalidator,
  fillTags: readonly string[],
): Promise<WriteIntent> {
  // One budget for the whole write: the snapshot before it and the invalidation after it
  // (the database write in between is not store time and is not counted).
  return begin(ctx, invalidator, fillTags, ctx.budget())
}

async function begin(
  ctx: CacheContext,
  invalidator: Invalidator,
  fillTags: readonly string[],
  budget: Budget | undefined,
): Promise<WriteIntent> {
  let snapshot: Snapshot | undefined
  let faulted = false
  // Like get/set: apply pending invalidations first; if the store refuses them, skip the fill.
  if (fillTags.length > 0 && invalidator.pending) faulted = !(await invalidator.settle(budget))
  if (fillTags.length > 0 && !faulted) {
    // Versions seen current since (or installed by this process) serve as the snapshot: the
    // guard holds only if no bump landed after them, so an older one can only refuse the fill
    // (docs/design.md, "Remembered write snapshots"). Not on a store whose versions can be
    // trusted only through readVersions (Redis Cluster: a shard may roll a version back).
    if (ctx.store.capabilities.readVersionsOnly !== true) snapshot = ctx.seenVersions.snapshot(fillTags)
    if (snapshot === undefined) {
      try {
        snapshot = await ctx.tags.snapshot(ctx.store.within(budget), fillTags)
        ctx.seenVersions.record(snapshot.epoch, snapshot.tags, snapshot.versions)
      } catch (error) {
        ctx.reportError(error, 'write-snapshot')
        faulted = true
      }
    }
  }
  return {
    commit: (result) => commitWrite(ctx, budget, invalidator, snapshot, faulted, result),
  }
}

/**
 * Steps 2 and 3 travel in one store operation (stores/redis-scripts.ts BUMP_GUARDED on a single
 * Redis node: every tag gets its new token, and the entry is stored only if every guarded tag
 * still held its snapshot version just before). That is the compare-and-set of step 2 for all
 * guarded tags at once; a failed guard still gets its new token, exactly like the plain bump.
 */
async function commitWrite(
  ctx: CacheContext,
  budget: Budget | undefined,
  invalidator: Invalidator,
  snapshot: Snapshot | undefined,
  snapshotFaulted: boolean,
  result: WriteCommit,
): Promise<WriteOutcome> {
  const invalidate = [...new Set(result.invalidate)]
  const everything = result.everything === true
  const fill = result.fill
  if (snapshot === undefined || fill === undefined || everything) {
    if (invalidate.length === 0 && !everything) return snapshotFaulted ? 'unavailable' : 'skipped'
    const applied = await invalidator.invalidate(invalidate, everything, budget)
    return applied === undefined || snapshotFaulted ? 'unavailable' : 'skipped'
  }

  let entry: StoreWrite | undefined
  let build: GuardedFill
  try {
    const address = ctx.keys.entry(fill.key)
    const ttl = ctx.jittered(fill.ttl ?? ctx.options.ttl)
    const encoded = ctx.codec.encode(fill.value)
    const guarded = invalidate.filter((tag) => snapshot.tags.includes(tag))
    build = (fresh) => {
      if (guarded.some((tag) => !fresh.has(tag))) return undefined
      // Only the guarded tags take the new tokens; every other fill tag keeps its snapshot
      // version, so a write to it since the snapshot (a bulk write) makes the entry invalid.
      const versions = snapshot.tags.map((tag, i) =>
        guarded.includes(tag) ? fresh.get(tag)! : snapshot.versions[i]!,
      )
      const head = {
        identity: address.identity,
        freshUntil: Date.now() + ttl,
        epoch: snapshot.epoch,
        tags: snapshot.tags,
        versions,
      }
      entry = { key: address.storeKey, value: writeEntry(head, encoded), ttlMs: ttl }
      const guards = guarded.map((tag) => ({
        key: ctx.keys.tag(tag),
        expected: snapshot.versions[snapshot.tags.indexOf(tag)]!,
      }))
      return { guards, entry }
    }
  } catch (error) {
    ctx.reportError(error, 'write-through', fill.key)
    const applied =
      invalidate.length === 0 ? new Map() : await invalidator.invalidate(invalidate, false, budget)
    return applied === undefined ? 'unavailable' : 'skipped'
  }

  if (invalidate.length === 0) {
    // Nothing to bump: store under the snapshot as it is.
    const unguarded = build(new Map())
    try {
      if (unguarded !== undefined)
        await ctx.store.set(unguarded.entry.key, unguarded.entry.value, unguarded.entry.ttlMs, budget)
    } catch (error) {
      ctx.reportError(error, 'write-through', fill.key)
      return 'unavailable'
    }
    return noteFilled(ctx, fill.key, unguarded?.entry)
  }
  const applied = await invalidator.invalidateGuarded(invalidate, build, budget)
  if (applied === undefined) return 'unavailable'
  // The store applied every new token (a refused fill's too): they are current as of now.
  const moved = snapshot.tags.filter((tag) => applied.tokens.has(tag))
  ctx.seenVersions.record(
    snapshot.epoch,
    moved,
    moved.map((tag) => applied.tokens.get(tag)!),
  )
  return applied.filled ? noteFilled(ctx, fill.key, entry) : 'skipped'
}

function noteFilled(ctx: CacheContext, key: string, entry: StoreWrite | undefined): WriteOutcome {
  if (entry === undefined) return 'skipped'
  ctx.stats.add('sets')
  ctx.events.emit('set', { key, bytes: entry.value.length })
  return 'filled'
}
