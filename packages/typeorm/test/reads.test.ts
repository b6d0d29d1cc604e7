import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { countQueries, type Harness, openHarness, type Seeded, seed } from './support/harness.js'
import { InstrumentedStore } from './support/stores.js'

describe.each(DIALECTS)('reads on %s', (dialect) => {
  let h: Harness
  let s: Seeded
  let store: InstrumentedStore
  beforeAll(async () => {
    store = new InstrumentedStore()
    h = await openHarness(dialect, { cache: { store }, adapter: { alwaysEnabled: true } })
    s = await seed(h)
  })
  afterAll(() => h?.close())

  /** Runs `read` cold, then warm: the warm run must not touch the database and return equal data. */
  async function expectCached<T>(read: () => Promise<T>): Promise<T> {
    await h.cache.clear()
    const cold = await read()
    let warm: T | undefined
    expect(await countQueries(h, async () => (warm = await read()))).toBe(0)
    expect(warm).toEqual(cold)
    return warm as T
  }

  it('caches every repository read path', async () => {
    const users = h.ds.getRepository(h.e.User)
    const posts = h.ds.getRepository(h.e.Post)
    await expectCached(() => users.findOneBy({ id: s.alice.id }))
    await expectCached(() => users.findOne({ where: { id: s.alice.id }, relations: { posts: true } }))
    await expectCached(() => users.find({ order: { id: 'ASC' } }))
    await expectCached(() => users.findBy({ name: 'bob' }))
    await expectCached(() => users.findAndCount({ take: 1, order: { id: 'ASC' } }))
    await expectCached(() => users.count())
    await expectCached(() => users.countBy({ name: 'alice' }))
    await expectCached(() => users.exists({ where: { name: 'alice' } }))
    await expectCached(() => posts.sum('likes'))
    const withRelations = await expectCached(() =>
      posts.find({ relations: { author: true, tags: true }, order: { id: 'ASC' }, take: 2 }),
    )
    expect(withRelations.map((p) => p.tags.map((t) => t.label).sort())).toEqual([['blue', 'red'], ['red']])
    expect(withRelations[0]!.category?.name).toBe('news')
  })

  it('caches every QueryBuilder read path', async () => {
    const qb = () => h.ds.createQueryBuilder(h.e.User, 'u').where('u.id = :id', { id: s.alice.id })
    await expectCached(() => qb().getOne())
    await expectCached(() => qb().getMany())
    await expectCached(() => qb().getRawOne())
    await expectCached(() => qb().getRawMany())
    await expectCached(() => qb().getCount())
    await expectCached(() => qb().getManyAndCount())
    await expectCached(() =>
      h.ds
        .createQueryBuilder(h.e.Post, 'p')
        .leftJoinAndSelect('p.tags', 't')
        .where('t.label = :label', { label: 'red' })
        .orderBy('p.id')
        .getMany(),
    )
  })

  it('round-trips raw rows exactly: Dates, Buffers, bigint and decimal strings, JSON', async () => {
    const raw = (cache: boolean) =>
      h.ds.createQueryBuilder(h.e.User, 'u').where('u.id = :id', { id: s.alice.id }).cache(cache).getRawOne()
    await h.cache.clear()
    const direct = await raw(false)
    await raw(true)
    let cached: Record<string, unknown> | undefined
    expect(await countQueries(h, async () => (cached = await raw(true)))).toBe(0)
    expect(cached).toEqual(direct)
    for (const [column, value] of Object.entries(direct as Record<string, unknown>)) {
      expect(Object.prototype.toString.call(cached![column]), column).toBe(
        Object.prototype.toString.call(value),
      )
    }
    expect(cached!.u_avatar).toBeInstanceOf(Buffer)
    if (dialect !== 'sqlite') expect(cached!.u_lastSeen).toBeInstanceOf(Date)

    const entity = await h.ds.getRepository(h.e.User).findOneBy({ id: s.alice.id })
    expect(entity!.avatar).toEqual(Buffer.from([0, 1, 2, 255]))
    expect(entity!.lastSeen).toEqual(new Date('2024-05-06T07:08:09.123Z'))
    expect(entity!.settings).toEqual({ theme: 'dark', n: [1, 2] })
    expect(String(entity!.visits)).toBe(dialect === 'sqlite' ? '9007199254740992' : '9007199254740993')
    expect(Number(entity!.balance)).toBe(12.5)
  })

  it("skips TypeORM's JSON copy of the rows, and the rows still serialize normally afterwards", async () => {
    const provider = h.ds.queryResultCache!
    const stored: unknown[] = []
    const original = provider.storeInCache.bind(provider)
    provider.storeInCache = (options, saved, runner) => {
      stored.push(options.result)
      return original(options, saved, runner)
    }
    try {
      const qb = () => h.ds.createQueryBuilder(h.e.User, 'u').where('u.id = :id', { id: s.alice.id })
      await h.cache.clear()
      const cold = await qb().getRawMany()
      const warm = await qb().getRawMany()
      expect(stored).toEqual([undefined, undefined])
      expect(JSON.parse(JSON.stringify(warm))).toEqual(JSON.parse(JSON.stringify({ rows: cold })).rows)
      expect(JSON.stringify(warm)).toMatch(/^\[\{/)
      expect(Object.keys(warm)).toEqual(['0'])
    } finally {
      provider.storeInCache = original
    }
  })

  it('keys entries by hashed, namespaced keys, never by SQL text', async () => {
    await expectCached(() => h.ds.getRepository(h.e.User).find({ where: { name: 'alice' } }))
    expect(store.writtenKeys.size).toBeGreaterThan(0)
    for (const key of store.writtenKeys) {
      expect(key.startsWith(`${h.cache.namespace}:`)).toBe(true)
      expect(key).not.toMatch(/SELECT|FROM|WHERE/i)
      expect(key.length).toBeLessThanOrEqual(250)
    }
  })

  it('depends on row tags for a primary-key lookup and on table tags otherwise', async () => {
    await expectCached(() => h.ds.getRepository(h.e.User).findOneBy({ id: s.bob.id }))
    await expectCached(() => h.ds.getRepository(h.e.User).findBy({ name: 'bob' }))
    const lookup = h.reads.findLast(
      (r) => r.sql.includes('LIMIT 1') && r.tags.some((t) => t.startsWith('r:')),
    )
    expect(lookup?.tags).toEqual(['b:app_users', `r:app_users:${s.bob.id}`])
    const list = h.reads.at(-1)
    expect(list?.tags).toEqual(['t:app_users'])
    const joined = h.reads.findLast((r) => r.sql.includes('app_post_tags'))
    expect(joined?.tags).toEqual(expect.arrayContaining(['t:app_posts', 't:app_post_tags', 't:app_tags']))
  })

  it('reads inside a transaction bypass the shared cache (neither read nor fill)', async () => {
    const users = h.ds.getRepository(h.e.User)
    await h.cache.clear()
    await users.findOneBy({ id: s.bob.id }) // filled outside
    let inside = 0
    await h.ds.transaction(async (em) => {
      inside = await countQueries(h, async () => {
        await em.findOneBy(h.e.User, { id: s.bob.id })
        await em.findOneBy(h.e.User, { id: s.bob.id })
        await em.find(h.e.Post)
      })
    })
    expect(inside).toBe(3)
    expect(h.reads.slice(-3).map((r) => r.source)).toEqual(['bypass', 'bypass', 'bypass'])
    // The in-transaction find did not fill: outside it is still a miss.
    expect(await countQueries(h, () => users.find({ where: {} }))).toBeGreaterThan(0)
  })

  it('honours cache: false and the per-query duration', async () => {
    const users = h.ds.getRepository(h.e.User)
    expect(await countQueries(h, () => users.find({ cache: false }))).toBe(1)
    expect(await countQueries(h, () => users.find({ cache: false }))).toBe(1)
    await users.find({ where: { name: 'bob' }, cache: 30 })
    expect(await countQueries(h, () => users.find({ where: { name: 'bob' }, cache: 30 }))).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(await countQueries(h, () => users.find({ where: { name: 'bob' }, cache: 30 }))).toBe(1)
  })

  it('supports cache: { id } and queryResultCache.remove([id])', async () => {
    const users = h.ds.getRepository(h.e.User)
    const byId = () =>
      users.findAndCount({
        where: {},
        order: { id: 'ASC' },
        take: 1,
        cache: { id: 'all-users', milliseconds: 60_000 },
      })
    const first = await byId()
    expect(await countQueries(h, byId)).toBe(0)
    expect(h.reads.at(-1)?.key).toMatch(/^typeorm:id:/)
    await h.ds.queryResultCache!.remove(['all-users'])
    // The id and TypeORM's derived "all-users-count" both went.
    expect(await countQueries(h, byId)).toBe(2)
    expect(await byId()).toEqual(first)
    // An id'd entry is still invalidated by writes to its tables.
    await users.insert({ name: 'carol' })
    const [, count] = await byId()
    expect(count).toBe(first[1] + 1)
    await users.delete({ name: 'carol' })
  })

  it('runs one query for a cold stampede of 1,000 identical reads', async () => {
    const users = h.ds.getRepository(h.e.User)
    await h.cache.clear()
    let results: unknown[] = []
    const executed = await countQueries(h, async () => {
      results = await Promise.all(Array.from({ length: 1_000 }, () => users.findOneBy({ id: s.alice.id })))
    })
    expect(executed).toBe(1)
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1)
    expect(results[0]).not.toBe(results[1]) // every caller gets its own objects
  })
})

describe('opt-in caching (alwaysEnabled: false) on postgres', () => {
  let h: Harness
  let s: Seeded
  beforeAll(async () => {
    h = await openHarness('postgres')
    s = await seed(h)
  })
  afterAll(() => h?.close())

  it('caches only the reads that ask for it', async () => {
    const users = h.ds.getRepository(h.e.User)
    const posts = h.ds.getRepository(h.e.Post)
    expect(await countQueries(h, () => users.findOneBy({ id: s.alice.id }))).toBe(1)
    expect(await countQueries(h, () => users.findOneBy({ id: s.alice.id }))).toBe(1)
    await posts.find({ relations: { author: true }, cache: 5_000 })
    expect(await countQueries(h, () => posts.find({ relations: { author: true }, cache: 5_000 }))).toBe(0)
    const qb = () => h.ds.createQueryBuilder(h.e.User, 'u').where('u.id = :id', { id: s.bob.id })
    expect(await countQueries(h, () => qb().getOne())).toBe(1)
    await qb().cache(true).getOne()
    expect(await countQueries(h, () => qb().cache(true).getOne())).toBe(0)
    await users.update(s.bob.id, { name: 'robert' })
    expect((await qb().cache(true).getOne())?.name).toBe('robert')
  })
})
