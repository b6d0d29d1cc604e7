import crypto from 'node:crypto'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { redisStore } from '../src/exports/redis.js'
import { WAKE_CHANNEL } from '../src/redis/redis-wake.js'
import type { BusMessage } from '../src/tiers/bus.js'
import { connectRedis, redisUrl } from './support/services.js'

/**
 * Subscribers are duplicates of the store's client. A client created with `lazyConnect` hands
 * that option to its duplicates, which then never connected: the bus stayed "missing messages"
 * (L1 off) and lease waiters polled instead of being woken. Regression test for both users.
 */
describe('subscriptions on a lazyConnect client', () => {
  const opened: Redis[] = []
  afterEach(() => {
    for (const client of opened.splice(0)) client.disconnect()
  })

  const lazyClient = () => {
    const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 })
    client.on('error', () => {})
    opened.push(client)
    return client
  }

  it('the invalidation bus goes live and delivers messages', async () => {
    const lazy = lazyClient()
    expect(lazy.status).toBe('wait')
    const channel = `bus-${crypto.randomBytes(4).toString('hex')}`
    const bus = redisStore({ client: lazy }).createBus(channel)
    const received: BusMessage[] = []
    const live = new Promise<void>((resolve) => {
      void bus.subscribe({
        onMessage: (message) => received.push(message),
        onState: (connected) => {
          if (connected) resolve()
        },
      })
    })
    await Promise.race([
      live,
      new Promise((_, reject) => setTimeout(() => reject(new Error('bus never went live')), 3_000)),
    ])
    const publisher = await connectRedis()
    opened.push(publisher)
    const message: BusMessage = { origin: 'other', tags: ['users'], keys: [], everything: false }
    await publisher.publish(channel, JSON.stringify(message))
    for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    expect(received).toEqual([message])
  })

  it('a lease waiter’s wake subscription goes live', async () => {
    const lazy = lazyClient()
    const store = redisStore({ client: lazy })
    const observer = await connectRedis()
    opened.push(observer)
    const subscribers = async () => ((await observer.pubsub('NUMSUB', WAKE_CHANNEL)) as [string, number])[1]
    const before = await subscribers()
    // The first wait opens the subscription and resolves once it is live: long before its
    // fallback, which is past the test's timeout.
    await store.waitForFill('k', 60_000, performance.now())
    expect(await subscribers()).toBe(before + 1)
  })
})
