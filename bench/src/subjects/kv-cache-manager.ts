import KeyvRedis from '@keyv/redis'
import { createCache } from 'cache-manager'
import { Keyv } from 'keyv'
import { redisUrl, TTL_MS } from '../config.js'
import type { KvSubject, KvSubjectFactory } from './kv.js'

/**
 * cache-manager 7 over Keyv and @keyv/redis (which uses node-redis, not ioredis). It has no
 * tags: a write deletes the row's key, which is what its documentation leaves to the caller.
 */
export const cacheManagerKv: KvSubjectFactory = {
  id: 'cache-manager-redis',
  label: 'cache-manager (Keyv Redis)',
  library: 'cache-manager',
  needs: ['redis'],
  async create(prefix) {
    const keyv = new Keyv({ store: new KeyvRedis(redisUrl), namespace: prefix, useKeyPrefix: false })
    keyv.on('error', () => {})
    const cache = createCache({ stores: [keyv], ttl: TTL_MS })
    const subject: KvSubject = {
      id: this.id,
      label: this.label,
      library: this.library,
      read: <T>(key: string, _tags: readonly string[], load: () => Promise<T>) => cache.wrap(key, load),
      async invalidate(key) {
        await cache.del(key)
      },
      async close() {
        await cache.disconnect()
      },
    }
    return subject
  },
}
