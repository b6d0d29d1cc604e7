import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { memoryQueue } from '../src/exports/index.js'
import { redisStreamQueue } from '../src/exports/redis.js'
import { runQueueContract } from '../src/exports/testing.js'
import { connectRedis } from './support/services.js'

// keyv style: one contract per pluggable interface, run by every implementation.
runQueueContract('memory', () => memoryQueue(), { describe, it, beforeAll, afterAll })

let client: Redis | undefined
afterAll(() => client?.disconnect())
runQueueContract(
  'redis-stream',
  async () => {
    client ??= await connectRedis()
    return redisStreamQueue({ client, name: 'contract' })
  },
  { describe, it, beforeAll, afterAll },
)
