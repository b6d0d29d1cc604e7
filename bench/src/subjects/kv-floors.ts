import { Redis } from 'ioredis'
import memjs from 'memjs'
import { memcachedServers, redisUrl, TTL_MS } from '../config.js'
import type { KvSubject, KvSubjectFactory } from './kv.js'

/**
 * The floors: what a hand-written cache-aside costs on the bare client (GET + JSON.parse), with
 * none of a library's guarantees. No stampede control, and a write is followed by a plain DEL.
 */
export const ioredisFloor: KvSubjectFactory = {
  id: 'ioredis-floor',
  label: 'ioredis GET + JSON.parse (floor)',
  library: 'floor',
  needs: ['redis'],
  async create(prefix) {
    // Same client settings as ormcache's redisStore({ url }): auto-pipelining on.
    const client = new Redis(redisUrl, { enableAutoPipelining: true })
    await client.ping()
    const subject: KvSubject = {
      id: this.id,
      label: this.label,
      library: this.library,
      async read<T>(key: string, _tags: readonly string[], load: () => Promise<T>): Promise<T> {
        const raw = await client.get(`${prefix}:${key}`)
        if (raw !== null) return JSON.parse(raw) as T
        const value = await load()
        await client.set(`${prefix}:${key}`, JSON.stringify(value), 'PX', TTL_MS)
        return value
      },
      async invalidate(key) {
        await client.del(`${prefix}:${key}`)
      },
      async close() {
        await client.quit()
      },
    }
    return subject
  },
}

export const memjsFloor: KvSubjectFactory = {
  id: 'memjs-floor',
  label: 'memjs get + JSON.parse (floor)',
  library: 'floor',
  needs: ['memcached'],
  async create(prefix) {
    const client = memjs.Client.create(memcachedServers.join(','), { logger: { log() {} } })
    const subject: KvSubject = {
      id: this.id,
      label: this.label,
      library: this.library,
      async read<T>(key: string, _tags: readonly string[], load: () => Promise<T>): Promise<T> {
        const { value: raw } = await client.get(`${prefix}:${key}`)
        if (raw !== null) return JSON.parse(raw.toString('utf8')) as T
        const value = await load()
        await client.set(`${prefix}:${key}`, JSON.stringify(value), { expires: Math.ceil(TTL_MS / 1000) })
        return value
      },
      async invalidate(key) {
        await client.delete(`${prefix}:${key}`)
      },
      async close() {
        client.close()
      },
    }
    return subject
  },
}
