import 'reflect-metadata'
import { type Cache, createCache, type OrmCacheError } from '@ormcache/core'
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ReadEvent, typeormCache } from '../src/index.js'
import {
  connectionOptions,
  DIALECTS,
  type Dialect,
  ensureDatabase,
  QueryCounter,
} from './support/databases.js'

/**
 * Issue 18: a cached read never skips a write, a side effect, a lock or the clock. Every test
 * runs with `alwaysEnabled`, so each QueryBuilder read below would be cached if the adapter let it.
 */
function defineItem(dialect: Dialect) {
  const time = dialect === 'postgres' ? 'timestamptz' : 'datetime'
  @Entity({ name: 'rs_items' })
  class Item {
    @PrimaryGeneratedColumn()
    id!: number
    @Column({ type: 'varchar', length: 100 })
    label!: string
    @Column({ type: 'int', default: 0 })
    n!: number
    @Column({
      name: 'expires_at',
      type: time as 'datetime',
      nullable: true,
      ...(dialect === 'mysql' ? { precision: 3 } : {}),
    })
    expiresAt!: Date | null
  }
  return Item
}

/** SQL fragments that differ per database. */
const CLOCK = {
  postgres: { now: 'now()', soon: "now() + interval '1 second'" },
  mysql: { now: 'NOW(3)', soon: 'NOW(3) + INTERVAL 1 SECOND' },
  sqlite: { now: "datetime('now')", soon: "datetime('now', '+1 second')" },
}

/** One expression per class of volatile function; each must reach the database on every call. */
const VOLATILE: Record<Dialect, [name: string, expression: string][]> = {
  postgres: [
    ['sequence', "nextval('rs_seq')"],
    ['random', 'random()'],
    ['uuid', 'gen_random_uuid()'],
    ['clock function', 'clock_timestamp()'],
    ['now()', 'now()'],
    ['clock keyword', 'CURRENT_TIMESTAMP'],
    ['clock string', "'now'::timestamptz"],
    ['advisory lock', 'pg_try_advisory_xact_lock(4218)'],
    ['transaction id', 'txid_current()'],
    ['sleep', 'pg_sleep(0)'],
  ],
  mysql: [
    ['sequence', 'NEXTVAL(rs_seq)'],
    ['random', 'RAND()'],
    ['uuid', 'UUID()'],
    ['short uuid', 'UUID_SHORT()'],
    ['now()', 'NOW(6)'],
    ['sysdate', 'SYSDATE(6)'],
    ['clock keyword', 'CURRENT_TIMESTAMP'],
    ['unix time', 'UNIX_TIMESTAMP()'],
    ['session state', 'LAST_INSERT_ID()'],
    ['lock', "IS_FREE_LOCK('rs-lock')"],
    ['sleep', 'SLEEP(0)'],
  ],
  sqlite: [
    ['random', 'random()'],
    ['random blob', 'randomblob(4)'],
    ['datetime now', "datetime('now')"],
    ['julianday now', "julianday('now')"],
    ['strftime now', "strftime('%s', 'now')"],
    ['clock keyword', 'CURRENT_TIMESTAMP'],
    ['session state', 'changes()'],
    ['last rowid', 'last_insert_rowid()'],
  ],
}

describe.each(DIALECTS)('reads that must reach the database on %s', (dialect) => {
  const Item = defineItem(dialect)
  let ds: DataSource
  let cache: Cache
  let plain: DataSource
  const counter = new QueryCounter()
  const reads: ReadEvent[] = []
  const errors: OrmCacheError[] = []
  const clock = CLOCK[dialect]

  beforeAll(async () => {
    await ensureDatabase(dialect)
    cache = createCache({ namespace: `typeorm-read-safety-${process.pid}` })
    cache.on('error', (event) => errors.push(event.error))
    const orm = typeormCache({
      cache,
      alwaysEnabled: true,
      onRead: (event) => reads.push(event),
      // Stands in for a user-defined volatile function (every database has UPPER built in).
      volatileFunctions: ['UPPER'],
    })
    const base = connectionOptions(dialect, 'read-safety.db')
    ds = new DataSource({
      ...base,
      entities: [Item],
      synchronize: true,
      dropSchema: true,
      logger: counter,
      ...orm,
    })
    await ds.initialize()
    // A second, cache-less connection pool: the "other session" of the locking tests.
    plain = new DataSource({ ...base, entities: [Item] })
    await plain.initialize()
    if (dialect === 'postgres') await ds.query('CREATE SEQUENCE IF NOT EXISTS rs_seq')
    if (dialect === 'mysql') await ds.query('CREATE SEQUENCE IF NOT EXISTS rs_seq')
  })
  afterAll(async () => {
    await plain?.destroy()
    await ds?.destroy()
    await cache?.close()
  })
  beforeEach(async () => {
    await ds.getRepository(Item).clear()
    await cache.clear()
    reads.length = 0
    errors.length = 0
  })

  const items = () => ds.getRepository(Item)
  const rowCount = async () => Number((await plain.query('SELECT count(*) AS c FROM rs_items'))[0].c)
  /** Statements `run` sends to the database. */
  async function queries<T>(run: () => Promise<T>): Promise<{ value: T; count: number }> {
    const before = counter.count
    const value = await run()
    return { value, count: counter.count - before }
  }

  it('keeps caching ordinary reads, whatever strings and comments say', async () => {
    await items().save({ label: 'now()' })
    const read = () =>
      ds
        .createQueryBuilder(Item, 'i')
        .where("i.label = 'now()'") // random() FOR UPDATE
        .getMany()
    await read()
    expect((await queries(read)).count).toBe(0)
    expect(reads.at(-1)).toMatchObject({ source: 'hit' })
  })

  it.each(VOLATILE[dialect])('a %s read runs every time', async (_, expression) => {
    const { id } = await items().save({ label: 'x' })
    reads.length = 0
    const read = () =>
      ds.createQueryBuilder(Item, 'i').select(expression, 'v').where('i.id = :id', { id }).getRawOne()
    const first = await queries(read)
    const second = await queries(read)
    expect([first.count, second.count]).toEqual([1, 1])
    expect(reads.map((r) => [r.source, r.reason])).toEqual([
      ['bypass', 'volatile'],
      ['bypass', 'volatile'],
    ])
    if (expression.toLowerCase().includes('nextval')) {
      expect(Number(second.value.v)).toBeGreaterThan(Number(first.value.v))
    }
  })

  it('treats declared user functions as volatile', async () => {
    await items().save({ label: 'x' })
    reads.length = 0
    const declared = () => ds.createQueryBuilder(Item, 'i').select('upper(i.label)', 'v').getRawMany()
    const other = () => ds.createQueryBuilder(Item, 'i').select('lower(i.label)', 'v').getRawMany()
    await declared()
    expect((await queries(declared)).count).toBe(1)
    expect(reads.at(-1)).toMatchObject({ source: 'bypass', reason: 'volatile' })
    await other()
    expect((await queries(other)).count).toBe(0)
    expect(() => typeormCache({ cache, volatileFunctions: [''] })).toThrow(/volatileFunctions/)
  })

  it('a read filtered on the clock stops returning a row once it expired', async () => {
    await ds.query(`INSERT INTO rs_items (label, n, expires_at) VALUES ('soon', 0, ${clock.soon})`)
    const live = () => ds.createQueryBuilder(Item, 'i').where(`i.expiresAt > ${clock.now}`).getMany()
    expect((await live()).map((i) => i.label)).toEqual(['soon'])
    // Poll: the database's clock moves on; a frozen result would keep the row for the whole TTL.
    let rows = await live()
    for (let attempt = 0; rows.length > 0 && attempt < 150; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      rows = await live()
    }
    expect(rows).toEqual([])
    expect(reads.every((r) => r.source === 'bypass' && r.reason === 'volatile')).toBe(true)
  })

  it('caches a volatile read the query opts in with its own lifetime or id', async () => {
    const { id } = await items().save({ label: 'x' })
    const read = (cached: number | [string, number]) => {
      const qb = ds.createQueryBuilder(Item, 'i').select(clock.now, 'v').where('i.id = :id', { id })
      return (typeof cached === 'number' ? qb.cache(cached) : qb.cache(cached[0], cached[1])).getRawOne()
    }
    await read(5_000)
    expect((await queries(() => read(5_000))).count).toBe(0)
    await read(['clock-read', 60_000])
    expect((await queries(() => read(['clock-read', 60_000]))).count).toBe(0)
    // cache(true) under the configured duration is not an explicit request.
    const plainTrue = () => ds.createQueryBuilder(Item, 'i').select(clock.now, 'v').cache(true).getRawOne()
    await plainTrue()
    expect((await queries(plainTrue)).count).toBe(1)
    expect(errors).toEqual([])
  })

  it('a read of no table is cached only when the query asks for it', async () => {
    const one = () => ds.createQueryBuilder().fromDummy().select('1', 'one').getRawOne()
    await one()
    expect((await queries(one)).count).toBe(1)
    expect(reads.at(-1)).toMatchObject({ source: 'bypass', reason: 'no-tables' })
    const asked = () => ds.createQueryBuilder().fromDummy().select('1', 'one').cache(5_000).getRawOne()
    await asked()
    expect((await queries(asked)).count).toBe(0)
    expect(errors).toEqual([])
  })

  if (dialect !== 'sqlite') {
    // SQLite has no row locks: a transaction locks the whole database file.
    it('a locking read inside a transaction takes its lock', async () => {
      const { id } = await items().save({ label: 'locked' })
      const lockingRead = (m: DataSource['manager']) =>
        m.createQueryBuilder(Item, 'i').setLock('pessimistic_write').where('i.id = :id', { id }).getOne()
      await ds.transaction(async (m) => {
        expect((await lockingRead(m))?.label).toBe('locked')
        await expect(
          plain.query(`SELECT id FROM rs_items WHERE id = ${id} FOR UPDATE NOWAIT`),
        ).rejects.toThrow()
      })
      await expect(
        plain.query(`SELECT id FROM rs_items WHERE id = ${id} FOR UPDATE NOWAIT`),
      ).resolves.toHaveLength(1)
    })

    it('a locking read in a transaction TypeORM does not know about still takes its lock', async () => {
      const { id } = await items().save({ label: 'locked' })
      const locking = (runner?: ReturnType<DataSource['createQueryRunner']>) =>
        ds
          .createQueryBuilder(runner)
          .addCommonTableExpression(`SELECT id FROM rs_items WHERE id = ${id} FOR UPDATE`, 'l')
          .select('l.id', 'id')
          .from('l', 'l')
          .getRawMany()
      await locking() // would have filled the cache
      expect(reads.at(-1)).toMatchObject({ source: 'bypass', reason: 'locking' })
      const runner = ds.createQueryRunner()
      try {
        await runner.query(dialect === 'postgres' ? 'BEGIN' : 'START TRANSACTION')
        expect(runner.isTransactionActive).toBe(false)
        const { count } = await queries(() => locking(runner))
        expect(count).toBe(1)
        await expect(
          plain.query(`SELECT id FROM rs_items WHERE id = ${id} FOR UPDATE NOWAIT`),
        ).rejects.toThrow()
      } finally {
        await runner.query('ROLLBACK')
        await runner.release()
      }
    })
  }

  if (dialect === 'postgres') {
    // Only PostgreSQL has data-modifying CTEs (MariaDB and SQLite reject them).
    const insertCte = `INSERT INTO "rs_items"("label") VALUES ('s') RETURNING "id"`

    it('a data-modifying CTE runs every time, string and builder forms', async () => {
      const stringForm = () =>
        ds
          .createQueryBuilder()
          .addCommonTableExpression(insertCte, 'w')
          .select('*')
          .from('w', 'w')
          .getRawMany()
      const builderForm = () =>
        ds
          .createQueryBuilder()
          .addCommonTableExpression(
            ds.createQueryBuilder().insert().into(Item).values({ label: 'b' }).returning('id'),
            'w',
          )
          .select('*')
          .from('w', 'w')
          .getRawMany()
      const a = await stringForm()
      const b = await stringForm()
      expect(b[0].id).not.toBe(a[0].id)
      const c = await builderForm()
      const d = await builderForm()
      expect(d[0].id).not.toBe(c[0].id)
      expect(await rowCount()).toBe(4)
      expect(reads.map((r) => r.reason)).toEqual(['writes', 'writes', 'writes', 'writes'])
    })

    it('UPDATE, DELETE and nested forms run every time, as uncached', async () => {
      const { id } = await items().save({ label: 'u' })
      const bump = () =>
        ds
          .createQueryBuilder()
          .addCommonTableExpression(`UPDATE rs_items SET n = n + 1 WHERE id = ${id} RETURNING n`, 'u')
          .select('u.n', 'n')
          .from('u', 'u')
          .getRawOne()
      expect((await bump()).n).toBe(1)
      expect((await bump()).n).toBe(2)
      const nested = () =>
        ds
          .createQueryBuilder()
          .addCommonTableExpression(insertCte, 'w')
          .addCommonTableExpression('SELECT id FROM w', 'v')
          .select('*')
          .from('v', 'v')
          .getRawMany()
      await nested()
      await nested()
      expect(await rowCount()).toBe(3)
      const purge = () =>
        ds
          .createQueryBuilder()
          .addCommonTableExpression(`DELETE FROM rs_items WHERE label = 's' RETURNING id`, 'd')
          .select('count(*)', 'c')
          .from('d', 'd')
          .getRawOne()
      expect(Number((await purge()).c)).toBe(2)
      await items().save({ label: 's' })
      expect(Number((await purge()).c)).toBe(1)
      expect(await rowCount()).toBe(1)
    })

    it('a data-modifying CTE invalidates cached reads of its target, outside and inside transactions', async () => {
      const labels = async () => (await items().find({ order: { id: 'ASC' } })).map((i) => i.label)
      await labels()
      expect((await queries(labels)).count).toBe(0)
      await ds
        .createQueryBuilder()
        .addCommonTableExpression(insertCte, 'w')
        .select('*')
        .from('w', 'w')
        .getRawMany()
      expect(await labels()).toEqual(['s'])
      expect((await queries(labels)).count).toBe(0)
      await ds.transaction((m) =>
        m
          .createQueryBuilder()
          .addCommonTableExpression(insertCte, 'w')
          .select('*')
          .from('w', 'w')
          .getRawMany(),
      )
      expect(await labels()).toEqual(['s', 's'])
    })
  }
})
