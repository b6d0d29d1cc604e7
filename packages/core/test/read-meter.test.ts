import { describe, expect, it } from 'vitest'
import { createCache, type OrmCacheError } from '../src/exports/index.js'
import { addReadMeter, contextOf } from '../src/observe.js'

describe('read meters (how metrics exporters see reads)', () => {
  it('gets every settled read positionally, without a `read` event being built', async () => {
    const cache = createCache({ namespace: 'read-meter' })
    const seen: unknown[][] = []
    const off = addReadMeter(contextOf(cache), (model, operation, source, tier) =>
      seen.push([model, operation, source, tier]),
    )
    await cache.wrap('k', () => 1, { model: 'User', operation: 'findUnique' })
    await cache.wrap('k', () => 1, { model: 'User', operation: 'findUnique' })
    await expect(cache.wrap('bad', () => Promise.reject(new Error('db')))).rejects.toThrow('db')
    off()
    await cache.wrap('k', () => 1)
    expect(seen).toEqual([
      ['User', 'findUnique', 'miss', undefined],
      ['User', 'findUnique', 'hit', 'l2'],
      [undefined, undefined, 'error', undefined],
    ])
    await cache.close()
  })

  it('a meter that throws never fails the read it measured; it is reported once as ERR_LISTENER', async () => {
    const cache = createCache({ namespace: 'read-meter-throws' })
    const errors: OrmCacheError[] = []
    cache.on('error', ({ error }) => errors.push(error))
    addReadMeter(contextOf(cache), () => {
      throw new Error('sdk bug')
    })
    expect(await cache.wrap('k', () => 1)).toBe(1)
    expect(await cache.wrap('k', () => 2)).toBe(1)
    expect(errors.map((error) => error.code)).toEqual(['ERR_LISTENER'])
    await cache.close()
  })
})
