import { createCache } from '@ormcache/core'
import { rowTag } from '@ormcache/core/adapter'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PostgresInvalidation, postgresInvalidation } from '../src/index.js'
import { until } from './support/db.js'
import { type OwnPostgres, ownPostgresUnavailable, startOwnPostgres } from './support/own-postgres.js'

// PostgreSQL flushes a commit record, and a logical walsender may decode and send it, before the
// committing backend leaves the proc array: until then no other session's snapshot sees the
// commit. A consumer that bumps in that window lets a reader take the new version, load the old
// row and store it as current (the stale row of the multi-process test). Holding a commit in
// that window deterministically needs a synchronous standby that never answers, which the
// shared server must not have: this runs its own throwaway cluster.
const unavailable = ownPostgresUnavailable()
if (unavailable !== undefined && process.env.CI === 'true')
  throw new Error(`commit-visibility.test.ts needs a throwaway PostgreSQL under CI: ${unavailable}`)

const SLOT = 'ormcache_test_visibility'
let server: OwnPostgres | undefined
let consumer: PostgresInvalidation | undefined
const clients: pg.Client[] = []
const cache = createCache({ namespace: 'pg-visibility' })

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server!.url })
  await c.connect()
  c.on('error', () => {})
  clients.push(c)
  return c
}

beforeAll(async () => {
  if (unavailable !== undefined) return
  server = await startOwnPostgres({
    wal_level: 'logical',
    max_wal_senders: '4',
    max_replication_slots: '4',
    // No standby of this name ever connects: every synchronous commit waits after its commit
    // record is flushed (and decodable) but before it becomes visible, until cancelled.
    synchronous_standby_names: 'ormcache_never',
    // Only the test's writer commits synchronously (setup, slot and publication must not wait).
    synchronous_commit: 'local',
  })
  const admin = await client()
  await admin.query('CREATE TABLE vis (id int PRIMARY KEY, v int NOT NULL)')
  await admin.query('INSERT INTO vis VALUES (1, 0)')
})

afterAll(async () => {
  await consumer?.teardown().catch(() => {})
  for (const c of clients) await c.end().catch(() => {})
  await server?.stop()
  await cache.close()
})

describe.skipIf(unavailable !== undefined)(
  `commit visibility${unavailable ? ` (${unavailable})` : ''}`,
  () => {
    it('a commit decoded before other sessions see it is not invalidated until they do', async () => {
      consumer = postgresInvalidation({
        cache,
        connectionString: server!.url,
        slot: SLOT,
        publication: SLOT,
        tables: ['vis'],
        pollInterval: 100,
      })
      const applied: string[] = []
      consumer.on('applied', (event) => applied.push(event.lsn))
      let active = false
      consumer.on('active', () => {
        active = true
      })
      await consumer.start()
      await until(() => active, 20_000, 'the consumer to stream')

      const reader = await client()
      const read = () =>
        cache.wrap(
          'vis:1',
          async () => (await reader.query('SELECT v FROM vis WHERE id = 1')).rows[0].v as number,
          { tags: [rowTag('vis', { id: 1 })] },
        )
      expect(await read()).toBe(0)

      // The write's commit record is flushed, then its backend waits for the standby.
      const writer = await client()
      const { rows } = await writer.query('SELECT pg_backend_pid() AS pid')
      await writer.query('SET synchronous_commit = on')
      const writing = writer.query('UPDATE vis SET v = 1 WHERE id = 1')
      const admin = await client()
      await until(
        async () =>
          (
            await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'SyncRep'", [
              rows[0].pid,
            ])
          ).rowCount === 1,
        20_000,
        'the writer to wait for its synchronous standby',
      )
      const { rows: lsn } = await admin.query('SELECT pg_current_wal_flush_lsn()::text AS lsn')
      // The walsender sent the commit, and the consumer has dealt with it (applied it, or found its
      // transaction still invisible and is holding it back).
      await until(
        async () =>
          (
            await admin.query(
              'SELECT 1 FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $1 AND r.sent_lsn >= $2::pg_lsn',
              [SLOT, lsn[0].lsn],
            )
          ).rowCount === 1,
        20_000,
        'the walsender to send the commit',
      )
      await until(
        () =>
          applied.length > 0 || (consumer!.stats() as { invisibleCommits?: number }).invisibleCommits! > 0,
        20_000,
        'the consumer to receive the commit',
      )
      // Not visible yet: the reader loads and stores the old row.
      expect((await reader.query('SELECT v FROM vis WHERE id = 1')).rows[0].v).toBe(0)
      expect(await read()).toBe(0)

      // The commit becomes visible; once it is acknowledged the cache must not serve the old row.
      await admin.query('SELECT pg_cancel_backend($1)', [rows[0].pid])
      await writing
      expect((await reader.query('SELECT v FROM vis WHERE id = 1')).rows[0].v).toBe(1)
      await until(
        async () =>
          (
            await admin.query(
              'SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $2',
              [lsn[0].lsn, SLOT],
            )
          ).rows[0]?.done === true,
        20_000,
        'the consumer to acknowledge the write',
      )
      expect(await read()).toBe(1)
      expect(consumer.stats().invisibleCommits).toBe(1)
    })
  },
)
