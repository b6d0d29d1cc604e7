import type { CacheStore, StoreWrite } from '@ormcache/core'

/**
 * One store used by several caches (one per ORM, so the dashboard can tell them apart), closed
 * when the last of them closes. Sharing the store and the namespace is what makes the two ORMs
 * see each other's invalidations: tag versions live in the store.
 */
export function shareStore(store: CacheStore, users: number): CacheStore[] {
  let open = users
  const close = async () => {
    open -= 1
    if (open === 0) await store.close()
  }
  return Array.from({ length: users }, () => view(store, close))
}

function view(store: CacheStore, close: () => Promise<void>): CacheStore {
  let closed = false
  const shared: CacheStore = {
    name: store.name,
    capabilities: store.capabilities,
    get: (key: string) => store.get(key),
    getMany: (keys: readonly string[]) => store.getMany(keys),
    set: (key: string, value: string, ttlMs?: number) => store.set(key, value, ttlMs),
    setMany: (entries: readonly StoreWrite[]) => store.setMany(entries),
    add: (key: string, value: string, ttlMs?: number) => store.add(key, value, ttlMs),
    compareAndSet: (key: string, expected: string, value: string, ttlMs?: number) =>
      store.compareAndSet(key, expected, value, ttlMs),
    delete: (key: string) => store.delete(key),
    deleteIfEquals: (key: string, value: string) => store.deleteIfEquals(key, value),
    async close() {
      if (closed) return
      closed = true
      await close()
    },
  }
  if (store.createBus !== undefined) shared.createBus = (channel: string) => store.createBus!(channel)
  return shared
}
