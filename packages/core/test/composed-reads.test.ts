import { describe, expect, it } from 'vitest'
import { composesReads } from '../src/exports/adapter.js'
import { type Cache, createCache, memoryStore } from '../src/exports/index.js'

describe('composesReads (reads assembled from other cached reads)', () => {
  it('holds for a store that bumps a write’s tags in one step and no bounded L1', async () => {
    const cache = createCache({ store: memoryStore(), namespace: 'composes' })
    expect(composesReads(cache)).toBe(true)
    await cache.close()
  })

  it('not for a store whose coarse and fine bumps are two steps', async () => {
    const inner = memoryStore()
    const store = Object.create(inner, {
      capabilities: { value: { ...inner.capabilities, orderedBatches: false } },
    }) as typeof inner
    const cache = createCache({ store, namespace: 'composes-unordered' })
    expect(composesReads(cache)).toBe(false)
    await cache.close()
  })

  it('not for a Cache made elsewhere', () => {
    expect(composesReads({} as Cache)).toBe(false)
  })
})
