/**
 * Outage cost (issue 13, item 4): what one `invalidateTags` and one read cost while 10,000
 * invalidations are pending because the store refuses every call. Before the fix each call
 * re-sent the whole pending set (10.9 ms per call at 12 k pending). Prints µs per call for the
 * first and the last thousand calls, and with the store up for comparison.
 *
 *   npm run bench:outage -w bench
 */
import { type CacheStore, createCache, memoryStore, type StoreWrite } from '@ormcache/core'

/** The memory store, refusing every call while `down`. */
function switchable(): CacheStore & { down: boolean } {
  const inner = memoryStore()
  const gate = <T>(run: () => Promise<T>): Promise<T> =>
    store.down ? Promise.reject(new Error('store down')) : run()
  const store = {
    down: false,
    name: 'switchable',
    capabilities: inner.capabilities,
    get: (key: string) => gate(() => inner.get(key)),
    getMany: (keys: readonly string[]) => gate(() => inner.getMany(keys)),
    set: (key: string, value: string, ttl?: number) => gate(() => inner.set(key, value, ttl)),
    setMany: (entries: readonly StoreWrite[]) => gate(() => inner.setMany(entries)),
    add: (key: string, value: string, ttl?: number) => gate(() => inner.add(key, value, ttl)),
    compareAndSet: (key: string, expected: string, value: string, ttl?: number) =>
      gate(() => inner.compareAndSet(key, expected, value, ttl)),
    delete: (key: string) => gate(() => inner.delete(key)),
    deleteIfEquals: (key: string, value: string) => gate(() => inner.deleteIfEquals(key, value)),
    close: () => inner.close(),
  }
  return store
}

async function perCall(count: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < count; i++) await call(i)
  return ((performance.now() - started) * 1000) / count
}

async function main(): Promise<void> {
  const store = switchable()
  const cache = createCache({ store, namespace: 'bench-outage', circuitBreaker: false, recoveryGrace: 0 })
  const read = (i: number) => cache.wrap(`row:${i % 100}`, async () => i, { tags: [`row:${i % 100}`] })

  const upInvalidate = await perCall(1_000, (i) => cache.invalidateTags([`up:${i}`]))
  const upRead = await perCall(1_000, read)

  store.down = true
  let errors = 0
  cache.on('error', () => errors++)
  const first = await perCall(1_000, (i) => cache.invalidateTags([`t:${i}`]))
  const middle = await perCall(8_000, (i) => cache.invalidateTags([`t:${1_000 + i}`]))
  const last = await perCall(1_000, (i) => cache.invalidateTags([`t:${9_000 + i}`]))
  const downRead = await perCall(1_000, read)
  store.down = false
  const recovered = await perCall(1_000, read)
  await cache.close()

  const us = (n: number) => `${n.toFixed(2)} µs`
  console.log('outage cost with 10,000 pending invalidations (store refusing every call)')
  console.log(`  invalidateTags, store up:             ${us(upInvalidate)} per call`)
  console.log(`  invalidateTags, pending 0 → 1 k:      ${us(first)} per call`)
  console.log(`  invalidateTags, pending 1 k → 9 k:    ${us(middle)} per call`)
  console.log(`  invalidateTags, pending 9 k → 10 k:   ${us(last)} per call`)
  console.log(`  wrap, store up:                       ${us(upRead)} per call`)
  console.log(`  wrap, 10 k pending (bypass):          ${us(downRead)} per call`)
  console.log(`  wrap, after recovery:                 ${us(recovered)} per call`)
  console.log(`  error events during the outage:       ${errors}`)
}

await main()
