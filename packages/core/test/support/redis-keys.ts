import { Cluster, Redis } from 'ioredis'

/**
 * Removes the keys a workspace's tests left under its own namespace prefixes, on the shared Redis
 * and on every master of the Redis Cluster: suites leave their keys with day-long TTLs, and the
 * bench and the profile tools measure on the same servers (thousands of leftover keys skewed
 * later runs). Test tooling only: the library itself never scans a keyspace.
 *
 * A server that does not answer is passed over with a line on stderr: tests that need it failed
 * already, loudly, and cleanup must not hide their report.
 */
export async function removeRedisKeysUnder(prefixes: readonly string[]): Promise<number> {
  for (const prefix of prefixes) {
    if (!/^[A-Za-z0-9._:-]+$/.test(prefix)) throw new Error(`not a plain key prefix: ${prefix}`)
  }
  let removed = 0
  const single = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', quiet)
  single.on('error', () => {})
  try {
    await single.connect()
    removed += await removeFrom(single, prefixes)
  } catch (error) {
    process.stderr.write(`test keys: Redis not cleaned (${(error as Error).message})\n`)
  } finally {
    single.disconnect()
  }
  const nodes = (process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002').split(',')
  const cluster = new Cluster(
    nodes.map((node) => {
      const [host, port] = node.trim().split(':')
      return { host: host!, port: Number(port) }
    }),
    { lazyConnect: true, clusterRetryStrategy: () => null, redisOptions: quiet },
  )
  cluster.on('error', () => {})
  try {
    await cluster.connect()
    for (const node of cluster.nodes('master')) removed += await removeFrom(node, prefixes)
  } catch (error) {
    process.stderr.write(`test keys: Redis Cluster not cleaned (${(error as Error).message})\n`)
  } finally {
    cluster.disconnect()
  }
  return removed
}

const quiet = { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null }

async function removeFrom(node: Redis, prefixes: readonly string[]): Promise<number> {
  let removed = 0
  for (const prefix of prefixes) {
    // Keys whose name starts with a hash tag carry the prefix inside the braces.
    for (const pattern of [`${prefix}*`, `{${prefix}*`]) {
      let cursor = '0'
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
        cursor = next
        // One key per call: keys of one scan page may sit in different slots of a cluster node.
        for (const key of keys) removed += await node.unlink(key)
      } while (cursor !== '0')
    }
  }
  return removed
}

/**
 * A vitest global setup whose teardown removes the keys under `prefixes`
 * (`workspaceTestConfig`'s `redisKeyPrefixes`, passed in ORMCACHE_TEST_KEY_PREFIXES): every workspace of the
 * repository uses it, so it lives once, here.
 */
export default function setup(): () => Promise<void> {
  const prefixes = (process.env.ORMCACHE_TEST_KEY_PREFIXES ?? '').split(',').filter(Boolean)
  return async () => {
    if (prefixes.length > 0) await removeRedisKeysUnder(prefixes)
  }
}
