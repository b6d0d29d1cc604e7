import crypto from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { connectRedis, redisUrl } from './support/services.js'

/**
 * Regression: a cache whose Redis connection was not up yet sent its first lookup before it knew
 * the server's run id. The lookup created an unstamped namespace epoch that the next lookup had
 * to move, and its own reply was judged untrusted, so the first readers of a cold start loaded
 * without the lease (the 4-process stampede test saw a third load). A cold lookup now waits for
 * the run id, bounded, and stamps the epoch it creates.
 */
const caches: Cache[] = []
afterAll(async () => {
  for (const cache of caches) await cache.close()
})

describe('a cold Redis connection', () => {
  it('stamps the epoch its first lookup creates and reads under the lease, not around the store', async () => {
    const admin = await connectRedis()
    const runId = /run_id:([0-9a-f]{16})/.exec(await admin.info('server'))![1]!
    const namespace = `cold-${crypto.randomUUID()}`
    const cache = createCache({ store: redisStore({ url: redisUrl }), namespace, l1: false })
    caches.push(cache)
    const errors: string[] = []
    cache.on('error', ({ error }) => errors.push(error.code))

    // The very first call, while the client is still connecting.
    const first = await cache.wrapWithInfo('k', () => 'v1', { tags: ['t'] })
    expect(first.info.source).toBe('miss')
    expect(first.info.reason).toBe('absent')
    const epoch = await admin.get(`${namespace}:g`)
    expect(epoch).toMatch(new RegExp(`@${runId}`))

    // Nothing was moved after it: the second read is a hit under the same epoch.
    const second = await cache.wrapWithInfo('k', () => 'v2', { tags: ['t'] })
    expect(second).toMatchObject({ value: 'v1', info: { source: 'hit' } })
    expect(await admin.get(`${namespace}:g`)).toBe(epoch)
    expect(errors).toEqual([])
    admin.disconnect()
  })
})

describe('a write first on a cold Redis connection', () => {
  it('is readable afterwards: its epoch is stamped, not moved by the next lookup', async () => {
    const namespace = `cold-write-${crypto.randomUUID()}`
    const cache = createCache({ store: redisStore({ url: redisUrl }), namespace, l1: false })
    caches.push(cache)
    await cache.set('keep', 'me')
    expect(await cache.get('keep')).toBe('me')
  })
})

describe('learning the run id on a new connection', () => {
  it('costs no round trip of its own: the id is known when the connection turns ready', async () => {
    // INFO travels during the handshake (with ioredis's ready check), not one trip after it:
    // a fresh process's first lookup waits for the id (issue 12, stampede of fresh processes).
    const store = redisStore({ url: redisUrl })
    try {
      const client = store.client as import('ioredis').Redis
      const seen = new Promise<string | undefined>((resolve) =>
        client.once('ready', () => resolve(store.lineage?.())),
      )
      expect(await seen).toMatch(/^[0-9a-f]{16}$/)
    } finally {
      await store.close()
    }
  })
})
