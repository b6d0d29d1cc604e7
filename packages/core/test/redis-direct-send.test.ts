import crypto from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { countRedis, RoundTrips } from './support/round-trips.js'
import { connectRedis } from './support/services.js'

/**
 * The hit reads, scripts and MGETs on a single node are written past ioredis's auto-pipelining
 * (redis/redis-direct.ts), so they build their commands themselves: the client's key prefix and
 * reply encoding must be the ones its command methods use, or a hit would read other keys than
 * the fill wrote and every read would miss (or worse, read another prefix's entries).
 */
describe('commands sent past auto-pipelining (Redis)', () => {
  for (const autoPipelining of [true, false]) {
    it(`keep the client's key prefix and still hit (enableAutoPipelining: ${autoPipelining})`, async () => {
      const prefix = `kp-${crypto.randomBytes(4).toString('hex')}:`
      const client = await connectRedis({ keyPrefix: prefix, enableAutoPipelining: autoPipelining })
      const bare = await connectRedis()
      const counter = new RoundTrips()
      countRedis(client, counter)
      const namespace = `direct-${crypto.randomBytes(4).toString('hex')}`
      const cache = createCache({ store: redisStore({ client }), namespace, bus: false, l1: false })
      const other = createCache({
        store: redisStore({ client: bare }),
        namespace,
        bus: false,
        l1: false,
      })
      try {
        let loads = 0
        const read = () =>
          cache.wrapWithInfo('users:1', async () => ({ id: 1, name: `v${++loads}` }), { tags: ['users'] })
        expect((await read()).info.source).toBe('miss')
        const hit = await counter.during(read)
        expect(hit.commands).toEqual(['getex', 'mget'])
        expect(await read()).toMatchObject({ value: { name: 'v1' }, info: { source: 'hit' } })
        // Every key this cache wrote carries the prefix; the same namespace without it sees none.
        const written = await bare.keys(`${prefix}*`)
        expect(written.length).toBeGreaterThan(0)
        expect(await other.wrap('users:1', async () => 'unprefixed', { tags: ['users'] })).toBe('unprefixed')
        await cache.invalidateTags(['users'])
        expect(await read()).toMatchObject({ value: { name: 'v2' }, info: { source: 'miss' } })
      } finally {
        await cache.close()
        await other.close()
        const left = await bare.keys(`${prefix}*`)
        if (left.length > 0) await bare.del(...left)
        client.disconnect()
        bare.disconnect()
      }
    })
  }
})
