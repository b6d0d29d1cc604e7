import { createCache, InvalidOptionError, OrmCacheError } from '@ormcache/core'
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresInvalidation, ReplicationError } from '../src/index.js'
import { databaseUrl, dropReplication, ensureDatabase, outside, until } from './support/db.js'

const SLOT = 'ormcache_test_setup'
const ROLE = 'ormcache_pg_norepl'
const cache = createCache({ namespace: 'pg-setup' })

beforeAll(async () => {
  await ensureDatabase()
  await dropReplication(SLOT, SLOT)
  await outside('DROP TABLE IF EXISTS pgi_setup')
  await outside('CREATE TABLE pgi_setup (id int PRIMARY KEY)')
  await outside(`DROP ROLE IF EXISTS ${ROLE}`)
  await outside(`CREATE ROLE ${ROLE} LOGIN NOREPLICATION`)
})

afterAll(async () => {
  await dropReplication(SLOT, SLOT)
  await outside(`DROP ROLE IF EXISTS ${ROLE}`)
  await cache.close()
})

const options = {
  cache,
  connectionString: databaseUrl(),
  slot: SLOT,
  publication: SLOT,
  tables: ['pgi_setup'],
}

describe('options', () => {
  it('bad options get typed errors naming the option', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ cache: undefined }, 'cache'],
      [{ connectionString: '' }, 'connectionString'],
      [{ slot: 'Bad-Name' }, 'slot'],
      [{ publication: 'x;drop' }, 'publication'],
      [{ tables: [] }, 'tables'],
      [{ tables: ['a; DROP TABLE x'] }, 'tables'],
      [{ maxRowsPerTable: 0 }, 'maxRowsPerTable'],
      [{ pollInterval: 1.5 }, 'pollInterval'],
    ]
    for (const [override, name] of bad) {
      const attempt = () => postgresInvalidation({ ...options, ...override } as never)
      expect(attempt).toThrow(InvalidOptionError)
      expect(attempt).toThrow(name)
    }
  })
})

describe('setup', () => {
  it('is idempotent: slot and publication are created once and reused', async () => {
    const first = postgresInvalidation(options)
    await first.start()
    await first.stop()
    const second = postgresInvalidation(options)
    await second.start()
    await second.stop()
    const { rows } = await outside(
      'SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1)::int AS slots, (SELECT count(*) FROM pg_publication WHERE pubname = $1)::int AS pubs',
      [SLOT],
    )
    expect(rows[0]).toEqual({ slots: 1, pubs: 1 })
  })

  it('a role without REPLICATION gets a typed error, without the connection string in it', async () => {
    const url = new URL(databaseUrl())
    url.username = ROLE
    url.password = 'secret-password'
    const consumer = postgresInvalidation({ ...options, connectionString: url.toString() })
    const error = await consumer.start().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ReplicationError)
    expect(OrmCacheError.is(error)).toBe(true)
    expect((error as ReplicationError).code).toBe('ERR_REPLICATION')
    expect((error as ReplicationError).reason).toBe('privilege')
    expect((error as Error).message).not.toContain('secret-password')
  })

  it('a slot streamed by a consumer outside the lease: typed slot_in_use errors, until it goes away', async () => {
    const foreign = new LogicalReplicationService(
      { connectionString: databaseUrl() },
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    )
    foreign.on('error', () => {})
    const foreignRun = foreign
      .subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: [SLOT] }), SLOT)
      .catch(() => {})
    await until(
      async () =>
        (await outside('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [SLOT])).rows[0]
          ?.active === true,
      10_000,
      'the foreign consumer',
    )
    const consumer = postgresInvalidation({ ...options, pollInterval: 100 })
    const errors: ReplicationError[] = []
    consumer.on('error', (e) => errors.push(e))
    await consumer.start()
    await until(() => errors.some((e) => e.reason === 'slot_in_use'), 10_000, 'slot_in_use')
    await foreign.stop()
    await foreignRun
    await until(
      () => consumer.stats().active && consumer.stats().reconnects > 0,
      15_000,
      'the consumer to take the slot',
    )
    await consumer.stop()
    expect(errors.every((e) => e instanceof ReplicationError)).toBe(true)
  })
})
