/**
 * Prisma read benchmark: the same queries on PostgreSQL without a cache, through the memory
 * store, and through Redis, side by side in one run. Prints ops/s, p50/p99 latency and the
 * speed-up over the uncached client.
 *
 *   npm run bench:prisma -w @ormcache/prisma      (BENCH_SECONDS, BENCH_CONCURRENCY to tune)
 *
 * Needs PostgreSQL (DATABASE_URL) and, for the Redis column, Redis (REDIS_URL): `npm run services`.
 */
import { readFileSync } from 'node:fs'
import { type Cache, createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { cacheExtension } from '../src/index.js'
import { PrismaClient } from '../test/generated/postgres/client/client.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8)
const USERS = 500
const POSTS_PER_USER = 4
const DATABASE = 'ormcache_prisma_bench'

const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const benchUrl = (() => {
  const url = new URL(adminUrl)
  url.pathname = `/${DATABASE}`
  return url.toString()
})()

type Client = PrismaClient
interface Variant {
  name: string
  client: Client
  cache?: Cache
}
interface Scenario {
  name: string
  run: (client: Client, random: () => number) => Promise<unknown>
}
interface Result {
  ops: number
  opsPerSecond: number
  p50: number
  p99: number
  hitRatio: number | undefined
}

const scenarios: Scenario[] = [
  {
    name: 'findUnique by id',
    run: (client, random) => client.user.findUnique({ where: { id: 1 + Math.floor(random() * USERS) } }),
  },
  {
    name: 'findMany + include',
    run: (client, random) =>
      client.post.findMany({
        where: { authorId: 1 + Math.floor(random() * USERS) },
        include: { author: true, tags: true, _count: { select: { comments: true } } },
        orderBy: { id: 'asc' },
      }),
  },
]

async function prepareDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect().catch((error: Error) => {
    throw new Error(`PostgreSQL is not reachable at ${adminUrl} (${error.message}); run \`npm run services\``)
  })
  const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE])
  if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${DATABASE}"`)
  await admin.end()
  const db = new pg.Client({ connectionString: benchUrl })
  await db.connect()
  await db.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;')
  await db.query(readFileSync(new URL('../test/schema/postgres.sql', import.meta.url), 'utf8'))
  await db.query(`INSERT INTO tags (name) SELECT 'tag' || g FROM generate_series(1, 20) g`)
  await db.query(
    `INSERT INTO users (email, name, balance, visits, profile)
     SELECT 'user' || g || '@example.com', 'User ' || g, g * 1.25, g, jsonb_build_object('n', g)
     FROM generate_series(1, ${USERS}) g`,
  )
  await db.query(
    `INSERT INTO posts (title, published, views, author_id)
     SELECT 'Post ' || g, g % 2 = 0, g, 1 + (g % ${USERS}) FROM generate_series(1, ${USERS * POSTS_PER_USER}) g`,
  )
  await db.query(`INSERT INTO "_PostToTag" ("A", "B") SELECT id, 1 + (id % 20) FROM posts`)
  await db.query(`INSERT INTO comments (body, post_id) SELECT 'c' || id, id FROM posts WHERE id % 3 = 0`)
  await db.end()
}

function client(): Client {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: benchUrl, max: CONCURRENCY }) })
}

async function redisVariant(): Promise<Variant | string> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const store = redisStore({ url })
  try {
    await store.get('ormcache-bench-ping')
  } catch (error) {
    await store.close().catch(() => undefined)
    return `Redis not reachable at ${url} (${(error as Error).message}); run \`npm run services\``
  }
  const cache = createCache({ store, namespace: `bench-prisma-${process.pid}-${Date.now()}`, ttl: 600_000 })
  return { name: 'redis', client: client().$extends(cacheExtension({ cache })) as unknown as Client, cache }
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function measure(variant: Variant, scenario: Scenario): Promise<Result> {
  // Warm up: every key once (fills the cache), and the connection pool.
  const warm = mulberry32(7)
  for (let i = 0; i < USERS; i++) await scenario.run(variant.client, warm)
  const before = variant.cache?.stats()
  const latencies: number[] = []
  const deadline = performance.now() + SECONDS * 1000
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      const random = mulberry32(1_000 + worker)
      while (performance.now() < deadline) {
        const t0 = performance.now()
        await scenario.run(variant.client, random)
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const after = variant.cache?.stats()
  const hits = after && before ? after.hits - before.hits : 0
  const misses = after && before ? after.misses - before.misses : 0
  return {
    ops: latencies.length,
    opsPerSecond: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    hitRatio: variant.cache === undefined ? undefined : hits / Math.max(1, hits + misses),
  }
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')

async function main(): Promise<void> {
  console.log(`Preparing ${DATABASE}: ${USERS} users, ${USERS * POSTS_PER_USER} posts …`)
  await prepareDatabase()
  const memoryCache = createCache({ namespace: 'bench-prisma', ttl: 600_000 })
  const variants: Variant[] = [
    { name: 'uncached', client: client() },
    {
      name: 'memory',
      client: client().$extends(cacheExtension({ cache: memoryCache })) as unknown as Client,
      cache: memoryCache,
    },
  ]
  const redis = await redisVariant()
  if (typeof redis === 'string') console.log(`Skipping the Redis column: ${redis}`)
  else variants.push(redis)

  const rows: string[] = []
  for (const scenario of scenarios) {
    const results = new Map<string, Result>()
    for (const variant of variants) {
      process.stdout.write(`  ${scenario.name} / ${variant.name}: ${SECONDS}s × ${CONCURRENCY} callers … `)
      const result = await measure(variant, scenario)
      results.set(variant.name, result)
      console.log(`${fmt(result.opsPerSecond, 0)} ops/s`)
    }
    const base = results.get('uncached')!
    for (const [name, r] of results) {
      const speedup = name === 'uncached' ? '1.00×' : `${fmt(r.opsPerSecond / base.opsPerSecond)}×`
      rows.push(
        `| ${scenario.name} | ${name} | ${fmt(r.opsPerSecond, 0)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} | ${speedup} | ${
          r.hitRatio === undefined ? '—' : `${fmt(r.hitRatio * 100, 1)}%`
        } |`,
      )
    }
  }
  console.log(
    `\nPostgreSQL ${USERS} users / ${USERS * POSTS_PER_USER} posts, ${CONCURRENCY} concurrent callers, ${SECONDS}s per cell, Node ${process.version}`,
  )
  console.log('| query | client | ops/s | p50 ms | p99 ms | speed-up | hit ratio |')
  console.log('|---|---|---:|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)

  for (const variant of variants) await variant.client.$disconnect()
  for (const variant of variants) await variant.cache?.close()
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
