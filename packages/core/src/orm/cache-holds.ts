import type { Cache } from '../cache.js'

const holders = new WeakMap<Cache, number>()

/**
 * For adapters: an ORM client or DataSource now uses `cache`. The returned release is called
 * from the ORM's own shutdown (`$disconnect`, `DataSource.destroy`); the last release closes
 * the cache, so ending the ORM ends the store connections the cache opened and the process
 * can exit. A cache shared by several ORM clients stays open until all of them have ended.
 */
export function holdCache(cache: Cache): () => Promise<void> {
  holders.set(cache, (holders.get(cache) ?? 0) + 1)
  let released = false
  return async () => {
    if (released) return
    released = true
    const left = (holders.get(cache) ?? 1) - 1
    holders.set(cache, left)
    if (left === 0) await cache.close()
  }
}
