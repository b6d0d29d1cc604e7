import { createCache } from '@ormcache/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresInvalidation, ReplicationError } from '../src/index.js'
import { type OwnPostgres, ownPostgresUnavailable, startOwnPostgres } from './support/own-postgres.js'

// The shared server must stay logical, so this runs its own throwaway cluster with
// wal_level=replica (issue #15: a clear typed error instead of a driver error at the first stream).
const unavailable = ownPostgresUnavailable()
if (unavailable !== undefined && process.env.CI === 'true')
  throw new Error(`wal-level.test.ts needs a throwaway PostgreSQL under CI: ${unavailable}`)

let server: OwnPostgres | undefined
const cache = createCache({ namespace: 'pg-wal-level' })

beforeAll(async () => {
  if (unavailable === undefined) server = await startOwnPostgres({ wal_level: 'replica' })
})

afterAll(async () => {
  await server?.stop()
  await cache.close()
})

describe.skipIf(unavailable !== undefined)(
  `wal_level is not logical${unavailable ? ` (${unavailable})` : ''}`,
  () => {
    it('start() rejects with a ReplicationError naming wal_level, without the credential', async () => {
      const url = new URL(server!.url)
      // A password in the URL must not reach the message (trust auth ignores it).
      url.password = 's3cret-pw'
      const consumer = postgresInvalidation({
        cache,
        connectionString: url.toString(),
        slot: 'ormcache_test_wal_level',
        publication: 'ormcache_test_wal_level',
        tables: ['t'],
      })
      const error = await consumer.start().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(ReplicationError)
      expect((error as ReplicationError).code).toBe('ERR_REPLICATION')
      expect((error as ReplicationError).reason).toBe('wal_level')
      expect((error as Error).message).toContain('wal_level')
      expect((error as Error).message).toContain('"replica"')
      expect(
        JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack }),
      ).not.toContain('s3cret-pw')
      expect(consumer.stats().active).toBe(false)
      // Nothing was created on the server: no slot retains WAL.
      const pg = await import('pg')
      const client = new pg.default.Client({ connectionString: server!.url })
      await client.connect()
      const { rowCount } = await client.query('SELECT 1 FROM pg_replication_slots')
      await client.end()
      expect(rowCount).toBe(0)
    })
  },
)
