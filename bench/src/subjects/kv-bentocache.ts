import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import { Redis } from 'ioredis'
import { redisUrl, TTL_MS } from '../config.js'
import type { KvSubject, KvSubjectFactory } from './kv.js'

/**
 * bentocache with its Redis driver: `getOrSet` with the same tags as ormcache, `deleteByTag`
 * after a write. `tiered` adds its in-process L1 (memory driver) and the Redis bus that keeps
 * other processes' L1 coherent, bentocache's recommended multi-tier setup.
 */
export function bentocacheKv(tiered: boolean): KvSubjectFactory {
  return {
    id: tiered ? 'bentocache-tiered' : 'bentocache-redis',
    label: tiered ? 'bentocache (L1 + Redis + bus)' : 'bentocache (Redis)',
    library: 'bentocache',
    needs: ['redis'],
    async create(prefix) {
      // Same client settings as ormcache's redisStore({ url }): auto-pipelining on.
      const connection = new Redis(redisUrl, { enableAutoPipelining: true })
      connection.on('error', () => {})
      let store = bentostore()
      if (tiered) store = store.useL1Layer(memoryDriver({ maxItems: 10_000 }))
      store = store.useL2Layer(redisDriver({ connection }))
      if (tiered) store = store.useBus(redisBusDriver({ connection: redisOptions() }))
      const bento = new BentoCache({ default: 'main', prefix, ttl: TTL_MS, stores: { main: store } })
      const subject: KvSubject = {
        id: this.id,
        label: this.label,
        library: this.library,
        read: <T>(key: string, tags: readonly string[], load: () => Promise<T>) =>
          bento.getOrSet({ key, factory: load, tags: [...tags] }),
        async invalidate(_key, tags) {
          await bento.deleteByTag({ tags: [...tags] })
        },
        async close() {
          await bento.disconnectAll()
          // quit, not disconnect: replies bentocache still waits for arrive first.
          await connection.quit().catch(() => connection.disconnect())
        },
      }
      return subject
    },
  }
}

function redisOptions(): { host: string; port: number; db: number } {
  const url = new URL(redisUrl)
  return {
    host: url.hostname || '127.0.0.1',
    port: Number(url.port || 6379),
    db: Number(url.pathname.slice(1) || 0),
  }
}
