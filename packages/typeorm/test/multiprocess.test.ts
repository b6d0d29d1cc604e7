import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import { Redis } from 'ioredis'
import { DataSource } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { typeormCache } from '../src/index.js'
import { connectionOptions, ensureDatabase } from './support/databases.js'
import { defineEntities } from './support/entities.js'
import { checkedReads } from './support/workload.js'

const WORKERS = 4
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

interface WorkerStats {
  hits: number
  misses: number
  invalidations: number
  errors: number
}

function runWorker(namespace: string, seed: number, listTags: string): Promise<WorkerStats> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', here('./support/worker.ts')], {
      cwd: here('..'),
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: here('./support/tsconfig.worker.json'),
        ORMCACHE_NAMESPACE: namespace,
        ORMCACHE_SEED: String(seed),
        ORMCACHE_OPS: '300',
        ORMCACHE_LIST_TAGS: listTags,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => (err += chunk))
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker ${seed} exited with ${code}: ${err || out}`))
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerStats)
    })
  })
}

describe.each(['rows', 'members'] as const)(
  'randomized run: 4 processes, PostgreSQL, shared Redis, listTags %s',
  (listTags) => {
    const namespace = `typeorm-mp-${process.pid}-${Date.now()}-${listTags}`
    const e = defineEntities('postgres')
    let ds: DataSource
    let redis: Redis
    let ids: number[]
    let postIds: number[]

    beforeAll(async () => {
      redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
      redis.on('error', () => {})
      await redis.connect().catch((error: unknown) => {
        throw new Error(`Redis is not reachable at ${redisUrl} (${String(error)}); run \`npm run services\``)
      })
      await ensureDatabase('postgres')
      ds = new DataSource({
        ...connectionOptions('postgres'),
        entities: e.all,
        synchronize: true,
        dropSchema: true,
      })
      await ds.initialize()
      const users = await ds
        .getRepository(e.User)
        .save(Array.from({ length: 5 }, (_, i) => ({ name: `user${i}` })))
      const tags = await ds.getRepository(e.Tag).save([{ label: 'red' }, { label: 'blue' }])
      const posts = await ds.getRepository(e.Post).save(
        Array.from({ length: 8 }, (_, i) => ({
          title: `post${i}`,
          authorId: users[i % 5]!.id,
          tags: [tags[i % 2]!],
        })),
      )
      ids = users.map((u) => u.id)
      postIds = posts.map((p) => p.id)
    })

    afterAll(async () => {
      await ds?.destroy()
      await redis?.del(`${namespace}:g`)
      redis?.disconnect()
    })

    it('ends with every cached read equal to the database', async () => {
      const stats = await Promise.all(
        Array.from({ length: WORKERS }, (_, i) => runWorker(namespace, i + 1, listTags)),
      )
      const total = stats.reduce((a, b) => ({
        hits: a.hits + b.hits,
        misses: a.misses + b.misses,
        invalidations: a.invalidations + b.invalidations,
        errors: a.errors + b.errors,
      }))
      expect(total.errors).toBe(0)
      expect(total.hits).toBeGreaterThan(0)
      expect(total.invalidations).toBeGreaterThan(0)

      const cache = createCache({ store: redisStore({ url: redisUrl }), namespace, tagTtl: 10 * 60_000 })
      const checker = new DataSource({
        ...connectionOptions('postgres'),
        entities: e.all,
        ...typeormCache({ cache, listTags }),
      })
      await checker.initialize()
      try {
        // Twice: the first pass may hit the workers' entries, the second hits what the first filled.
        for (let pass = 0; pass < 2; pass++) {
          const cached = await checkedReads(checker, e, ids, postIds, true)
          const database = await checkedReads(checker, e, ids, postIds, false)
          expect(cached).toEqual(database)
        }
        expect(cache.stats().hits).toBeGreaterThan(0) // the workers' entries were really read
      } finally {
        await checker.destroy()
        await cache.close()
      }
    }, 180_000)
  },
)
