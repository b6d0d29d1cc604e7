import { type Cache, createCache } from '@ormcache/core'
import { memcachedStore } from '@ormcache/core/memcached'
import { redisStore } from '@ormcache/core/redis'
import { memcachedServers, redisUrl, TTL_MS } from '../config.js'

/** The ormcache configurations the suite compares; each is one `createCache` call. */
export type OrmcacheVariant = 'redis' | 'memcached' | 'memory' | 'l1-bounded' | 'l1-strict'

export const ORMCACHE_LABELS: Record<OrmcacheVariant, string> = {
  redis: 'ormcache (Redis)',
  memcached: 'ormcache (Memcached)',
  memory: 'ormcache (memory store)',
  'l1-bounded': 'ormcache (L1 bounded + Redis)',
  'l1-strict': 'ormcache (L1 strict + Redis)',
}

/**
 * `namespace` must be unique per run (it prefixes every store key). Tag tokens get a 15-minute
 * lifetime instead of the default 24 h so a run leaves nothing long-lived behind; a missing
 * token only ever causes a miss, and no scenario runs that long.
 */
export function ormcacheCache(variant: OrmcacheVariant, namespace: string): Cache {
  const common = { namespace, ttl: TTL_MS, tagTtl: 15 * 60_000 }
  switch (variant) {
    case 'redis':
      return createCache({ ...common, store: redisStore({ url: redisUrl }) })
    case 'memcached':
      return createCache({ ...common, store: memcachedStore({ servers: memcachedServers }) })
    case 'memory':
      return createCache(common)
    case 'l1-bounded':
      return createCache({
        ...common,
        store: redisStore({ url: redisUrl }),
        l1: { maxEntries: 10_000 },
        consistency: 'bounded',
      })
    case 'l1-strict':
      return createCache({
        ...common,
        store: redisStore({ url: redisUrl }),
        l1: { maxEntries: 10_000 },
        consistency: 'strict',
      })
  }
}

export const variantNeeds = (variant: OrmcacheVariant): ('redis' | 'memcached')[] =>
  variant === 'memory' ? [] : variant === 'memcached' ? ['memcached'] : ['redis']
