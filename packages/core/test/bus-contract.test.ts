import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { type InvalidationBus, localBus } from '../src/exports/index.js'
import { RedisBus } from '../src/exports/redis.js'
import { runBusContract } from '../src/exports/testing.js'
import { connectRedis, redisUrl } from './support/services.js'

// An in-process bus is one instance shared by every cache of the "fleet": same channel, same bus.
const locals = new Map<string, InvalidationBus>()
runBusContract(
  'local',
  (channel) => {
    const bus = locals.get(channel) ?? localBus()
    locals.set(channel, bus)
    return bus
  },
  { describe, it, beforeAll, afterAll },
)

// Two RedisBus instances on one channel: two processes sharing a Redis server.
const clients: Redis[] = []
afterAll(() => {
  for (const client of clients) client.disconnect()
})
runBusContract(
  'redis',
  async (channel) => {
    ;(await connectRedis()).disconnect() // says which service to start when Redis is down
    // Not lazy, as an application's client: the bus's subscriber connection is its duplicate.
    const client = new Redis(redisUrl)
    client.on('error', () => {})
    clients.push(client)
    return new RedisBus(client, channel)
  },
  { describe, it, beforeAll, afterAll },
)
