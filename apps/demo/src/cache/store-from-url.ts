import { type CacheStore, memoryStore } from '@ormcache/core'
import { memcachedStore } from '@ormcache/core/memcached'
import { redisStore } from '@ormcache/core/redis'
import { ConfigError } from '../errors.js'
import { hideUrlCredentials, hideUserInfo } from '../hide-credentials.js'

export type StoreKind = 'memory' | 'redis' | 'redis-cluster' | 'memcached'

export interface StoreChoice {
  kind: StoreKind
  store: CacheStore
  /** For the dashboard and the startup line, without credentials. */
  display: string
}

/**
 * CACHE_URL → store: `memory` (the embedded default), `redis://host:port[/db]`, `rediss://…`,
 * `redis+cluster://host:port,host:port`, `memcached://host:port,host:port`.
 */
export function storeFromUrl(url: string): StoreChoice {
  if (url === '' || url === 'memory' || url === 'memory://') {
    return { kind: 'memory', store: memoryStore({ maxEntries: 100_000 }), display: 'memory (in-process)' }
  }
  if (/^rediss?\+cluster:\/\//.test(url)) {
    return { kind: 'redis-cluster', store: redisStore({ url }), display: hideUrlCredentials(url) }
  }
  if (/^rediss?:\/\//.test(url)) {
    return {
      kind: 'redis',
      store: redisStore({ url, maxRetriesPerRequest: 1 }),
      display: hideUrlCredentials(url),
    }
  }
  if (url.startsWith('memcached://')) {
    const servers = url
      .slice('memcached://'.length)
      .replace(/\/$/, '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    if (servers.length === 0) throw new ConfigError('CACHE_URL', 'memcached:// needs at least one host:port')
    return {
      kind: 'memcached',
      store: memcachedStore({ servers }),
      display: `memcached://${servers.map(hideUserInfo).join(',')}`,
    }
  }
  throw new ConfigError(
    'CACHE_URL',
    `"${hideUrlCredentials(url)}" is not one of memory, redis://…, rediss://…, redis+cluster://…, memcached://host:port,…`,
  )
}
