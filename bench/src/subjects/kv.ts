/**
 * A cache library seen from the application: cache-aside reads and invalidation after a write.
 * Every library in the core-level scenarios (store hit path, stampede, staleness) is driven
 * through this one interface, so they run the same workload with the same payloads.
 */
export interface KvSubject {
  readonly id: string
  readonly label: string
  /** Colour group in charts and the name in tables: ormcache, floor, bentocache, cache-manager. */
  readonly library: string
  /** The cached value for `key`, or `load()`'s result (then cached). */
  read<T>(key: string, tags: readonly string[], load: () => Promise<T>): Promise<T>
  /**
   * Called after a write to the row behind `key` committed; resolves once the library says the
   * cache no longer serves the old value (the library's own invalidation call).
   */
  invalidate(key: string, tags: readonly string[]): Promise<void>
  close(): Promise<void>
}

export interface KvSubjectFactory {
  id: string
  label: string
  library: string
  /** Services that must answer before `create`. */
  needs: readonly ('redis' | 'memcached')[]
  /** `prefix` is unique per run and subject; every key the subject writes starts with it. */
  create(prefix: string): Promise<KvSubject>
}
