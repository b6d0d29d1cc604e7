import type { CacheStore, StoreWrite } from '@ormcache/core'

// Shared with the @ormcache/postgres fault tests (imported by relative path).
/** A real store that can be switched to fail every operation, to exercise fail-open paths. */
export class FaultyStore implements CacheStore {
  failing = false
  constructor(private readonly inner: CacheStore) {}
  get name() {
    return `faulty-${this.inner.name}`
  }
  get capabilities() {
    return this.inner.capabilities
  }
  private guard<T>(run: () => Promise<T>): Promise<T> {
    return this.failing ? Promise.reject(new Error('injected store failure')) : run()
  }
  get(key: string) {
    return this.guard(() => this.inner.get(key))
  }
  getMany(keys: readonly string[]) {
    return this.guard(() => this.inner.getMany(keys))
  }
  set(key: string, value: string, ttlMs?: number) {
    return this.guard(() => this.inner.set(key, value, ttlMs))
  }
  setMany(entries: readonly StoreWrite[]) {
    return this.guard(() => this.inner.setMany(entries))
  }
  add(key: string, value: string, ttlMs?: number) {
    return this.guard(() => this.inner.add(key, value, ttlMs))
  }
  compareAndSet(key: string, expected: string, value: string, ttlMs?: number) {
    return this.guard(() => this.inner.compareAndSet(key, expected, value, ttlMs))
  }
  delete(key: string) {
    return this.guard(() => this.inner.delete(key))
  }
  deleteIfEquals(key: string, value: string) {
    return this.guard(() => this.inner.deleteIfEquals(key, value))
  }
  close() {
    return this.inner.close()
  }
}
