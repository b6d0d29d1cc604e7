import { describe, expect, it } from 'vitest'
import { createCache, InvalidOptionError } from '../src/exports/index.js'

describe('stats() per model', () => {
  it('gives each model its own hit ratio, so a user sees which models benefit', async () => {
    const cache = createCache({ namespace: 'model-stats' })
    for (let i = 0; i < 4; i++)
      await cache.wrap('user:1', () => 1, { model: 'User', operation: 'findUnique' })
    await cache.wrap('post:1', () => 1, { model: 'Post' })
    await cache.invalidateTags(['posts'])
    await cache.wrap('post:2', () => 1, { model: 'Post', tags: ['posts'] })
    await cache.wrap('plain', () => 1)
    const stats = cache.stats()
    expect(stats.models).toEqual({
      User: { hits: 3, staleHits: 0, misses: 1, hitRatio: 0.75 },
      Post: { hits: 0, staleHits: 0, misses: 2, hitRatio: 0 },
    })
    // Totals still count every read, with or without a model.
    expect(stats.hits + stats.misses).toBe(7)
    await cache.close()
  })

  it('counts a failed read as a miss of its model', async () => {
    const cache = createCache({ namespace: 'model-stats-error' })
    await expect(cache.wrap('k', () => Promise.reject(new Error('db')), { model: 'User' })).rejects.toThrow(
      'db',
    )
    expect(cache.stats().models.User).toEqual({ hits: 0, staleHits: 0, misses: 1, hitRatio: 0 })
  })

  it('keeps the model label bounded', async () => {
    const cache = createCache({ namespace: 'model-stats-many' })
    for (let i = 0; i < 300; i++) await cache.wrap(`k${i}`, () => i, { model: `M${i}` })
    const models = cache.stats().models
    expect(Object.keys(models)).toHaveLength(257)
    expect(models['(other)']?.misses).toBe(44)
  })

  it('rejects an empty model or operation name', async () => {
    const cache = createCache()
    await expect(cache.wrap('k', () => 1, { model: '' })).rejects.toThrow(InvalidOptionError)
    await expect(cache.wrap('k', () => 1, { operation: 5 as never })).rejects.toThrow(/operation/)
  })
})
