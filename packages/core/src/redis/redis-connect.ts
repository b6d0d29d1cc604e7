import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis'
import { InvalidOptionError } from '../errors.js'
import { redactCredentials } from '../redact.js'
import { loadPeer } from '../store/peer.js'

export interface RedisUrlOptions extends RedisOptions {
  /**
   * redis://[user:pass@]host:port[/db], rediss:// for TLS, or
   * redis+cluster://[user:pass@]host:port,host:port (rediss+cluster:// for TLS) for a Cluster
   * seeded by those nodes. Other ioredis options (tls, username, password, …) pass through.
   */
  url: string
  /** Extra ioredis Cluster options when `url` is a cluster URL. */
  cluster?: ClusterOptions
}

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)\/?$/

/**
 * Builds the client a `{ url }` store owns: auto-pipelined, quiet on connection errors, and with
 * `maxRetriesPerRequest: 0`, so a command waiting for a connection that fails is rejected at
 * once (the cache then goes to the database) instead of waiting in the offline queue for its
 * timeout; later calls fail fast through `RedisStore.unavailable()` until it reconnects.
 */
export function connect(options: RedisUrlOptions): Redis | Cluster {
  const { url, cluster, ...redisOptions } = options
  if (typeof url !== 'string' || url === '') throw new InvalidOptionError('url', 'must be a redis:// URL')
  const ioredis = loadPeer<typeof import('ioredis')>('ioredis', '@ormcache/core/redis')
  const match = CLUSTER_URL.exec(url)
  let client: Redis | Cluster
  if (match) {
    const [, scheme, username, password, hosts] = match
    const nodes = hosts!.split(',').map((entry) => parseNode(entry, url))
    const nodeOptions: RedisOptions = { ...redisOptions }
    if (username) nodeOptions.username = decodeURIComponent(username)
    if (password) nodeOptions.password = decodeURIComponent(password)
    if (scheme === 'rediss' && nodeOptions.tls === undefined) nodeOptions.tls = {}
    client = new ioredis.Cluster(nodes, {
      enableAutoPipelining: true,
      ...cluster,
      redisOptions: {
        maxRetriesPerRequest: 0,
        disableClientInfo: true,
        ...nodeOptions,
        ...cluster?.redisOptions,
      },
    })
  } else if (/^rediss?:\/\//.test(url)) {
    client = newRedis(ioredis, url, redisOptions)
  } else {
    throw new InvalidOptionError(
      'url',
      `"${redactCredentials(url)}" is not a redis://, rediss:// or redis+cluster:// URL`,
    )
  }
  // Failures reach the cache as rejected commands; without a listener ioredis would also
  // print every reconnect attempt to stderr.
  client.on('error', () => {})
  return client
}

/**
 * `disableClientInfo`: ioredis otherwise reads its own package.json from disk and sends CLIENT
 * SETINFO on every connection before its ready check, a file read and a round trip ahead of the
 * first lookup (a fresh process's first reads wait for them; on a busy host that is ms). The
 * library name in CLIENT LIST is all it buys; pass `disableClientInfo: false` to keep it.
 */
const OWNED_DEFAULTS = { enableAutoPipelining: true, maxRetriesPerRequest: 0, disableClientInfo: true }

/** ioredis parses the URL itself and may throw with the URL in its message: refuse it redacted. */
function newRedis(ioredis: typeof import('ioredis'), url: string, options: RedisOptions): Redis {
  try {
    return new ioredis.Redis(url, { ...OWNED_DEFAULTS, ...options })
  } catch (error) {
    throw new InvalidOptionError(
      'url',
      `"${redactCredentials(url)}" could not be parsed: ${redactCredentials(error instanceof Error ? error.message : String(error))}`,
    )
  }
}

function parseNode(entry: string, url: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(entry.trim())
  if (!match) {
    throw new InvalidOptionError(
      'url',
      `cannot parse cluster node "${redactCredentials(entry)}" in ${redactCredentials(url)}`,
    )
  }
  const host = match[1]!
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(match[2] ?? 6379) }
}
