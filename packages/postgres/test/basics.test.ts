import { createCache } from '@ormcache/core'
import { columnLeftTag, columnTag, rowTag, tableTag } from '@ormcache/core/adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PostgresInvalidation, postgresInvalidation } from '../src/index.js'
import { databaseUrl, dropReplication, ensureDatabase, outside, until } from './support/db.js'

const SLOT = 'ormcache_test_basics'
const PUBLICATION = 'ormcache_test_basics'
const cache = createCache({ namespace: 'pg-basics' })
let consumer: PostgresInvalidation
const invalidated: string[][] = []

beforeAll(async () => {
  await ensureDatabase()
  await dropReplication(SLOT, PUBLICATION)
  await outside('DROP TABLE IF EXISTS pgi_basic, pgi_basic_full, pgi_basic_other')
  await outside('CREATE TABLE pgi_basic (id int PRIMARY KEY, status int NOT NULL, name text, active boolean)')
  await outside('CREATE TABLE pgi_basic_full (id bigint PRIMARY KEY, status int NOT NULL)')
  await outside('ALTER TABLE pgi_basic_full REPLICA IDENTITY FULL')
  await outside('CREATE TABLE pgi_basic_other (id int PRIMARY KEY)')
  consumer = postgresInvalidation({
    cache,
    connectionString: databaseUrl(),
    slot: SLOT,
    publication: PUBLICATION,
    tables: ['pgi_basic', 'public.pgi_basic_full'],
  })
  cache.on('invalidate', ({ tags }) => invalidated.push([...tags]))
  await consumer.start()
  await until(() => consumer.stats().active, 10_000, 'the consumer to become active')
})

afterAll(async () => {
  await consumer?.teardown()
  await dropReplication(SLOT, PUBLICATION)
  await cache.close()
})

async function applied(run: () => Promise<unknown>): Promise<string[]> {
  const before = consumer.stats().transactions
  invalidated.length = 0
  await run()
  await until(() => consumer.stats().transactions > before, 10_000, 'the transaction to be applied')
  return invalidated.flat()
}

describe('row changes become the adapters tags', () => {
  it('INSERT bumps table, row and column-value tags', async () => {
    const tags = await applied(() => outside("INSERT INTO pgi_basic VALUES (1, 7, 'a', true)"))
    expect(tags).toEqual(
      expect.arrayContaining([
        tableTag('pgi_basic'),
        rowTag('pgi_basic', { id: 1 }),
        columnTag('pgi_basic', 'status', 7),
        columnTag('pgi_basic', 'active', true),
        columnTag('pgi_basic', 'name', 'a'),
      ]),
    )
  })

  it('UPDATE with the default identity names the row by its unchanged key', async () => {
    const tags = await applied(() => outside('UPDATE pgi_basic SET status = 8 WHERE id = 1'))
    expect(tags).toContain(rowTag('pgi_basic', { id: 1 }))
    expect(tags).toContain(columnTag('pgi_basic', 'status', 8))
    expect(tags).not.toContain('b:pgi_basic')
  })

  it('UPDATE moving the key bumps the old and the new row', async () => {
    const tags = await applied(() => outside('UPDATE pgi_basic SET id = 2 WHERE id = 1'))
    expect(tags).toEqual(
      expect.arrayContaining([rowTag('pgi_basic', { id: 1 }), rowTag('pgi_basic', { id: 2 })]),
    )
  })

  it('REPLICA IDENTITY FULL: only the columns that changed get value tags', async () => {
    await applied(() => outside('INSERT INTO pgi_basic_full VALUES (10, 1)'))
    const tags = await applied(() => outside('UPDATE pgi_basic_full SET status = 2 WHERE id = 10'))
    expect(tags).toEqual(
      expect.arrayContaining([
        rowTag('pgi_basic_full', { id: 10n }),
        columnTag('pgi_basic_full', 'status', 2),
      ]),
    )
    expect(tags).not.toContain(columnTag('pgi_basic_full', 'id', 10n))
  })

  it('DELETE bumps the row tag', async () => {
    const tags = await applied(() => outside('DELETE FROM pgi_basic WHERE id = 2'))
    expect(tags).toEqual(expect.arrayContaining([tableTag('pgi_basic'), rowTag('pgi_basic', { id: 2 })]))
  })

  it('TRUNCATE bumps table and bulk tags', async () => {
    const tags = await applied(() => outside('TRUNCATE pgi_basic'))
    expect(tags).toEqual(expect.arrayContaining(['t:pgi_basic', 'b:pgi_basic']))
  })

  it('one invalidation per transaction, after COMMIT; a rollback produces nothing', async () => {
    const before = consumer.stats().transactions
    await outside('BEGIN; INSERT INTO pgi_basic VALUES (50, 1); ROLLBACK')
    const tags = await applied(() =>
      outside(
        "BEGIN; INSERT INTO pgi_basic VALUES (51, 1, 'x', false); UPDATE pgi_basic SET status = 3 WHERE id = 51; COMMIT",
      ),
    )
    expect(consumer.stats().transactions).toBe(before + 1)
    expect(tags).not.toContain(rowTag('pgi_basic', { id: 50 }))
    expect(tags).toContain(rowTag('pgi_basic', { id: 51 }))
  })

  it('tables outside the publication are not streamed', async () => {
    const before = consumer.stats().transactions
    await outside('INSERT INTO pgi_basic_other VALUES (1)')
    await applied(() => outside('INSERT INTO pgi_basic VALUES (60, 1)'))
    expect(consumer.stats().transactions).toBe(before + 1)
  })
})

// Counts over pins need the old values rows leave (docs/design.md, "Counts: rows that leave a pin").
describe('old values rows leave', () => {
  it('UPDATE with the default identity: column-left tags of every non-key column, none for the key', async () => {
    await applied(() => outside("INSERT INTO pgi_basic VALUES (200, 1, 'a', true)"))
    const tags = await applied(() => outside('UPDATE pgi_basic SET status = 2 WHERE id = 200'))
    expect(tags).toEqual(
      expect.arrayContaining([
        columnLeftTag('pgi_basic', 'status'),
        columnLeftTag('pgi_basic', 'name'),
        columnLeftTag('pgi_basic', 'active'),
      ]),
    )
    expect(tags).not.toContain(columnLeftTag('pgi_basic', 'id'))
  })

  it('UPDATE moving the key names the old key value', async () => {
    const tags = await applied(() => outside('UPDATE pgi_basic SET id = 201 WHERE id = 200'))
    expect(tags).toContain(columnTag('pgi_basic', 'id', 200))
    expect(tags).not.toContain(columnLeftTag('pgi_basic', 'id'))
  })

  it('DELETE with the default identity: the old key by value, every other column left', async () => {
    const tags = await applied(() => outside('DELETE FROM pgi_basic WHERE id = 201'))
    expect(tags).toContain(columnTag('pgi_basic', 'id', 201))
    expect(tags).toContain(columnLeftTag('pgi_basic', 'status'))
    expect(tags).toContain(columnLeftTag('pgi_basic', 'active'))
  })

  it('REPLICA IDENTITY FULL: the old values by value, only for the columns that changed', async () => {
    await applied(() => outside('INSERT INTO pgi_basic_full VALUES (300, 4)'))
    const updated = await applied(() => outside('UPDATE pgi_basic_full SET status = 5 WHERE id = 300'))
    expect(updated).toContain(columnTag('pgi_basic_full', 'status', 4))
    expect(updated).not.toContain(columnLeftTag('pgi_basic_full', 'status'))
    expect(updated).not.toContain(columnTag('pgi_basic_full', 'id', 300))
    const deleted = await applied(() => outside('DELETE FROM pgi_basic_full WHERE id = 300'))
    expect(deleted).toEqual(
      expect.arrayContaining([
        columnTag('pgi_basic_full', 'status', 5),
        columnTag('pgi_basic_full', 'id', 300),
      ]),
    )
    expect(deleted.filter((t) => t.startsWith('l:'))).toEqual([])
  })
})
