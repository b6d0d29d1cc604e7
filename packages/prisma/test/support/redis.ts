import { Redis } from 'ioredis'
import { redisUrl } from './env.js'

/** Fails (never skips) with a message naming the service when Redis does not answer. */
export async function requireRedis(): Promise<string> {
  const url = redisUrl()
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000 })
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${url} (${(error as Error).message}). Start it with \`npm run services\`.`,
    )
  } finally {
    client.disconnect()
  }
  return url
}
