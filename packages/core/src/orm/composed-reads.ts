import { type Cache, COMPOSES_READS } from '../cache.js'

type Composing = Cache & { [COMPOSES_READS]?: () => boolean }

/**
 * Whether a loader may build its value from other cached reads of the same cache (an ORM
 * assembling an include from a parent read and a child read, each cached under its own key)
 * and store it like a database load. True only when every part an entry that is valid at its
 * lookup reflects every write whose invalidation was visible when the outer read took its
 * snapshot: the store applies a write's coarse and fine bumps in one atomic step
 * (`orderedBatches`), and no near cache serves entries without confirming their versions
 * (`consistency: 'bounded'` with L1). docs/design.md, "Included relations assembled from cached
 * parts". False for a Cache not made by createCache.
 */
export function composesReads(cache: Cache): boolean {
  const composing = (cache as Composing)[COMPOSES_READS]
  return typeof composing === 'function' && composing.call(cache) === true
}
