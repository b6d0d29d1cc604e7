import type { CacheStore } from '../../src/exports/index.js'

// The fault injector itself is public (`@ormcache/core/testing`); the helpers below are the core's own.
export { FaultyStore } from '../../src/exports/testing.js'

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
