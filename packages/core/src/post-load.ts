import type { CacheContext } from './context.js'
import { InvalidOptionError, InvalidTagError } from './errors.js'
import type { Snapshot } from './tags.js'
import { isFineTagOf, normalizeTable, tableTag } from './vocabulary.js'

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

/**
 * The snapshot to store the loaded value under, or undefined when a write to a guarded table
 * landed during the load (or the store failed): then nothing is stored.
 */
export async function settleAfterLoad<T>(
  ctx: CacheContext,
  snapshot: Snapshot,
  value: T,
  afterLoad: AfterLoad<T>,
): Promise<Snapshot | undefined> {
  const coarse = guardTags(afterLoad as AfterLoad)
  try {
    const tables = afterLoad.tables.map(normalizeTable)
    const fine: string[] = []
    for (const tag of new Set(afterLoad.tags(value))) {
      // A tag outside the guarded tables could move during the load unnoticed.
      if (!tables.some((table) => isFineTagOf(tag, table)))
        throw new InvalidTagError(`"${tag}" is not a row or column-value tag of ${tables.join(', ')}`)
      if (!snapshot.tags.includes(tag)) fine.push(tag)
    }
    const fineKeys = ctx.tags.storeKeys(fine)
    const coarseKeys = ctx.tags.storeKeys(coarse).slice(1)
    let fineRead: (string | undefined)[]
    let coarseRead: (string | undefined)[]
    if (ctx.store.capabilities.orderedBatches === true) {
      // One atomic read: fine and coarse versions from the same instant.
      const read = await ctx.store.getMany([...fineKeys, ...coarseKeys])
      fineRead = read.slice(0, fineKeys.length)
      coarseRead = read.slice(fineKeys.length)
    } else {
      // The coarse read must start after the fine read returned.
      fineRead = await ctx.store.getMany(fineKeys)
      coarseRead = await ctx.store.getMany(coarseKeys)
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
    const fineSnapshot = await ctx.tags.resolve(ctx.store, fine, fineKeys, fineRead)
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
