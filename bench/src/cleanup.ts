import { Redis } from 'ioredis'
import { redisUrl } from './config.js'

/**
 * Removes the keys this run left in Redis (all start with the run's prefix). SCAN is fine here:
 * it runs between scenarios (and between groups of closed subjects), never on a measured path.
 * Memcached keys expire on their own (TTL 10 min, ormcache tag tokens 15 min).
 */
export async function removeRunKeys(prefix: string): Promise<number> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
  } catch {
    return 0
  }
  let removed = 0
  let cursor = '0'
  try {
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) removed += await client.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
  return removed
}
