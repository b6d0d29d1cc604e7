import { setTimeout as sleep } from 'node:timers/promises'
import { type Cache, createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import { postgresInvalidation } from '@ormcache/postgres'
import pg from 'pg'
import { databaseUrl, redisUrl } from '../config.js'
import { prepareDatabase } from '../db/schema.js'
import { requireServices } from '../subjects/requirements.js'
import type { Scenario } from './types.js'

const TABLE = 'bench_stream'
const ROWS = 10_000
/** Rows the lag sampler owns; the background writers never touch them. */
const SAMPLED = 100
const RATE = 1_000 // outside write transactions per second
const WRITERS = 4
const CPU_CHANGES = 20_000
const CPU_ROWS_PER_TXN = 10

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/**
 * Writes outside the ORM, invalidated from PostgreSQL's logical replication stream
 * (@ormcache/postgres) into a Redis store: how long after an outside COMMIT the cache stops
 * serving the old value, under 1,000 outside write transactions per second, and the consumer's CPU
 * per 1,000 row changes.
 */
export const streamLagScenario: Scenario = {
  id: 'streamlag',
  title: '9. Invalidation from the PostgreSQL change stream',
  async run(ctx) {
    await requireServices(['redis', 'postgres'])
    const database = await prepareDatabase()
    const url = databaseUrl()
    const slot = `${ctx.prefix.replace(/[^a-z0-9]/g, '_')}_stream`
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    const cache = createCache({
      namespace: `${ctx.prefix}.stream`,
      store: redisStore({ url: redisUrl }),
      bus: false,
    })
    const consumer = postgresInvalidation({
      cache,
      connectionString: url,
      slot,
      publication: slot,
      tables: [TABLE],
    })
    try {
      await admin.query(`DROP TABLE IF EXISTS ${TABLE}`)
      await admin.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, v int NOT NULL)`)
      await admin.query(`INSERT INTO ${TABLE} SELECT i, 0 FROM generate_series(1, ${ROWS}) i`)
      await consumer.start()
      while (!consumer.stats().active) await sleep(20)

      ctx.progress.step('lag at 1,000 outside writes/s')
      const seconds = ctx.quick ? 3 : 15
      const lag = await measureLag(cache, url, seconds)

      ctx.progress.step('consumer CPU per 1,000 row changes')
      await consumer.stop()
      const cpu = await measureCpu(admin, consumer)
      const sorted = [...lag.samples].sort((a, b) => a - b)
      const data = {
        writesPerSecond: lag.writes / seconds,
        samples: sorted.length,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted.at(-1),
        cpuMsPer1000Changes: cpu.cpuMsPer1000,
        catchUpMs: cpu.wallMs,
        changes: cpu.changes,
      }
      return {
        id: 'streamlag',
        title: '9. Invalidation from the PostgreSQL change stream',
        method:
          `Outside writers (${WRITERS} plain pg connections, no ORM) update random rows of a ${ROWS}-row table at ` +
          `${RATE} single-row transactions per second for ${seconds} s while @ormcache/postgres consumes the ` +
          'logical replication stream into a Redis store. A sampler fills a cache entry tagged with a row tag, ' +
          'updates that row from another connection, and polls the cache from the moment COMMIT returns until the ' +
          `entry is no longer served. Then, with the consumer stopped, ${CPU_CHANGES} row changes ` +
          `(${CPU_ROWS_PER_TXN} per transaction) are committed and the consumer's CPU time (process.cpuUsage, ` +
          'user + system, nothing else running in the process) to catch up is divided per 1,000 row changes.',
        tables: [
          {
            title: 'Outside COMMIT → cache no longer serves the old value',
            columns: ['outside writes/s (achieved)', 'samples', 'p50', 'p99', 'max'],
            rows: [
              [
                data.writesPerSecond.toFixed(0),
                String(data.samples),
                `${data.p50Ms.toFixed(1)} ms`,
                `${data.p99Ms.toFixed(1)} ms`,
                `${(data.maxMs ?? Number.NaN).toFixed(1)} ms`,
              ],
            ],
          },
          {
            title: 'Consumer CPU',
            columns: ['row changes', 'CPU per 1,000 row changes', 'catch-up wall time'],
            rows: [[String(cpu.changes), `${cpu.cpuMsPer1000.toFixed(1)} ms`, `${cpu.wallMs.toFixed(0)} ms`]],
          },
        ],
        notes: [
          'Everything runs on one machine: PostgreSQL, Redis, the writers, the sampler and the consumer share its cores.',
          'The lag includes the time PostgreSQL takes to decode and send the transaction, the consumer’s parse, ' +
            'one Redis round trip for the tag bump, and the sampler’s polling granularity.',
        ],
        data,
      }
    } finally {
      await consumer.teardown().catch(() => {})
      await cache.close().catch(() => {})
      await admin.query(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => {})
      await admin.end().catch(() => {})
      await database.release()
    }
  },
}

async function measureLag(cache: Cache, url: string, seconds: number) {
  const connections = await Promise.all(
    Array.from({ length: WRITERS + 1 }, async () => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      return client
    }),
  )
  const [sampler, ...writers] = connections as [pg.Client, ...pg.Client[]]
  const deadline = performance.now() + seconds * 1000
  let writes = 0
  const interval = (1000 / RATE) * WRITERS
  const writing = writers.map(async (client, w) => {
    let next = performance.now() + (interval * w) / WRITERS
    while (performance.now() < deadline) {
      const id = SAMPLED + 1 + Math.floor(Math.random() * (ROWS - SAMPLED))
      await client.query(`UPDATE ${TABLE} SET v = v + 1 WHERE id = $1`, [id])
      writes += 1
      next += interval
      const wait = next - performance.now()
      if (wait > 0) await sleep(wait)
    }
  })
  const samples: number[] = []
  let round = 0
  while (performance.now() < deadline) {
    const id = 1 + (round++ % SAMPLED)
    const key = `stream:${id}`
    const tags = [`r:${TABLE}:${id}`]
    await cache.wrap(
      key,
      async () => (await sampler.query(`SELECT v FROM ${TABLE} WHERE id = $1`, [id])).rows[0].v,
      {
        tags,
      },
    )
    if ((await cache.get(key)) === undefined) continue // not stored (a bump raced the fill): skip
    await sampler.query(`UPDATE ${TABLE} SET v = v + 1 WHERE id = $1`, [id])
    const committed = performance.now()
    while ((await cache.get(key)) !== undefined) {
      if (performance.now() - committed > 10_000) throw new Error('the stream did not invalidate within 10 s')
      await new Promise((r) => setImmediate(r))
    }
    samples.push(performance.now() - committed)
    await sleep(10)
  }
  await Promise.all(writing)
  await Promise.all(connections.map((c) => c.end()))
  return { samples, writes }
}

async function measureCpu(admin: pg.Client, consumer: ReturnType<typeof postgresInvalidation>) {
  const transactions = CPU_CHANGES / CPU_ROWS_PER_TXN
  for (let t = 0; t < transactions; t++) {
    const first = (t * CPU_ROWS_PER_TXN) % ROWS
    await admin.query(`UPDATE ${TABLE} SET v = v + 1 WHERE id > $1 AND id <= $2`, [
      first,
      first + CPU_ROWS_PER_TXN,
    ])
  }
  const before = consumer.stats().changes
  const started = performance.now()
  const cpu = process.cpuUsage()
  await consumer.start()
  while (consumer.stats().changes - before < CPU_CHANGES) await sleep(5)
  const used = process.cpuUsage(cpu)
  const wallMs = performance.now() - started
  const changes = consumer.stats().changes - before
  return { changes, wallMs, cpuMsPer1000: (used.user + used.system) / 1000 / (changes / 1000) }
}
