import type { CacheStore, StoreWrite } from '../../src/index.js'

type Mode = 'ok' | 'fail' | 'hang' | 'fail-writes'

/**
 * Wraps a real store and injects faults on demand, to exercise the cache's fail-open paths
 * (timeouts, circuit breaker, pending invalidations) deterministically.
 */
export class FaultyStore implements CacheStore {
  mode: Mode = 'ok'
  calls = 0
  readonly lineage?: () => string | undefined
  readonly lineageKnown?: () => Promise<void>
  constructor(readonly inner: CacheStore) {
    // A fault injector is the same data set: it keeps the inner store's restart detection.
    if (inner.lineage !== undefined) this.lineage = () => inner.lineage!()
    if (inner.lineageKnown !== undefined) this.lineageKnown = () => inner.lineageKnown!()
  }
  get name() {
    return `faulty-${this.inner.name}`
  }
  get capabilities() {
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
  get(key: string) {
    return this.gate(false, () => this.inner.get(key))
  }
  getMany(keys: readonly string[]) {
    return this.gate(false, () => this.inner.getMany(keys))
  }
  set(key: string, value: string, ttlMs?: number) {
    return this.gate(true, () => this.inner.set(key, value, ttlMs))
  }
  setMany(entries: readonly StoreWrite[]) {
    return this.gate(true, () => this.inner.setMany(entries))
  }
  add(key: string, value: string, ttlMs?: number) {
    return this.gate(true, () => this.inner.add(key, value, ttlMs))
  }
  compareAndSet(key: string, expected: string, value: string, ttlMs?: number) {
    return this.gate(true, () => this.inner.compareAndSet(key, expected, value, ttlMs))
  }
  delete(key: string) {
    return this.gate(true, () => this.inner.delete(key))
  }
  deleteIfEquals(key: string, value: string) {
    return this.gate(true, () => this.inner.deleteIfEquals(key, value))
  }
  close() {
    return this.inner.close()
  }
}

/** A promise that a test resolves by hand: used to pause loaders and writers at exact points. */
export function gate<T = void>() {
  let open!: (value: T) => void
  const promise = new Promise<T>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

/** Adds a random delay (0..maxMs) before every store operation, to shake out interleavings. */
export function withJitter(store: CacheStore, maxMs: number, random: () => number = Math.random): CacheStore {
  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, Math.floor(random() * maxMs)))
  return new Proxy(store, {
    get(target, property, receiver) {
      const original = Reflect.get(target, property, receiver)
      if (typeof original !== 'function' || property === 'close') return original
      return async (...args: unknown[]) => {
        await pause()
        return original.apply(target, args)
      }
    },
  })
}

/**
 * Presents an in-process store as shared, so several caches in one test act like processes
 * sharing Redis (leases, buses). The data really is shared between those caches.
 */
export function asShared(store: CacheStore): CacheStore {
  const capabilities = { ...store.capabilities, shared: true }
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'capabilities') return capabilities
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
