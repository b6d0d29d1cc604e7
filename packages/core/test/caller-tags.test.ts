import crypto from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { type CacheStore, createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { connectRedis } from './support/services.js'

/**
 * An entry answers a read only if it depends on every tag the read asks for (after-load guards
 * aside). Regression: an entry filled by a read with fewer tags answered a read of the same key
 * with more, and invalidating the extra tag never evicted what that read was served.
 */
const clients: Redis[] = []
afterAll(() => {
  for (const client of clients) client.disconnect()
})

const stores: Array<[string, () => Promise<CacheStore | undefined>]> = [
  ['memory', async () => undefined],
  [
    'redis',
    async () => {
      const client = await connectRedis()
      clients.push(client)
      return redisStore({ client })
    },
  ],
]

describe.each(stores)('caller tags on %s', (_name, makeStore) => {
  it('a read asking for a tag the stored entry lacks loads, and invalidating that tag evicts it', async () => {
    const store = await makeStore()
    const cache = createCache({
      namespace: `caller-tags-${crypto.randomBytes(4).toString('hex')}`,
      ...(store === undefined ? {} : { store }),
    })
    expect(await cache.wrap('feed:1', () => 'first', { tags: ['users'] })).toBe('first')
    expect(await cache.wrap('feed:1', () => 'second', { tags: ['users', 'feed'] })).toBe('second')
    expect(await cache.wrap('feed:1', () => 'unused', { tags: ['users', 'feed'] })).toBe('second')
    await cache.invalidateTags(['feed'])
    expect(await cache.wrap('feed:1', () => 'third', { tags: ['users', 'feed'] })).toBe('third')
    // An entry that depends on more than a read asks for still answers it.
    expect(await cache.wrap('feed:1', () => 'unused', { tags: ['users'] })).toBe('third')
    await cache.close()
  })
})
