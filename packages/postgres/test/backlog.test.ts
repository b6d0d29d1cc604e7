import { createCache } from '@ormcache/core'
import { rowTag } from '@ormcache/core/adapter'
import { redisStore } from '@ormcache/core/redis'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseLsn } from '../src/lsn.js'
import { connect, dropReplication, freshRowsTable, outside, until } from './support/db.js'
import { streamOf } from './support/stream.js'

// A consumer that fell behind (a burst, a slow moment of the box, a restart) must catch up. Each
// transaction needs a visibility check (one PostgreSQL round trip) and a store write (one Redis
// round trip); made one transaction at a time, those round trips cap the consumer near the write
// rate of a busy table (the bench's 1,000 single-row transactions per second), so a backlog
// never drains and the cache serves old rows for seconds. A backlog already received is applied
// together: one check and one store write for many transactions.
const SLOT = 'ormcache_test_backlog'
const TABLE = 'pgi_backlog'
const TRANSACTIONS = 300
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const cache = createCache({
  namespace: `pg-backlog-${process.pid}`,
  store: redisStore({ url: REDIS_URL }),
  bus: false,
})

beforeAll(async () => {
  await freshRowsTable(SLOT, TABLE, TRANSACTIONS)
  reader = await connect()
})

afterAll(async () => {
  await reader?.end()
  await dropReplication(SLOT, SLOT)
  await outside(`DROP TABLE IF EXISTS ${TABLE}`)
  await cache.close()
})

let reader: pg.Client

const read = (id: number) =>
  cache.wrap(
    `row:${id}`,
    async () => (await reader.query(`SELECT v FROM ${TABLE} WHERE id = $1`, [id])).rows[0].v as number,
    { tags: [rowTag(TABLE, { id })] },
  )

describe('a backlog of transactions', () => {
  it('is applied in a few store writes, each row invalidated, the last commit acknowledged', async () => {
    const stream = streamOf(cache, SLOT, TABLE)
    // The test holds the stream's lease: the consumer stands by while the backlog is written.
    const holder = await connect()
    await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`ormcache.postgres:${SLOT}`])
    let storeWrites = 0
    cache.on('invalidate', () => {
      storeWrites += 1
    })
    const applied: string[] = []
    stream.on('applied', (event) => applied.push(event.lsn))
    try {
      await stream.start()
      for (let id = 1; id <= TRANSACTIONS; id++) expect(await read(id)).toBe(0)
      const writer = await connect()
      try {
        for (let id = 1; id <= TRANSACTIONS; id++)
          await writer.query(`UPDATE ${TABLE} SET v = v + 1 WHERE id = $1`, [id])
      } finally {
        await writer.end()
      }
      await holder.end()
      await until(() => stream.stats().transactions >= TRANSACTIONS, 20_000, 'the backlog to be applied')

      expect(stream.stats().transactions).toBe(TRANSACTIONS)
      expect(applied).toHaveLength(TRANSACTIONS)
      // Every transaction of the backlog was already received when its predecessors were applied:
      // far fewer store writes than transactions (one per transaction before).
      expect(storeWrites).toBeLessThan(TRANSACTIONS / 10)
      // Each row's old entry is gone: every read loads the new value.
      for (let id = 1; id <= TRANSACTIONS; id++) expect(await read(id)).toBe(1)
      // The slot is acknowledged up to the last commit once it is applied.
      const last = parseLsn(applied.at(-1)!)
      await until(
        async () => {
          const { rows: slot } = await outside(
            "SELECT (confirmed_flush_lsn - '0/0')::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
            [SLOT],
          )
          return BigInt(slot[0].lsn) >= last
        },
        10_000,
        'the acknowledgement',
      )
    } finally {
      await holder.end().catch(() => {})
      await stream.teardown()
    }
  })
})
