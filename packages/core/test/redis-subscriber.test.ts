import crypto from 'node:crypto'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { redisStore } from '../src/exports/redis.js'
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
    // The first wait opens the subscription and asks its caller to poll meanwhile.
    expect(store.waitForFill('k', 0, performance.now())).toBeUndefined()
    let waiting: Promise<string | undefined> | undefined
    for (let i = 0; i < 600 && waiting === undefined; i++) {
      await new Promise((r) => setTimeout(r, 5))
      waiting = store.waitForFill('k', 10, performance.now())
    }
    expect(waiting).toBeDefined()
    expect(await waiting).toBeUndefined()
  })
})
