import { createCache, memoryStore, type OrmCacheError } from '@ormcache/core'
import { FaultyStore } from '@ormcache/core/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Harness, openHarness } from './support/clients.js'
import { DIALECTS, openDatabase, type TestDatabase } from './support/databases.js'
import { type Fixture, seed } from './support/fixtures.js'

describe.each(DIALECTS)('cache faults never fail a query (%s)', (dialect) => {
  let database: TestDatabase
  let h: Harness
  let f: Fixture
  let store: FaultyStore
  const errors: OrmCacheError[] = []

  beforeAll(async () => {
    database = await openDatabase(dialect)
    store = new FaultyStore(memoryStore())
    const cache = createCache({ store, namespace: `faults-${dialect}`, circuitBreaker: false })
    cache.on('error', (event) => errors.push(event.error))
    h = await openHarness(database, { cache })
  })
  afterAll(async () => {
    await h.close()
    await database.close()
  })
  beforeEach(async () => {
    store.mode = 'ok'
    await database.reset()
    await h.cache.clear()
    f = await seed(h.db)
    errors.length = 0
  })

  const aliceName = async () => (await h.prisma.user.findUnique({ where: { id: f.alice } }))?.name
  const titles = async () => (await h.prisma.post.findMany({ orderBy: { id: 'asc' } })).map((p) => p.title)

  it('reads and writes succeed against a failing store; stale entries never come back', async () => {
    expect(await aliceName()).toBe('Alice')
    expect(await titles()).toEqual(['Hello', 'Draft', 'Other'])
    store.mode = 'fail'
    // Writes (with write-through and plain invalidation) still succeed.
    await h.prisma.user.update({ where: { id: f.alice }, data: { name: 'During outage' } })
    await h.prisma.post.update({ where: { id: f.posts.draft }, data: { title: 'Edited' } })
    await h.prisma.$transaction(async (tx) =>
      tx.setting.update({ where: { key: 'theme' }, data: { value: 'x' } }),
    )
    await h.prisma.$executeRaw`UPDATE tags SET name = name`
    // Reads fall back to the database.
    expect(await aliceName()).toBe('During outage')
    expect(await titles()).toEqual(['Hello', 'Edited', 'Other'])
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.every((e) => typeof e.code === 'string')).toBe(true)

    // The store comes back still holding the old entries: the missed invalidations are applied
    // before the store is trusted again.
    store.mode = 'ok'
    expect(await aliceName()).toBe('During outage')
    expect(await titles()).toEqual(['Hello', 'Edited', 'Other'])
    expect((await h.prisma.setting.findUnique({ where: { key: 'theme' } }))?.value).toBe('x')
  })

  it('a closed cache (shutdown) does not fail queries still in flight', async () => {
    const reported: OrmCacheError[] = []
    const closing = await openHarness(database, {
      cache: createCache({ namespace: `closing-${dialect}`, onError: (error) => reported.push(error) }),
    })
    try {
      await closing.prisma.user.findMany()
      await closing.cache.close()
      expect((await closing.prisma.user.findUnique({ where: { id: f.alice } }))?.name).toBe('Alice')
      await closing.prisma.user.update({ where: { id: f.alice }, data: { name: 'After close' } })
      await closing.prisma.$transaction(async (tx) =>
        tx.user.update({ where: { id: f.bob }, data: { name: 'B' } }),
      )
      expect((await closing.prisma.user.findMany({ orderBy: { id: 'asc' } })).map((u) => u.name)).toEqual([
        'After close',
        'B',
        'Carol',
      ])
      // The absorbed faults are reported as ormcache errors (the cache was closed under them).
      expect(reported.length).toBeGreaterThan(0)
      expect(reported.every((error) => error.code === 'ERR_CACHE_CLOSED')).toBe(true)
    } finally {
      await closing.close()
    }
  })
})
