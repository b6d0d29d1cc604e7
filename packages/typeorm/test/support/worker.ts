/**
 * One process of the randomized multi-process run (test/multiprocess.test.ts): random reads and
 * writes through TypeORM on the shared PostgreSQL database, cached in the shared Redis namespace.
 * Prints its cache stats as JSON on the last line.
 */
import 'reflect-metadata'
import { createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import { DataSource } from 'typeorm'
import { typeormCache } from '../../src/index.js'
import { connectionOptions } from './databases.js'
import { defineEntities } from './entities.js'
import { randomOp } from './workload.js'

const namespace = process.env.ORMCACHE_NAMESPACE!
const ops = Number(process.env.ORMCACHE_OPS ?? 300)
let state = Number(process.env.ORMCACHE_SEED ?? 1)
const random = (n: number) => {
  state = (state * 1103515245 + 12345) % 2 ** 31
  return state % n
}

const cache = createCache({
  store: redisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
  namespace,
  tagTtl: 10 * 60_000,
})
const e = defineEntities('postgres')
const ds = new DataSource({
  ...connectionOptions('postgres'),
  entities: e.all,
  ...typeormCache({
    cache,
    alwaysEnabled: true,
    listTags: process.env.ORMCACHE_LIST_TAGS === 'members' ? 'members' : 'rows',
  }),
})
await ds.initialize()
const ids = (await ds.getRepository(e.User).find({ cache: false })).map((u) => u.id)
const postIds = (await ds.getRepository(e.Post).find({ cache: false })).map((p) => p.id)
const pending = new Set<Promise<unknown>>()
for (let i = 0; i < ops; i++) {
  const run = randomOp(ds, e, ids, postIds, random, `${process.pid}-${i}`).finally(() => pending.delete(run))
  pending.add(run)
  if (pending.size >= 6) await Promise.race(pending)
}
await Promise.all(pending)
const stats = cache.stats()
await ds.destroy()
await cache.close()
console.log(
  JSON.stringify({
    hits: stats.hits,
    misses: stats.misses,
    invalidations: stats.invalidations,
    errors: stats.errors,
  }),
)
