import type { Cache } from '@ormcache/core'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type CacheExtensionOptions, cacheExtension } from '../src/index.js'
import type { Post, Prisma, User } from './generated/postgres/client/client.ts'
import type { BaseClient, CachedClient } from './support/clients.js'

/**
 * Compile-time checks (run by `npm run typecheck`): `cache` is accepted on every read, on the
 * transaction client too, rejected where it means nothing, and results keep Prisma's types,
 * including the fluent API.
 */
async function typeChecks(prisma: CachedClient): Promise<void> {
  const user = await prisma.user.findUnique({ where: { id: 1 }, cache: { ttl: 1_000, tags: ['x'] } })
  expectTypeOf(user).toEqualTypeOf<User | null>()
  expectTypeOf(await prisma.user.findUniqueOrThrow({ where: { id: 1 }, cache: false })).toEqualTypeOf<User>()
  expectTypeOf(await prisma.post.findFirst({ cache: true })).toEqualTypeOf<Post | null>()
  expectTypeOf(await prisma.post.findFirstOrThrow({ where: { id: 1 }, cache: {} })).toEqualTypeOf<Post>()
  const selected = await prisma.user.findMany({ select: { email: true }, cache: { key: 'k' } })
  expectTypeOf(selected).toEqualTypeOf<{ email: string }[]>()
  const withPosts = await prisma.user.findMany({ include: { posts: true }, cache: { ttl: 5 } })
  expectTypeOf(withPosts[0]!.posts).toEqualTypeOf<Post[]>()
  expectTypeOf(await prisma.post.count({ cache: false })).toEqualTypeOf<number>()
  const sums = await prisma.post.aggregate({ _sum: { views: true }, cache: { ttl: 5 } })
  expectTypeOf(sums._sum.views).toEqualTypeOf<number | null>()
  await prisma.post.groupBy({ by: ['authorId'], _count: true, cache: false })

  // The fluent API keeps its types on the cached methods.
  const posts = await prisma.user.findUnique({ where: { id: 1 } }).posts()
  expectTypeOf(posts).toEqualTypeOf<Post[] | null>()
  const manager = await prisma.post
    .findUniqueOrThrow({ where: { id: 1 } })
    .author()
    .manager()
  expectTypeOf(manager).toEqualTypeOf<User | null>()

  // Interactive transaction client.
  await prisma.$transaction(async (tx) => {
    await tx.user.findMany({ cache: false })
    await tx.user.count({ cache: { ttl: 1 } })
  })
  expectTypeOf(prisma.$cache).toEqualTypeOf<Cache>()
  const rows = await prisma.$queryRawCached<{ n: number }[]>({} as Prisma.Sql, { tables: ['users'] })
  expectTypeOf(rows).toEqualTypeOf<{ n: number }[]>()

  // @ts-expect-error ttl must be a number
  await prisma.user.findMany({ cache: { ttl: '5s' } })
  // @ts-expect-error unknown cache setting
  await prisma.user.findMany({ cache: { forever: true } })
  // @ts-expect-error writes take no cache option
  await prisma.user.create({ data: { email: 'x' }, cache: false })
  // @ts-expect-error selected fields only
  selected[0]!.name
}

/** `models` is keyed by the client's model names: a misspelt model fails here, not at `$extends`. */
function modelOptionChecks(base: BaseClient, cache: Cache): void {
  base.$extends(
    cacheExtension({
      cache,
      models: { User: false, post: { ttl: 5 }, Comment: { staleWhileRevalidate: 0 } },
    }),
  )
  // @ts-expect-error Nope is not a model of this Prisma schema
  base.$extends(cacheExtension({ cache, models: { Nope: false } }))
  // @ts-expect-error a model setting is false or { ttl?, staleWhileRevalidate? }
  base.$extends(cacheExtension({ cache, models: { User: true } }))
  // Options built apart (typed CacheExtensionOptions) still work: the names are checked at run time.
  const options: CacheExtensionOptions = { cache, models: { User: false } }
  base.$extends(cacheExtension(options))
}

describe('types', () => {
  it('are checked by tsc (this file compiles)', () => {
    expect(typeof typeChecks).toBe('function')
    expect(typeof modelOptionChecks).toBe('function')
  })
})
