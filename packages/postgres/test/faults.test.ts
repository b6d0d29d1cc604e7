import { createCache, memoryStore } from '@ormcache/core'
import { rowTag } from '@ormcache/core/adapter'
import { FaultyStore } from '@ormcache/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PostgresInvalidation, postgresInvalidation, type ReplicationError } from '../src/index.js'
import { connect, databaseUrl, dropReplication, ensureDatabase, outside, until } from './support/db.js'

const SLOT = 'ormcache_test_faults'
const PUBLICATION = 'ormcache_test_faults'
const store = new FaultyStore(memoryStore())
const cache = createCache({ namespace: 'pg-faults', store })
const errors: ReplicationError[] = []
const invalidated: string[] = []
let consumer: PostgresInvalidation

beforeAll(async () => {
  await ensureDatabase()
  await dropReplication(SLOT, PUBLICATION)
  await outside('DROP TABLE IF EXISTS pgi_faults, pgi_big')
  await outside('CREATE TABLE pgi_faults (id int PRIMARY KEY, v int NOT NULL)')
  await outside('CREATE TABLE pgi_big (id int PRIMARY KEY, v int NOT NULL)')
  await outside('INSERT INTO pgi_faults SELECT i, 0 FROM generate_series(1, 10) i')
  consumer = postgresInvalidation({
    cache,
    connectionString: databaseUrl(),
    slot: SLOT,
    publication: PUBLICATION,
    tables: ['pgi_faults', 'pgi_big'],
    maxRowsPerTable: 100,
  })
  consumer.on('error', (error) => errors.push(error))
  cache.on('invalidate', ({ tags }) => invalidated.push(...tags))
  await consumer.start()
  await until(() => consumer.stats().active, 10_000, 'the consumer to become active')
})

afterAll(async () => {
  await consumer?.teardown()
  await dropReplication(SLOT, PUBLICATION)
  await cache.close()
})

const read = (id: number) =>
  cache.wrap(
    `row:${id}`,
    async () => (await outside('SELECT v FROM pgi_faults WHERE id = $1', [id])).rows[0].v,
    {
      tags: [rowTag('pgi_faults', { id })],
    },
  )

async function confirmedFlush(): Promise<bigint> {
  const { rows } = await outside(
    "SELECT (confirmed_flush_lsn - '0/0')::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
    [SLOT],
  )
  return BigInt(rows[0].lsn)
}

async function currentLsn(): Promise<bigint> {
  const { rows } = await outside("SELECT (pg_current_wal_lsn() - '0/0')::text AS lsn")
  return BigInt(rows[0].lsn)
}

describe('at-least-once: a position is acknowledged only after its invalidation reached the store', () => {
  it('a store fault holds the slot back; the transaction is replayed and applied once the store answers', async () => {
    expect(await read(1)).toBe(0)
    const transactions = consumer.stats().transactions
    store.mode = 'fail'
    await outside('UPDATE pgi_faults SET v = 1 WHERE id = 1')
    const written = await currentLsn()
    await until(() => errors.some((e) => e.reason === 'store'), 10_000, 'the store fault to be reported')
    // Let the consumer replay (and fail) a few times: the slot must not move past the write.
    await new Promise((r) => setTimeout(r, 600))
    expect(await confirmedFlush()).toBeLessThan(written)
    expect(consumer.stats().transactions).toBe(transactions)
    store.mode = 'ok'
    await until(() => consumer.stats().transactions > transactions, 15_000, 'the replayed transaction')
    await until(async () => (await confirmedFlush()) >= written, 10_000, 'the acknowledgement')
    expect(await read(1)).toBe(1)
  })
})

describe('connection and slot problems are reported and survived', () => {
  it('a lost replication connection: reported, reconnected, later writes still applied', async () => {
    expect(await read(2)).toBe(0)
    const before = errors.length
    await outside('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1', [
      SLOT,
    ])
    await outside('UPDATE pgi_faults SET v = 2 WHERE id = 2')
    await until(async () => (await read(2)) === 2, 15_000, 'the write after the reconnect')
    expect(errors.slice(before).map((e) => e.reason)).toContain('connection')
    expect(errors.slice(before).every((e) => e.code === 'ERR_REPLICATION')).toBe(true)
    expect(consumer.stats().reconnects).toBeGreaterThan(0)
  })

  it('a slot dropped under the consumer: typed error, slot recreated, namespace invalidated', async () => {
    expect(await read(3)).toBe(0)
    const before = errors.length
    const admin = await connect()
    try {
      // The consumer reconnects quickly: end its walsender until the drop wins the race.
      for (let i = 0; ; i++) {
        await admin.query(
          'SELECT pg_terminate_backend(active_pid, 1000) FROM pg_replication_slots WHERE slot_name = $1',
          [SLOT],
        )
        const dropped = await admin
          .query('SELECT pg_drop_replication_slot($1)', [SLOT])
          .then(() => true)
          .catch(() => false)
        if (dropped) break
        if (i > 50) throw new Error('could not drop the slot')
      }
      // Written while no slot exists: no stream will ever carry it.
      await admin.query('UPDATE pgi_faults SET v = 3 WHERE id = 3')
    } finally {
      await admin.end()
    }
    await until(
      () => errors.slice(before).some((e) => e.reason === 'slot_lost'),
      15_000,
      'the slot_lost error',
    )
    await until(() => consumer.stats().active, 10_000, 'the consumer to stream again')
    expect(await read(3)).toBe(3) // the namespace invalidation covered the unseen write
    await outside('UPDATE pgi_faults SET v = 4 WHERE id = 3')
    await until(async () => (await read(3)) === 4, 15_000, 'a write on the new slot')
  })
})

describe('big transactions', () => {
  it('a 100k-row transaction collapses to table-level tags', async () => {
    const inserted = consumer.stats().transactions
    await outside('INSERT INTO pgi_big SELECT i, 0 FROM generate_series(1, 100000) i')
    await until(() => consumer.stats().transactions > inserted, 60_000, 'the big insert')
    const transactions = consumer.stats().transactions
    invalidated.length = 0
    const started = performance.now()
    await outside('UPDATE pgi_big SET v = v + 1')
    await until(() => consumer.stats().transactions > transactions, 60_000, 'the big transaction')
    const ms = performance.now() - started
    console.log(
      `100k-row UPDATE applied ${ms.toFixed(0)} ms after it was sent; tags: ${invalidated.join(', ')}`,
    )
    expect(invalidated.sort()).toEqual(['b:pgi_big', 't:pgi_big'])
    expect(consumer.stats().collapsedTables).toBeGreaterThanOrEqual(2) // the insert and the update
  })
})
