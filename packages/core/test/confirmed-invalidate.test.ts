import { describe, expect, it } from 'vitest'
import { invalidateConfirmed } from '../src/exports/adapter.js'
import { type Cache, createCache, memoryStore } from '../src/exports/index.js'
import { FaultyStore } from './support/faulty-store.js'

describe('invalidateConfirmed (for change-stream consumers)', () => {
  it('resolves true once the store applied the tags, false while they are only pending', async () => {
    const store = new FaultyStore(memoryStore())
    const cache = createCache({ store, namespace: 'confirmed' })
    await cache.set('k', 1, { tags: ['t:a'] })
    store.mode = 'fail-writes'
    expect(await invalidateConfirmed(cache, ['t:a'])).toBe(false)
    store.mode = 'ok'
    // The next call applies everything pending, the refused tag included.
    expect(await invalidateConfirmed(cache, ['t:b'])).toBe(true)
    expect(await cache.get('k')).toBeUndefined()
    await cache.close()
  })

  it('everything: moves the namespace epoch', async () => {
    const cache = createCache({ namespace: 'confirmed-all' })
    await cache.set('k', 1)
    expect(await invalidateConfirmed(cache, [], true)).toBe(true)
    expect(await cache.get('k')).toBeUndefined()
    await cache.close()
  })

  it('a Cache not made by createCache is invalidated through its public methods', async () => {
    const inner = createCache({ namespace: 'confirmed-foreign' })
    const calls: string[] = []
    const foreign = {
      ...inner,
      invalidateTags: async (tags: readonly string[]) => {
        calls.push(`tags:${tags.join(',')}`)
      },
      clear: async () => {
        calls.push('clear')
      },
    } as unknown as Cache
    expect(await invalidateConfirmed(foreign, ['t:x'])).toBe(true)
    expect(await invalidateConfirmed(foreign, [], true)).toBe(true)
    expect(calls).toEqual(['tags:t:x', 'clear'])
    await inner.close()
  })
})
