import { type Cache, CONFIRMED_INVALIDATE } from '../cache.js'

type Confirming = Cache & {
  [CONFIRMED_INVALIDATE]?: (tags: readonly string[], everything: boolean) => Promise<boolean>
}

/**
 * Bumps `tags` (and the namespace epoch when `everything`) and resolves true only once the store
 * holds the new versions; false when the store refused and the invalidation is pending a retry
 * in this process. A change-stream consumer acknowledges its source position only on true, so a
 * crash before the retry replays the change instead of losing it.
 */
export async function invalidateConfirmed(
  cache: Cache,
  tags: readonly string[],
  everything = false,
): Promise<boolean> {
  const confirming = (cache as Confirming)[CONFIRMED_INVALIDATE]
  if (typeof confirming === 'function') return confirming.call(cache, tags, everything)
  // A Cache not made by createCache: its own methods resolve once applied or reported.
  if (everything) await cache.clear()
  else if (tags.length > 0) await cache.invalidateTags(tags)
  return true
}
