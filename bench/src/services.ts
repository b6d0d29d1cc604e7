import net from 'node:net'
import { Redis } from 'ioredis'
import pg from 'pg'
import { adminDatabaseUrl, memcachedServers, redisUrl } from './config.js'

/**
 * Checks that the services a scenario needs answer, and fails with the service's name and the
 * command that starts it. A benchmark against a missing service never degrades into measuring
 * error paths.
 */
export function unreachable(service: string, where: string, cause?: unknown): Error {
  const why = cause instanceof Error ? ` (${cause.message})` : ''
  return new Error(`${service} is not reachable at ${where}${why}; run \`npm run services\``)
}

export async function requireRedis(): Promise<void> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    throw unreachable('Redis', redisUrl, error)
  } finally {
    client.disconnect()
  }
}

export async function requireMemcached(): Promise<void> {
  for (const server of memcachedServers) {
    const [host = '127.0.0.1', port = '11211'] = server.split(':')
    try {
      await ping(host, Number(port))
    } catch (error) {
      throw unreachable('Memcached', server, error)
    }
  }
}

export async function requirePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl(), connectionTimeoutMillis: 5_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (error) {
    throw unreachable('PostgreSQL', adminDatabaseUrl(), error)
  } finally {
    await client.end().catch(() => {})
  }
}

/** Sends memcached's text "version" command and waits for its reply. */
function ping(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port })
    const timer = setTimeout(() => socket.destroy(new Error('no reply within 3 s')), 3_000)
    socket.once('connect', () => socket.write('version\r\n'))
    socket.once('data', (data) => {
      clearTimeout(timer)
      socket.end()
      if (data.toString().startsWith('VERSION')) resolve()
      else reject(new Error(`unexpected reply ${JSON.stringify(data.toString().slice(0, 40))}`))
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}
