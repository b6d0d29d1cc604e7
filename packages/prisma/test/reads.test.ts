import { createCache, InvalidOptionError, type OrmCacheError } from '@ormcache/core'
import { tableTag } from '@ormcache/core/adapter'
import { describe, expect, it } from 'vitest'
import { cacheExtension, type ReadEvent } from '../src/index.js'
import { type BaseClient, type Harness, openHarness } from './support/clients.js'
import { DIALECTS, type TestDatabase } from './support/databases.js'
import type { Fixture } from './support/fixtures.js'
import { seededSuite } from './support/seeded-suite.js'

describe.each(DIALECTS)('cached reads on %s', (dialect) => {
  let database!: TestDatabase
  let h!: Harness
  let f!: Fixture
  const reads: ReadEvent[] = []

  const queries = <T>(run: () => Promise<T>) => h.probe.measure(run)

  seededSuite(dialect, { onRead: (event) => reads.push(event) }, (state) => {
    ;({ database, h, f } = state)
    reads.length = 0
  })

  const readCases: [string, (p: Harness['prisma'], f: Fixture) => Promise<unknown>][] = [
    ['findUnique', (p, f) => p.user.findUnique({ where: { id: f.alice } })],
    ['findUniqueOrThrow', (p) => p.user.findUniqueOrThrow({ where: { email: 'bob@example.com' } })],
    ['findFirst', (p) => p.post.findFirst({ where: { published: true }, orderBy: { id: 'asc' } })],
    ['findFirstOrThrow', (p) => p.post.findFirstOrThrow({ where: { title: 'Draft' } })],
    [
      'findMany with include',
      (p) =>
        p.post.findMany({
          where: { author: { name: 'Alice' } },
          include: {
            author: true,
            tags: { orderBy: { name: 'asc' } },
            _count: { select: { comments: true } },
          },
          orderBy: { id: 'asc' },
        }),
    ],
    ['count', (p) => p.post.count({ where: { published: true } })],
    [
      'aggregate',
      (p) => p.post.aggregate({ _sum: { views: true }, _max: { title: true }, _count: { _all: true } }),
    ],
    [
      'groupBy',
      (p) => p.post.groupBy({ by: ['authorId'], _sum: { views: true }, orderBy: { authorId: 'asc' } }),
    ],
  ]

  it.each(readCases)(
    '%s: a repeated read is served from the cache and equals the database',
    async (_name, read) => {
      const first = await queries(() => read(h.prisma, f))
      expect(first.count).toBeGreaterThan(0)
      // A miss of a read with an included relation reports its nested reads first (include-split).
      expect(reads.map((r) => r.source).every((source) => source === 'miss')).toBe(true)
      reads.length = 0
      const second = await queries(() => read(h.prisma, f))
      expect(second.count).toBe(0)
      expect(second.value).toEqual(first.value)
      expect(second.value).toEqual(await read(h.db as unknown as Harness['prisma'], f))
      expect(reads.map((r) => r.source)).toEqual(['hit'])
    },
  )

  // The analysis of a read (its tags) is memoized per canonical key and shared by later reads.
  it('a listener cannot change the shared tags of a repeated read: a write still invalidates it', async () => {
    const list = () =>
      h.prisma.user.findMany({ where: { id: f.alice }, include: { posts: { orderBy: { id: 'asc' } } } })
    await list()
    reads.length = 0
    await list()
    expect(reads.map((r) => r.source)).toEqual(['hit'])
    // Shared, so frozen: a listener that tries to empty the list gets a TypeError, not a say.
    expect(() => {
      ;(reads[0]!.tags as string[]).length = 0
    }).toThrow(TypeError)
    expect(reads[0]!.tags.length).toBeGreaterThan(0)
    await h.prisma.post.update({ where: { id: f.posts.hello }, data: { title: 'Hello again' } })
    const after = await queries(list)
    expect(after.count).toBeGreaterThan(0)
    expect(after.value[0]!.posts.find((p) => p.id === f.posts.hello)?.title).toBe('Hello again')
  })

  it('same arguments with and without caller tags keep their own analysis', async () => {
    const args = { where: { id: f.alice }, include: { posts: true } } as const
    await h.prisma.user.findMany(args)
    // The outer read reports after its nested reads (include-split).
    const plain = reads.at(-1)
    await h.prisma.user.findMany({ ...args, cache: { tags: ['feed'] } })
    const tagged = reads.at(-1)
    // The precise read replaces the posts table tag with after-load tags; a read with caller tags
    // keeps plain table dependencies (caller tags are never guards an entry drops).
    expect(plain!.tags).not.toContain(tableTag('posts'))
    expect(tagged!.tags).toContain(tableTag('posts'))
    expect(tagged!.tags).toContain('feed')
    // And the other way round: the tagged analysis does not leak into the plain read either.
    await h.prisma.user.findMany(args)
    expect(reads.at(-1)!.tags).toEqual(plain!.tags)
  })

  it('a read with caller tags is never served an entry that does not depend on them', async () => {
    // Regression: the untagged read's entry (judged by its own tags) answered the tagged read,
    // so invalidateTags(['feed']) could not evict what the tagged read was served.
    const args = { where: { id: f.alice }, include: { posts: true } } as const
    await h.prisma.user.findMany(args)
    const tagged = () => h.prisma.user.findMany({ ...args, cache: { tags: ['feed'] } })
    expect((await queries(tagged)).count).toBeGreaterThan(0)
    expect((await queries(tagged)).count).toBe(0)
    await h.cache.invalidateTags(['feed'])
    expect((await queries(tagged)).count).toBeGreaterThan(0)
  })

  it('cache: false bypasses the cache, and the option never reaches Prisma', async () => {
    const a = await queries(() => h.prisma.user.findMany({ cache: false, orderBy: { id: 'asc' } }))
    const b = await queries(() => h.prisma.user.findMany({ cache: false, orderBy: { id: 'asc' } }))
    expect(a.count).toBe(1)
    expect(b.count).toBe(1)
    expect(reads.map((r) => `${r.source}:${r.reason}`)).toEqual(['skip:disabled', 'skip:disabled'])
    // Accepted on every read operation, in batch and interactive transactions too.
    await h.prisma.$transaction([
      h.prisma.user.count({ cache: { ttl: 1000 } }),
      h.prisma.user.aggregate({ _count: true, cache: false }),
    ])
    await h.prisma.$transaction(async (tx) => {
      await tx.user.findFirst({ cache: { tags: ['x'] } })
      await tx.user.groupBy({ by: ['name'], cache: true })
    })
  })

  it('a cached entry is reused until its TTL (per query and per model), then reloaded', async () => {
    const local = await openHarness(database, {
      cache: createCache({ namespace: `ttl-${dialect}`, jitter: 0 }),
      models: { Tag: false, post: { ttl: 500 } },
    })
    try {
      const tagReads = await queries(async () => {
        local.probe.reset()
        await local.prisma.tag.findMany()
        await local.prisma.tag.findMany()
        return local.probe.count
      })
      expect(tagReads.value).toBe(2) // model opted out
      local.probe.reset()
      await local.prisma.post.findMany()
      await local.prisma.post.findMany()
      expect(local.probe.count).toBe(1)
      await local.prisma.user.findMany({ cache: { ttl: 500 } })
      await sleep(700)
      local.probe.reset()
      await local.prisma.post.findMany()
      await local.prisma.user.findMany({ cache: { ttl: 500 } })
      expect(local.probe.count).toBe(2)
      // An explicit per-query option caches even a model that is off by default.
      local.probe.reset()
      await local.prisma.tag.findMany({ cache: { ttl: 1000 } })
      await local.prisma.tag.findMany({ cache: { ttl: 1000 } })
      expect(local.probe.count).toBe(1)
    } finally {
      await local.close()
    }
  })

  it("OrThrow variants throw Prisma's own not-found error, also on a cached null", async () => {
    const { Prisma } = h
    expect(await h.prisma.user.findUnique({ where: { id: 999 } })).toBeNull()
    const again = await queries(() => h.prisma.user.findUnique({ where: { id: 999 } }))
    expect(again).toEqual({ value: null, count: 0 })
    const error = await h.prisma.user.findUniqueOrThrow({ where: { id: 999 } }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
    expect((error as { code: string }).code).toBe('P2025')

    // The throwing variant caches the null for its plain twin.
    const first = await h.prisma.post.findFirstOrThrow({ where: { title: 'nope' } }).catch((e: unknown) => e)
    expect(first).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
    expect(await queries(() => h.prisma.post.findFirst({ where: { title: 'nope' } }))).toEqual({
      value: null,
      count: 0,
    })
    const cachedNull = await h.prisma.post
      .findFirstOrThrow({ where: { title: 'nope' } })
      .catch((e: unknown) => e)
    expect((cachedNull as { code: string }).code).toBe('P2025')
  })

  it('the fluent API keys by relation path and never returns the wrong shape', async () => {
    const where = { id: f.alice }
    const posts = await h.prisma.user.findUnique({ where }).posts({ orderBy: { id: 'asc' } })
    const user = await h.prisma.user.findUnique({ where })
    const selected = await h.prisma.user.findUnique({ where, select: { posts: { orderBy: { id: 'asc' } } } })
    expect(posts?.map((p) => p.title)).toEqual(['Hello', 'Draft'])
    expect(user?.email).toBe('alice@example.com')
    expect(selected).toEqual({ posts })
    const repeated = await queries(() =>
      h.prisma.user.findUnique({ where }).posts({ orderBy: { id: 'asc' } }),
    )
    expect(repeated).toEqual({ value: posts, count: 0 })
    const manager = await h.prisma.post
      .findUnique({ where: { id: f.posts.other } })
      .author()
      .manager()
    expect(manager?.id).toBe(f.alice)

    await h.prisma.post.update({ where: { id: f.posts.draft }, data: { title: 'Published draft' } })
    const fresh = await h.prisma.user.findUnique({ where }).posts({ orderBy: { id: 'asc' } })
    expect(fresh?.map((p) => p.title)).toEqual(['Hello', 'Published draft'])
  })

  it('round-trips Date, BigInt, Decimal, Bytes and Json exactly', async () => {
    const { Prisma } = h
    const read = () => h.prisma.user.findUniqueOrThrow({ where: { id: f.alice } })
    const loaded = await read()
    const cached = await queries(read)
    expect(cached.count).toBe(0)
    const user = cached.value
    expect(user).toEqual(await h.db.user.findUniqueOrThrow({ where: { id: f.alice } }))
    expect(user.balance).toBeInstanceOf(Prisma.Decimal)
    expect(user.balance.toString()).toBe(loaded.balance.toString())
    expect(user.balance.equals(new Prisma.Decimal('100.25'))).toBe(true)
    expect(user.visits).toBe(9007199254740993n)
    expect(user.createdAt).toBeInstanceOf(Date)
    expect(user.createdAt.getTime()).toBe(loaded.createdAt.getTime())
    expect(user.avatar).toBeInstanceOf(Uint8Array)
    expect([...(user.avatar ?? [])]).toEqual([0, 1, 2, 254, 255])
    expect(user.profile).toEqual({ theme: 'dark', tags: ['a', null, 1.5], nested: { deep: true } })
    // A cached value is a copy: mutating it does not change what the cache serves next.
    ;(user.profile as { theme: string }).theme = 'mutated'
    expect(((await read()).profile as { theme: string }).theme).toBe('dark')
  })

  it("keys Prisma's DbNull, JsonNull and AnyNull filters distinctly", async () => {
    const { Prisma } = h
    await h.db.post.create({ data: { title: 'db-null', authorId: f.carol, meta: Prisma.DbNull } })
    await h.db.post.create({ data: { title: 'json-null', authorId: f.carol, meta: Prisma.JsonNull } })
    const titles = async (meta: unknown) =>
      (
        await h.prisma.post.findMany({
          where: { authorId: f.carol, meta: { equals: meta as typeof Prisma.DbNull } },
          orderBy: { id: 'asc' },
        })
      ).map((p) => p.title)
    const first = await queries(async () => [
      await titles(Prisma.DbNull),
      await titles(Prisma.JsonNull),
      await titles(Prisma.AnyNull),
    ])
    expect(first.value).toEqual([['db-null'], ['json-null'], ['db-null', 'json-null']])
    expect(first.count).toBe(3)
    const second = await queries(async () => [
      await titles(Prisma.DbNull),
      await titles(Prisma.JsonNull),
      await titles(Prisma.AnyNull),
    ])
    expect(second).toEqual({ value: first.value, count: 0 })
  })

  it('includes the client-wide omit and the user context in keys', async () => {
    const cache = createCache({ namespace: `ctx-${dialect}` })
    let tenant = 'a'
    const plain = await openHarness(database, { cache, context: () => ({ tenant }) })
    const omitting = await openHarness(database, {
      cache,
      context: () => ({ tenant }),
      clientOptions: { omit: { user: { email: true } } },
    })
    try {
      const where = { id: f.bob }
      const full = await plain.prisma.user.findUnique({ where })
      const omitted = await omitting.prisma.user.findUnique({ where })
      expect(full?.email).toBe('bob@example.com')
      expect(omitted).not.toHaveProperty('email')
      plain.probe.reset()
      await plain.prisma.user.findUnique({ where })
      expect(plain.probe.count).toBe(0)
      tenant = 'b'
      await plain.prisma.user.findUnique({ where })
      expect(plain.probe.count).toBe(1)
    } finally {
      await plain.close()
      await omitting.close()
    }
  })

  it('custom tags, custom keys and prisma.$cache', async () => {
    const feed = () => h.prisma.post.findMany({ where: { published: true }, cache: { tags: ['feed'] } })
    await feed()
    expect((await queries(feed)).count).toBe(0)
    await h.prisma.$cache.invalidateTags(['feed'])
    expect((await queries(feed)).count).toBe(1)

    const keyed = () => h.prisma.setting.findMany({ cache: { key: 'all-settings' } })
    await keyed()
    expect((await queries(keyed)).count).toBe(0)
    await h.prisma.$cache.delete('all-settings')
    expect((await queries(keyed)).count).toBe(1)
    expect(h.prisma.$cache).toBe(h.cache)
  })

  it('reports where each read came from', async () => {
    await h.prisma.tag.findMany()
    await h.prisma.tag.findMany()
    await Promise.all([h.prisma.team.findMany(), h.prisma.team.findMany()])
    await h.prisma.$transaction(async (tx) => tx.tag.findMany())
    expect(
      reads.map((r) => `${r.model}.${r.operation}:${r.source}${r.reason ? `:${r.reason}` : ''}`),
    ).toEqual([
      'Tag.findMany:miss:absent',
      'Tag.findMany:hit',
      'Team.findMany:miss:absent',
      'Team.findMany:shared:absent',
      'Tag.findMany:skip:transaction',
    ])
    expect(reads[0]!.tags).toEqual(['t:tags'])
    expect(reads[0]!.key).toMatch(/^prisma:Tag\.findMany:/)
  })

  it('a stampede of 1,000 concurrent identical cold reads executes one query', async () => {
    const read = () => h.prisma.post.findMany({ where: { published: true }, orderBy: { id: 'asc' } })
    const { value, count } = await queries(() => Promise.all(Array.from({ length: 1000 }, read)))
    expect(count).toBe(1)
    const expected = await h.db.post.findMany({ where: { published: true }, orderBy: { id: 'asc' } })
    for (const result of value) expect(result).toEqual(expected)
  })

  it('a stampede on a read with relations executes what one uncached read executes', async () => {
    const args = { include: { tags: true, author: true }, orderBy: { id: 'asc' as const } }
    const single = await queries(() => h.prisma.post.findMany({ ...args, cache: false }))
    const { value, count } = await queries(() =>
      Promise.all(Array.from({ length: 1000 }, () => h.prisma.post.findMany(args))),
    )
    expect(count).toBe(single.count)
    for (const result of value) expect(result).toEqual(single.value)
  })

  it('rejects bad options with typed errors', async () => {
    const error = await h.prisma.user.findMany({ cache: { ttl: -5 } }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect((error as OrmCacheError).code).toBe('ERR_INVALID_OPTION')
    // Core's durationMs words it, for TypeORM's `find({ cache: -5 })` too.
    expect((error as Error).message).toBe(
      'Invalid option "cache.ttl": must be a positive finite number of ms, at most 315360000000',
    )
    await expect(h.prisma.user.findMany({ cache: { ttl: 0 } })).rejects.toMatchObject({ option: 'cache.ttl' })
    await expect(h.prisma.user.findMany({ cache: { tll: 5 } as never })).rejects.toThrow(/did you mean "ttl"/)
    await expect(h.prisma.user.findMany({ cache: 'yes' as never })).rejects.toThrow(InvalidOptionError)
    expect(() => cacheExtension({} as never)).toThrow(InvalidOptionError)
    expect(() => cacheExtension({ cache: h.cache, ttl: 0 })).toThrow(InvalidOptionError)
    expect(() =>
      // @ts-expect-error Nope is no model of this client (also refused at run time)
      (h.db as BaseClient).$extends(cacheExtension({ cache: h.cache, models: { Nope: false } })),
    ).toThrow(/models\.Nope/)
  })
})

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
