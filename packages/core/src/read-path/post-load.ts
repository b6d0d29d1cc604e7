import type { CacheContext } from '../cache-context.js'
import { type Entry, encodeEntry } from '../entry.js'
import { InvalidOptionError, InvalidTagError } from '../errors.js'
import type { EntryAddress } from '../query-key.js'
import type { Budget } from '../store/budget.js'
import type { LeaseRef } from '../store/types.js'
import { newToken, type Snapshot } from '../tags/versions.js'
import { isFineTagOf, normalizeTable, tableOfTag, tableTag } from '../tags/vocabulary.js'
import type { LogCheck, WriteLog } from '../tags/write-log.js'

/**
 * Dependencies a read learns only from its result: the rows a list returned, the parent keys a
 * relation was loaded for. They cannot be snapshotted before the load, so they are guarded by
 * the coarse table tags of their tables, which are (see docs/design.md, "Dependencies known
 * after the load"):
 *
 * 1. snapshotted before the load, with the read's other tags;
 * 2. re-read after the load, after (or atomically with) the fine tags' current versions;
 * 3. if a coarse tag moved, a write to that table landed during the load and the fill is skipped
 *    (counted as `fillsSkipped`); otherwise the entry is stored under the fine tags' versions
 *    instead of the coarse tags.
 *
 * Writes bump coarse tags before fine ones (TagVersions.bump), so a fine version read in step 2
 * that already reflects a write implies the coarse tag read after it reflects that write too.
 */
export interface AfterLoad<T = unknown> {
  /** Tables whose row and column-value tags `tags` may return; their table tags guard the load. */
  tables: readonly string[]
  /** Row tags and column-value tags of `tables` that the loaded value depends on. */
  tags: (value: T) => readonly string[]
}

export function checkAfterLoad(afterLoad: unknown): AfterLoad | undefined {
  if (afterLoad === undefined) return undefined
  const candidate = afterLoad as Partial<AfterLoad>
  if (
    typeof afterLoad !== 'object' ||
    afterLoad === null ||
    !Array.isArray(candidate.tables) ||
    typeof candidate.tags !== 'function'
  ) {
    throw new InvalidOptionError('afterLoad', 'must be { tables: string[], tags: (value) => string[] }')
  }
  return candidate as AfterLoad
}

/** The coarse tags that guard `afterLoad`: the read must snapshot them before loading. */
export function guardTags(afterLoad: AfterLoad): string[] {
  return afterLoad.tables.map(tableTag)
}

/** `snapshot` without the guard tags of `afterLoad` (the tags the stored entry keeps from it). */
export function withoutGuards(snapshot: Snapshot, afterLoad: AfterLoad | undefined): Snapshot {
  if (afterLoad === undefined) return snapshot
  const guards = guardTags(afterLoad)
  const tags: string[] = []
  const versions: string[] = []
  snapshot.tags.forEach((tag, i) => {
    if (guards.includes(tag)) return
    tags.push(tag)
    versions.push(snapshot.versions[i]!)
  })
  return { epoch: snapshot.epoch, tags, versions }
}

/**
 * The snapshot to store the loaded value under, or undefined when a write to a guarded table
 * landed during the load (or the store failed): then nothing is stored.
 */
export async function settleAfterLoad<T>(
  ctx: CacheContext,
  budget: Budget | undefined,
  snapshot: Snapshot,
  value: T,
  afterLoad: AfterLoad<T>,
): Promise<Snapshot | undefined> {
  const coarse = guardTags(afterLoad as AfterLoad)
  try {
    const fine = fineTags(snapshot, value, afterLoad)
    const fineKeys = ctx.tags.storeKeys(fine)
    const coarseKeys = ctx.tags.storeKeys(coarse).slice(1)
    let fineRead: (string | undefined)[]
    let coarseRead: (string | undefined)[]
    const store = ctx.store.within(budget)
    if (store.capabilities.orderedBatches === true) {
      // One atomic read: fine and coarse versions from the same instant.
      const read = await store.getMany([...fineKeys, ...coarseKeys])
      fineRead = read.slice(0, fineKeys.length)
      coarseRead = read.slice(fineKeys.length)
    } else {
      // The coarse read must start after the fine read returned.
      fineRead = await store.getMany(fineKeys)
      coarseRead = await store.getMany(coarseKeys)
    }
    const moved =
      fineRead[0] !== snapshot.epoch ||
      coarse.some((tag, i) => {
        const at = snapshot.tags.indexOf(tag)
        return at === -1 || coarseRead[i] === undefined || coarseRead[i] !== snapshot.versions[at]
      })
    if (moved) {
      ctx.stats.add('fillsSkipped')
      return undefined
    }
    const fineSnapshot = await ctx.tags.resolve(store, fine, fineKeys, fineRead)
    const tags: string[] = []
    const versions: string[] = []
    snapshot.tags.forEach((tag, i) => {
      if (coarse.includes(tag)) return
      tags.push(tag)
      versions.push(snapshot.versions[i]!)
    })
    tags.push(...fineSnapshot.tags)
    versions.push(...fineSnapshot.versions)
    return { epoch: snapshot.epoch, tags, versions }
  } catch (error) {
    ctx.reportError(error, 'after-load')
    return undefined
  }
}

/** The after-load tags of `value` not already in the snapshot; refuses tags outside `tables`. */
function fineTags<T>(snapshot: Snapshot, value: T, afterLoad: AfterLoad<T>): string[] {
  const tables = afterLoad.tables.map(normalizeTable)
  const fine: string[] = []
  for (const tag of new Set(afterLoad.tags(value))) {
    // A tag outside the guarded tables could move during the load unnoticed.
    if (!tables.some((table) => isFineTagOf(tag, table)))
      throw new InvalidTagError(`"${tag}" is not a row or column-value tag of ${tables.join(', ')}`)
    if (!snapshot.tags.includes(tag)) fine.push(tag)
  }
  return fine
}

/**
 * The write log that can settle this read, if the store keeps one and every guarded table's name
 * is one the log is keyed by exactly (vocabulary.ts tableOfTag): otherwise the coarse guard.
 */
export function writeLogFor(
  ctx: CacheContext,
  budget: Budget | undefined,
  afterLoad: AfterLoad,
): WriteLog | undefined {
  const log = ctx.store.within(budget).writeLog
  if (log === undefined || afterLoad.tables.some((table) => normalizeTable(table).includes(':')))
    return undefined
  return log
}

export interface LoggedFill {
  /** The entry as stored (with its after-load versions), or undefined when nothing was stored. */
  entry: Entry | undefined
  raw: string | undefined
  /** The store let the lease go with a refused fill: the caller must not release it again. */
  released?: boolean
}

/**
 * The after-load fill on a store with a write log (docs/design.md, "Dependencies known after
 * the load"): the fine versions are read after the load, then each guarded table's log since the
 * snapshot's table tag; the fill is skipped only if a write logged since then names one of the
 * fine tags (or cannot name its rows), the log no longer reaches back, or the epoch moved. On
 * one Redis node this is a single script that also stores the entry, so a miss costs the lookup
 * and this one round trip. Store faults are reported and store nothing.
 */
export async function fillLogged<T>(
  ctx: CacheContext,
  log: WriteLog,
  address: EntryAddress,
  snapshot: Snapshot,
  value: T,
  afterLoad: AfterLoad<T>,
  timing: { freshUntil: number; ttlMs: number },
  lease: LeaseRef | undefined,
): Promise<LoggedFill> {
  const none: LoggedFill = { entry: undefined, raw: undefined }
  const coarse = guardTags(afterLoad as AfterLoad)
  let fine: string[]
  try {
    fine = fineTags(snapshot, value, afterLoad)
  } catch (error) {
    ctx.reportError(error, 'after-load')
    return none
  }
  const guarded = new Set<string | undefined>(afterLoad.tables.map(normalizeTable))
  const tables: LogCheck[] = []
  const tags: string[] = []
  const versions: string[] = []
  snapshot.tags.forEach((tag, i) => {
    if (!coarse.includes(tag)) {
      tags.push(tag)
      versions.push(snapshot.versions[i]!)
      return
    }
    const tagKey = ctx.keys.tag(tag)
    tables.push({ tagKey, logKey: ctx.keys.log(tagKey), since: snapshot.versions[i]! })
  })
  if (tables.length !== coarse.length) {
    ctx.stats.add('fillsSkipped')
    return none
  }
  const entry: Entry = {
    identity: address.identity,
    freshUntil: timing.freshUntil,
    epoch: snapshot.epoch,
    tags: [...tags, ...fine],
    versions,
    value,
  }
  let encoded: string
  try {
    encoded = encodeEntry(ctx.codec, entry)
  } catch (error) {
    ctx.reportError(error, 'encode', address.key)
    return none
  }
  // The store appends the fine versions to the first line (entry.ts, format 2).
  const newline = encoded.indexOf('\n')
  const head = encoded.slice(0, newline)
  const rest = encoded.slice(newline)
  try {
    // The keys of the entry's own tags, once: the fine and watched ones are slices of them, and
    // the hit read after this fill asks with this same array (its head tags), so finds them kept.
    const entryKeys = ctx.tags.storeKeys(entry.tags)
    const watch: string[] = []
    for (let i = 0; i < tags.length; i++) if (guarded.has(tableOfTag(tags[i]!))) watch.push(entryKeys[i + 1]!)
    const reply = await log.settle({
      keys: [entryKeys[0]!, ...entryKeys.slice(1 + tags.length)],
      token: newToken(),
      tagTtlMs: ctx.options.tagTtl,
      epoch: snapshot.epoch,
      tables,
      watch,
      fill: { key: address.storeKey, head, rest, ttlMs: timing.ttlMs, lease },
    })
    const refused: LoggedFill = reply.released === true ? { ...none, released: true } : none
    if (!reply.clean) {
      ctx.stats.add('fillsSkipped')
      return refused
    }
    if (!reply.filled) return refused
    const fineVersions = reply.versions.slice(1)
    const raw = [head, ...fineVersions].join(' ') + rest
    return { entry: { ...entry, versions: [...versions, ...fineVersions] }, raw }
  } catch (error) {
    ctx.reportError(error, 'fill', address.key)
    return none
  }
}
