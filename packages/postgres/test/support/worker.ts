// A separate process of the multi-process test: `consumer` runs postgresInvalidation and reports
// its state on stdout; `reader` reads random rows through the shared Redis cache until told to stop.
import { createCache } from '@ormcache/core'
import { rowTag } from '@ormcache/core/adapter'
import { redisStore } from '@ormcache/core/redis'
import pg from 'pg'
import { postgresInvalidation } from '../../src/index.js'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}
const namespace = env('ORMCACHE_NAMESPACE')
const table = env('ORMCACHE_TABLE')
const rows = Number(env('ORMCACHE_ROWS'))
const cache = createCache({ namespace, store: redisStore({ url: env('ORMCACHE_REDIS_URL') }), bus: false })
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`)

if (env('ORMCACHE_ROLE') === 'consumer') {
  const consumer = postgresInvalidation({
    cache,
    connectionString: env('ORMCACHE_PG_URL'),
    slot: env('ORMCACHE_SLOT'),
    publication: env('ORMCACHE_SLOT'),
    tables: [table],
    pollInterval: 200,
  })
  consumer.on('active', () => say({ state: 'active' }))
  consumer.on('standby', () => say({ state: 'standby' }))
  consumer.on('applied', (event) => say({ applied: event.lsn }))
  consumer.on('error', (error) => say({ error: error.reason, message: error.message }))
  await consumer.start()
  process.on('SIGTERM', () => {
    void consumer.stop().then(() => cache.close().then(() => process.exit(0)))
  })
} else {
  const db = new pg.Client({ connectionString: env('ORMCACHE_PG_URL') })
  await db.connect()
  let reads = 0
  let stopping = false
  process.on('SIGTERM', () => {
    stopping = true
  })
  say({ state: 'reading' })
  while (!stopping) {
    const id = 1 + Math.floor(Math.random() * rows)
    await cache.wrap(
      `row:${id}`,
      async () => (await db.query(`SELECT v FROM ${table} WHERE id = $1`, [id])).rows[0]?.v ?? null,
      { tags: [rowTag(table, { id })] },
    )
    reads += 1
  }
  say({ reads, hits: cache.stats().hits })
  await db.end()
  await cache.close()
  process.exit(0)
}
