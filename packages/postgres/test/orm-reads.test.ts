import 'reflect-metadata'
import { createCache } from '@ormcache/core'
import { cacheExtension } from '@ormcache/prisma'
import { typeormCache } from '@ormcache/typeorm'
import { PrismaPg } from '@prisma/adapter-pg'
import { DataSource, EntitySchema } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PostgresInvalidation, postgresInvalidation } from '../src/index.js'
import { PrismaClient } from './generated/postgres/client/client.ts'
import { databaseUrl, dropReplication, ensureDatabase, outside, until } from './support/db.js'

// Cached Prisma and TypeORM reads of a table another service writes with plain SQL: fresh once
// the consumer applied the transaction, stale while it is stopped (so the cache really served them).
const SLOT = 'ormcache_test_orm'
const PUBLICATION = 'ormcache_test_orm'

interface Order {
  id: number
  status: number
  note: string | null
}
const Orders = new EntitySchema<Order>({
  name: 'PgiOrder',
  tableName: 'pgi_orders',
  columns: {
    id: { type: 'int', primary: true },
    status: { type: 'int' },
    note: { type: 'text', nullable: true },
  },
})

const cache = createCache({ namespace: 'pg-orm-reads' })
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl() }) }).$extends(
  cacheExtension({ cache }),
)
// Lists of this client depend on member tags (docs/design.md, "Lists without row tags"), which
// the stream must bump for the values an update left alone.
const members = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl() }) }).$extends(
  cacheExtension({ cache, listTags: 'members' }),
)
const typeorm = new DataSource({
  type: 'postgres',
  url: databaseUrl(),
  entities: [Orders],
  ...typeormCache({ cache, alwaysEnabled: true }),
})
let consumer: PostgresInvalidation

beforeAll(async () => {
  await ensureDatabase()
  await dropReplication(SLOT, PUBLICATION)
  await outside('DROP TABLE IF EXISTS pgi_orders')
  await outside('CREATE TABLE pgi_orders (id int PRIMARY KEY, status int NOT NULL, note text)')
  await outside("INSERT INTO pgi_orders SELECT i, 1, 'n' || i FROM generate_series(1, 10) i")
  await typeorm.initialize()
  consumer = postgresInvalidation({
    cache,
    connectionString: databaseUrl(),
    slot: SLOT,
    publication: PUBLICATION,
    tables: ['pgi_orders'],
  })
})

afterAll(async () => {
  await consumer?.teardown()
  await dropReplication(SLOT, PUBLICATION)
  await typeorm.destroy()
  await prisma.$disconnect()
  await members.$disconnect()
  await cache.close()
})

const repo = () => typeorm.getRepository(Orders)
const reads = async () => ({
  prismaRow: await prisma.pgiOrder.findUnique({ where: { id: 1 } }),
  prismaList: (await prisma.pgiOrder.findMany({ where: { status: 5 }, orderBy: { id: 'asc' } })).map(
    (o) => o.id,
  ),
  prismaCount: await prisma.pgiOrder.count(),
  typeormRow: await repo().findOneBy({ id: 1 }),
  typeormList: (await repo().find({ where: { status: 5 }, order: { id: 'ASC' } })).map((o) => o.id),
  typeormCount: await repo().count(),
  // Counts over pins (docs/design.md, "Counts"): a row leaving status 5 bumps only l:/v: tags.
  prismaPinnedCount: await prisma.pgiOrder.count({ where: { status: 5 } }),
  typeormPinnedCount: await repo().countBy({ status: 5 }),
  // Another key than prismaList's (same cache, other arguments), so it is this client's entry.
  membersList: (
    await members.pgiOrder.findMany({ where: { status: { equals: 5 } }, orderBy: { id: 'asc' } })
  ).map((o) => `${o.id}:${o.note}`),
})

async function applied(run: () => Promise<unknown>): Promise<void> {
  const before = consumer.stats().transactions
  await run()
  await until(() => consumer.stats().transactions > before, 10_000, 'the consumer to apply the transaction')
}

describe('outside writes make cached Prisma and TypeORM reads fresh', () => {
  it('reads are cached: an outside write is invisible until the consumer applies it', async () => {
    await reads() // fill
    await outside('UPDATE pgi_orders SET status = 5, note = $1 WHERE id = 1', ['outside'])
    const stale = await reads()
    expect(stale.prismaRow?.status).toBe(1)
    expect(stale.typeormRow?.status).toBe(1)
    expect(stale.prismaList).toEqual([])
    expect(stale.typeormList).toEqual([])

    await consumer.start()
  })

  it('UPDATE: row lookups and pinned lists see the new values', async () => {
    await until(() => consumer.stats().active, 10_000, 'the consumer to become active')
    await reads()
    await applied(() => outside('UPDATE pgi_orders SET status = 5 WHERE id IN (1, 2)'))
    const fresh = await reads()
    expect(fresh.prismaRow?.status).toBe(5)
    expect(fresh.typeormRow?.status).toBe(5)
    expect(fresh.prismaList).toEqual([1, 2])
    expect(fresh.typeormList).toEqual([1, 2])
  })

  it('UPDATE of a column no list pins reaches a list that depends on member tags', async () => {
    const before = await reads()
    expect(before.membersList).toEqual(['1:outside', '2:n2'])
    await applied(() => outside("UPDATE pgi_orders SET note = 'kept' WHERE id = 2"))
    const fresh = await reads()
    expect(fresh.membersList).toEqual(['1:outside', '2:kept'])
    expect(fresh.prismaList).toEqual([1, 2])
  })

  it('INSERT joins pinned lists and counts', async () => {
    await reads()
    await applied(() => outside('INSERT INTO pgi_orders VALUES (11, 5, null)'))
    const fresh = await reads()
    expect(fresh.prismaList).toEqual([1, 2, 11])
    expect(fresh.typeormList).toEqual([1, 2, 11])
    expect(fresh.prismaCount).toBe(11)
    expect(fresh.typeormCount).toBe(11)
  })

  it('UPDATE moving a row out of a pinned count (old value unknown to the stream) refreshes it', async () => {
    await reads()
    await applied(() => outside('UPDATE pgi_orders SET status = 6 WHERE id = 11'))
    const fresh = await reads()
    expect(fresh.prismaPinnedCount).toBe(2)
    expect(fresh.typeormPinnedCount).toBe(2)
    await applied(() => outside('UPDATE pgi_orders SET status = 5 WHERE id = 11'))
    expect((await reads()).prismaPinnedCount).toBe(3)
  })

  it('DELETE removes the row from lookups and lists', async () => {
    await reads()
    await applied(() => outside('DELETE FROM pgi_orders WHERE id = 1'))
    const fresh = await reads()
    expect(fresh.prismaRow).toBeNull()
    expect(fresh.typeormRow).toBeNull()
    expect(fresh.prismaList).toEqual([2, 11])
    expect(fresh.typeormList).toEqual([2, 11])
    expect(fresh.prismaPinnedCount).toBe(2)
    expect(fresh.typeormPinnedCount).toBe(2)
  })

  it('TRUNCATE empties every cached read of the table', async () => {
    await reads()
    await applied(() => outside('TRUNCATE pgi_orders'))
    const fresh = await reads()
    expect(fresh).toEqual({
      prismaRow: null,
      prismaList: [],
      prismaCount: 0,
      typeormRow: null,
      typeormList: [],
      typeormCount: 0,
      prismaPinnedCount: 0,
      typeormPinnedCount: 0,
      membersList: [],
    })
  })

  it('a rolled-back transaction produces no invalidation', async () => {
    await outside('INSERT INTO pgi_orders VALUES (1, 1, null)')
    await until(
      async () => (await prisma.pgiOrder.findUnique({ where: { id: 1 } })) !== null,
      10_000,
      'row 1',
    )
    const before = consumer.stats()
    const tags: string[] = []
    const off = cache.on('invalidate', (event) => tags.push(...event.tags))
    await outside('BEGIN; UPDATE pgi_orders SET status = 9 WHERE id = 1; ROLLBACK')
    // A later committed transaction proves the stream moved past the rolled-back one.
    await applied(() => outside('INSERT INTO pgi_orders VALUES (99, 1, null)'))
    off()
    expect(consumer.stats().transactions).toBe(before.transactions + 1)
    expect(tags).toContain('r:pgi_orders:99')
    expect(tags).not.toContain('r:pgi_orders:1')
    expect(tags).not.toContain('v:pgi_orders:status=9')
    expect((await prisma.pgiOrder.findUnique({ where: { id: 1 } }))?.status).toBe(1)
  })

  it('lag: outside COMMIT to the cached read serving the new value', async () => {
    const lags: number[] = []
    for (let i = 0; i < 20; i++) {
      await prisma.pgiOrder.findUnique({ where: { id: 1 } })
      const started = performance.now()
      await outside('UPDATE pgi_orders SET status = $1 WHERE id = 1', [100 + i])
      const committed = performance.now()
      await until(
        async () => (await prisma.pgiOrder.findUnique({ where: { id: 1 } }))?.status === 100 + i,
        10_000,
      )
      lags.push(performance.now() - committed)
      expect(committed).toBeGreaterThan(started)
    }
    lags.sort((a, b) => a - b)
    console.log(
      `outside write → fresh cached read: p50 ${lags[10]?.toFixed(1)} ms, max ${lags[19]?.toFixed(1)} ms`,
    )
    expect(consumer.stats().lagMs).toBeGreaterThanOrEqual(0)
  })
})
