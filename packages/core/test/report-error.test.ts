import { describe, expect, it } from 'vitest'
import { createCache, InvalidTagError, type OrmCacheError } from '../src/exports/index.js'

describe('cache.reportError (for adapters that must not throw from ORM hooks)', () => {
  it('emits an error event, calls onError and counts it, wrapping foreign errors in a typed one', () => {
    const seen: OrmCacheError[] = []
    const cache = createCache({ onError: (error) => seen.push(error) })
    const events: { error: OrmCacheError; operation: string; key?: string }[] = []
    cache.on('error', (event) => events.push(event))

    cache.reportError(new Error('boom'), 'typeorm:afterQuery')
    cache.reportError(new InvalidTagError('bad tag'), 'typeorm:afterUpdate', 'k')

    expect(events.map((e) => [e.operation, e.error.code, e.key])).toEqual([
      ['typeorm:afterQuery', 'ERR_ADAPTER', undefined],
      ['typeorm:afterUpdate', 'ERR_INVALID_TAG', 'k'],
    ])
    expect(events[0]!.error.message).toContain('boom')
    expect(seen).toHaveLength(2)
    expect(cache.stats().errors).toBe(2)
  })
})
