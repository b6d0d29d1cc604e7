import { describe, expect, it } from 'vitest'
import { type CacheStore, createCache, memoryStore, type StoreWrite } from '../src/exports/index.js'
import { FaultyStore, gate } from './support/faulty-store.js'

/**
 * `WriteIntent.commit` reports what happened to the fill: write-behind relies on it to know
 * whether a written value is really readable from the cache, and falls back to the database
 * only on 'unavailable'.
 */
describe('write-through commit outcome', () => {
  const fill = (value: unknown) => ({ invalidate: ['row:1'], fill: { key: 'row:1', value } })

  it('is "filled" when the row was stored', async () => {
    const cache = createCache()
    const intent = await cache.beginWrite(['row:1'])
    expect(await intent.commit(fill('v'))).toBe('filled')
    expect(await cache.get('row:1')).toBe('v')
  })

  it('is "skipped" without a fill, and when another write raced this one', async () => {
    const cache = createCache()
    expect(await (await cache.beginWrite(['row:1'])).commit({ invalidate: ['row:1'] })).toBe('skipped')
    const intent = await cache.beginWrite(['row:1'])
    await cache.invalidateTags(['row:1']) // a concurrent writer bumped the row tag
    expect(await intent.commit(fill('v'))).toBe('skipped')
    expect(await cache.get('row:1')).toBeUndefined()
  })

  it('is "unavailable" when the store fails before or during the commit', async () => {
    const store = new FaultyStore(memoryStore())
    const cache = createCache({ store, circuitBreaker: false })
    store.mode = 'fail'
    const blind = await cache.beginWrite(['row:1'])
    store.mode = 'ok'
    expect(await blind.commit(fill('v'))).toBe('unavailable')
    const intent = await cache.beginWrite(['row:1'])
    store.mode = 'fail'
    expect(await intent.commit(fill('v'))).toBe('unavailable')
  })

  it('waits for an invalidation still in flight instead of calling the store unavailable (regression)', async () => {
    const paused = gate()
    const inner = memoryStore()
    let holdNext = true
    const store: CacheStore = Object.create(inner, {
      setMany: {
        value: async (entries: readonly StoreWrite[]) => {
          if (holdNext) {
            holdNext = false
            await paused.promise
          }
          return inner.setMany(entries)
        },
      },
    })
    const cache = createCache({ store })
    const other = cache.invalidateTags(['unrelated']) // in flight: the invalidator is "pending"
    const begun = cache.beginWrite(['row:1'])
    paused.open()
    await other
    expect(await (await begun).commit(fill('v'))).toBe('filled')
    expect(await cache.get('row:1')).toBe('v')
  })

  it('is "unavailable" when a pending invalidation cannot be applied', async () => {
    const store = new FaultyStore(memoryStore())
    const cache = createCache({ store, circuitBreaker: false })
    store.mode = 'fail-writes'
    await cache.invalidateTags(['unrelated']) // recorded as pending, retried later
    expect(await (await cache.beginWrite(['row:1'])).commit(fill('v'))).toBe('unavailable')
    await cache.close()
  })
})
