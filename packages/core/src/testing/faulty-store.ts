import type { CacheStore, StoreCapabilities, StoreWrite } from '../store/types.js'

/**
 * What a `FaultyStore` does with the next operations: pass them through (`ok`), reject all of them
 * (`fail`), never settle (`hang`, for timeouts), or reject only writes (`fail-writes`).
 */
export type FaultMode = 'ok' | 'fail' | 'hang' | 'fail-writes'

/**
 * Wraps a real store and injects faults on demand, so a test can drive the cache's fail-open paths
 * (timeouts, circuit breaker, pending invalidations) deterministically. The data stays the inner
 * store's: switch `mode` back to `ok` and the same entries are there.
 */
export class FaultyStore implements CacheStore {
  mode: FaultMode = 'ok'
  /** Operations attempted through this wrapper, failed or not. */
  calls = 0
  readonly lineage?: () => string | undefined
  readonly lineageKnown?: () => Promise<void>
  constructor(readonly inner: CacheStore) {
    // A fault injector is the same data set: it keeps the inner store's restart detection.
    if (inner.lineage !== undefined) this.lineage = () => inner.lineage!()
    if (inner.lineageKnown !== undefined) this.lineageKnown = () => inner.lineageKnown!()
  }
  get name(): string {
    return `faulty-${this.inner.name}`
  }
  get capabilities(): StoreCapabilities {
    return this.inner.capabilities
  }
  private gate<T>(write: boolean, run: () => Promise<T>): Promise<T> {
    this.calls++
    if (this.mode === 'fail' || (write && this.mode === 'fail-writes')) {
      return Promise.reject(new Error('injected store failure'))
    }
    if (this.mode === 'hang') return new Promise<T>(() => {})
    return run()
  }
  get(key: string): Promise<string | undefined> {
    return this.gate(false, () => this.inner.get(key))
  }
  getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    return this.gate(false, () => this.inner.getMany(keys))
  }
  set(key: string, value: string, ttlMs?: number): Promise<void> {
    return this.gate(true, () => this.inner.set(key, value, ttlMs))
  }
  setMany(entries: readonly StoreWrite[]): Promise<void> {
    return this.gate(true, () => this.inner.setMany(entries))
  }
  add(key: string, value: string, ttlMs?: number): Promise<boolean> {
    return this.gate(true, () => this.inner.add(key, value, ttlMs))
  }
  compareAndSet(key: string, expected: string, value: string, ttlMs?: number): Promise<boolean> {
    return this.gate(true, () => this.inner.compareAndSet(key, expected, value, ttlMs))
  }
  delete(key: string): Promise<void> {
    return this.gate(true, () => this.inner.delete(key))
  }
  deleteIfEquals(key: string, value: string): Promise<boolean> {
    return this.gate(true, () => this.inner.deleteIfEquals(key, value))
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}
