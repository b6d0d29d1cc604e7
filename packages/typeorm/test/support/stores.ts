import { type CacheStore, memoryStore, type StoreWrite } from '@ormcache/core'

/** A promise opened by hand, to pause a loader or a writer at an exact point. */
export function gate<T = void>() {
  let open!: (value: T) => void
  const promise = new Promise<T>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

/**
 * A real memory store with instrumentation: records every key written, can fail on demand, and
 * can hold tag bumps (setMany, which the core uses only to invalidate) until a gate opens.
 */
export class InstrumentedStore implements CacheStore {
  readonly inner = memoryStore()
  readonly name = 'instrumented-memory'
  readonly capabilities = { shared: false }
  readonly writtenKeys = new Set<string>()
  failing = false
  /** While set, invalidations wait for it (the writer is paused between commit and invalidation). */
  holdInvalidations: Promise<void> | undefined
  /** Resolves when an invalidation reaches the store. */
  onInvalidation: (() => void) | undefined

  private check(): void {
    if (this.failing) throw new Error('injected store failure')
  }
  async get(key: string) {
    this.check()
    return this.inner.get(key)
  }
  async getMany(keys: readonly string[]) {
    this.check()
    return this.inner.getMany(keys)
  }
  async set(key: string, value: string, ttlMs?: number) {
    this.check()
    this.writtenKeys.add(key)
    return this.inner.set(key, value, ttlMs)
  }
  async setMany(entries: readonly StoreWrite[]) {
    this.onInvalidation?.()
    if (this.holdInvalidations !== undefined) await this.holdInvalidations
    this.check()
    for (const entry of entries) this.writtenKeys.add(entry.key)
    return this.inner.setMany(entries)
  }
  async add(key: string, value: string, ttlMs?: number) {
    this.check()
    this.writtenKeys.add(key)
    return this.inner.add(key, value, ttlMs)
  }
  async compareAndSet(key: string, expected: string, value: string, ttlMs?: number) {
    this.check()
    return this.inner.compareAndSet(key, expected, value, ttlMs)
  }
  async delete(key: string) {
    this.check()
    return this.inner.delete(key)
  }
  async deleteIfEquals(key: string, value: string) {
    this.check()
    return this.inner.deleteIfEquals(key, value)
  }
  close() {
    return this.inner.close()
  }
}
