/**
 * TypeORM read caching on PostgreSQL: no cache, ormcache (memory and Redis stores) and TypeORM's
 * built-in ioredis query cache, for a primary-key lookup and a find with relations. Prints ops/s,
 * p50/p99 latency and what each returns right after an update (fresh or stale).
 *
 *   npm run bench:typeorm -w @ormcache/typeorm     (env: DATABASE_URL, REDIS_URL, BENCH_SECONDS)
 */
import 'reflect-metadata'
import { createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import { DataSource, type DataSourceOptions } from 'typeorm'
import { typeormCache } from '../src/index.js'
import { connectionOptions, ensureDatabase } from '../test/support/databases.js'
import { defineEntities } from '../test/support/entities.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4)
const CONCURRENCY = 16
const USERS = 1_000
const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const e = defineEntities('postgres')
const base = { ...connectionOptions('postgres'), entities: e.all } as DataSourceOptions

interface Variant {
  name: string
  options: () => Partial<DataSourceOptions>
  close?: () => Promise<void>
}

const runId = `${process.pid}-${Date.now()}`
const memory = createCache({ namespace: `bench-mem-${runId}` })
const redis = createCache({
  store: redisStore({ url: redisUrl.toString() }),
  namespace: `bench-redis-${runId}`,
})
const variants: Variant[] = [
  { name: 'uncached', options: () => ({}) },
  { name: 'ormcache (memory)', options: () => typeormCache({ cache: memory, alwaysEnabled: true }) },
  { name: 'ormcache (Redis)', options: () => typeormCache({ cache: redis, alwaysEnabled: true }) },
  {
    name: 'TypeORM built-in ioredis',
    options: () => ({
      cache: {
        type: 'ioredis',
        alwaysEnabled: true,
        duration: 60_000,
        // Its own prefix; entries expire with the duration (its clear() would FLUSHDB: never called).
        options: {
          host: redisUrl.hostname,
          port: Number(redisUrl.port || 6379),
          keyPrefix: `bench-builtin-${runId}:`,
        },
      },
    }),
  },
]

interface Workload {
  name: string
  run: (ds: DataSource, i: number) => Promise<unknown>
  /** Reads the value a concurrent update changes, for the staleness check. */
  probe: (ds: DataSource) => Promise<string | undefined>
  update: (ds: DataSource, value: string) => Promise<unknown>
}

const workloads: Workload[] = [
  {
    name: 'findOneBy',
    run: (ds, i) => ds.getRepository(e.User).findOneBy({ id: 1 + (i % USERS) }),
    probe: async (ds) => (await ds.getRepository(e.User).findOneBy({ id: 7 }))?.name,
    update: (ds, value) => ds.getRepository(e.User).update(7, { name: value }),
  },
  {
    name: 'find with relations',
    run: (ds, i) =>
      ds
        .getRepository(e.Post)
        .find({ where: { authorId: 1 + (i % 100) }, relations: { author: true, tags: true } }),
    probe: async (ds) =>
      (
        await ds
          .getRepository(e.Post)
          .find({ where: { authorId: 7 }, relations: { author: true, tags: true } })
      )[0]?.author.name,
    update: (ds, value) => ds.getRepository(e.User).update(7, { name: value }),
  },
]

async function seed(): Promise<void> {
  await ensureDatabase('postgres')
  const ds = new DataSource({ ...base, synchronize: true, dropSchema: true })
  await ds.initialize()
  const tags = await ds
    .getRepository(e.Tag)
    .save(Array.from({ length: 10 }, (_, i) => ({ label: `tag${i}` })))
  await ds.getRepository(e.User).insert(Array.from({ length: USERS }, (_, i) => ({ name: `user${i}` })))
  const posts = ds.getRepository(e.Post)
  for (let i = 0; i < 300; i++) {
    await posts.save({
      title: `post${i}`,
      authorId: 1 + (i % 100),
      tags: [tags[i % 10]!, tags[(i + 3) % 10]!],
    })
  }
  await ds.destroy()
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0
}

async function measure(ds: DataSource, workload: Workload) {
  // Warm up: fill the cache (or the connection pool) first.
  for (let i = 0; i < USERS; i += CONCURRENCY) {
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, j) => workload.run(ds, i + j)))
  }
  const latencies: number[] = []
  const deadline = performance.now() + SECONDS * 1000
  let counter = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const started = performance.now()
        await workload.run(ds, counter++)
        latencies.push(performance.now() - started)
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  return {
    opsPerSecond: latencies.length / SECONDS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  }
}

async function staleness(ds: DataSource, workload: Workload, label: string): Promise<string> {
  await workload.probe(ds) // cached now
  const value = `renamed-${label}-${Date.now()}`
  // The update runs concurrently with a read; the read after both finished is the verdict.
  await Promise.all([workload.update(ds, value), workload.probe(ds)])
  return (await workload.probe(ds)) === value ? 'fresh' : 'STALE'
}

await seed()
const rows: string[][] = []
for (const variant of variants) {
  const ds = new DataSource({ ...base, ...variant.options() } as DataSourceOptions)
  await ds.initialize()
  for (const workload of workloads) {
    process.stdout.write(`${variant.name} / ${workload.name}: measuring ${SECONDS}s… `)
    const result = await measure(ds, workload)
    const verdict = await staleness(ds, workload, variant.name.replace(/\W/g, ''))
    process.stdout.write(`${Math.round(result.opsPerSecond)} ops/s, after update: ${verdict}\n`)
    rows.push([
      workload.name,
      variant.name,
      String(Math.round(result.opsPerSecond)),
      result.p50.toFixed(2),
      result.p99.toFixed(2),
      verdict,
    ])
  }
  await ds.destroy()
}
await memory.close()
await redis.close()

const baseline = new Map(rows.filter((r) => r[1] === 'uncached').map((r) => [r[0], Number(r[2])]))
console.log(
  `\nPostgreSQL, ${CONCURRENCY} concurrent callers, ${SECONDS}s per cell, Node ${process.version}\n`,
)
console.log('| workload | variant | ops/s | × uncached | p50 ms | p99 ms | read after a concurrent update |')
console.log('|---|---|---:|---:|---:|---:|---|')
for (const [workload, variant, ops, p50, p99, verdict] of rows) {
  const ratio = (Number(ops) / baseline.get(workload!)!).toFixed(1)
  console.log(`| ${workload} | ${variant} | ${ops} | ${ratio} | ${p50} | ${p99} | ${verdict} |`)
}
