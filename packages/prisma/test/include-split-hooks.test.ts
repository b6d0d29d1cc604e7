import { type Cache, createCache } from '@ormcache/core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cacheExtension, type ReadEvent } from '../src/index.js'
import { type BaseClient, type CachedClient, generated } from './support/clients.js'
import { DIALECTS, openDatabase, type TestDatabase } from './support/databases.js'
import { type Fixture, seed } from './support/fixtures.js'

interface HookParams {
  model?: string
  operation: string
  args: unknown
  query: (args: unknown) => Promise<unknown>
}
type Hook = (params: HookParams) => Promise<unknown>

/**
 * A query extension applied before the cache sees the calls Prisma makes on its client. Prisma
 * loads an included relation inside the parent's statement, so such an extension never sees a
 * child read; an assembled include would show it one (and the parent read without its include).
 * So a read whose parent or child operation another extension hooks is loaded by Prisma as it is.
 */
describe.each(DIALECTS)('include split next to other query extensions (%s)', (dialect) => {
  let database!: TestDatabase
  let base!: BaseClient
  let f!: Fixture
  const caches: Cache[] = []

  beforeAll(async () => {
    database = await openDatabase(dialect)
    const mod = await generated(dialect)
    base = new mod.PrismaClient({ adapter: database.adapter() } as never) as BaseClient
  })
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()))
    await base?.$disconnect()
    await database?.close()
  })
  beforeEach(async () => {
    await database.reset()
    f = await seed(base)
  })

  /** One cache extension value, to be applied to several clients. */
  const extension = (reads: ReadEvent[]) => {
    const cache = createCache({ namespace: `prisma-hooks-${dialect}-${caches.length}` })
    caches.push(cache)
    return { cache, extension: cacheExtension({ cache, closeCache: false, onRead: (e) => reads.push(e) }) }
  }
  /** `base` with a query extension that records the calls it sees. */
  const hookedBase = (query: (hook: Hook) => Record<string, unknown>, seen: string[]) => {
    const hook: Hook = ({ model, operation, args, query: next }) => {
      seen.push(`${model}.${operation}`)
      return next(args)
    }
    return base.$extends({ query: query(hook) } as never) as unknown as BaseClient
  }
  const team = (p: CachedClient | BaseClient) =>
    (p as CachedClient).user.findMany({
      where: { id: { in: [f.alice, f.bob, f.carol] } },
      include: { posts: true },
      orderBy: { id: 'asc' },
    })
  const readsOf = (reads: ReadEvent[]) => reads.map((r) => `${r.model}.${r.operation}:${r.source}`)

  const hooking: Record<string, (hook: Hook) => Record<string, unknown>> = {
    'the child model’s findMany': (hook) => ({ post: { findMany: hook } }),
    'every operation of the child model': (hook) => ({ post: { $allOperations: hook } }),
    'findMany of every model': (hook) => ({ $allModels: { findMany: hook } }),
    'every operation of every model': (hook) => ({ $allModels: { $allOperations: hook } }),
    'every operation': (hook) => ({ $allOperations: hook }),
    'the parent model’s findMany': (hook) => ({ user: { findMany: hook } }),
  }

  it.each(Object.entries(hooking))(
    'an extension hooking %s: the read is loaded in one go, the extension sees what it sees without the cache',
    async (_name, query) => {
      const reads: ReadEvent[] = []
      const { extension: cached } = extension(reads)
      const seen: string[] = []
      const prisma = hookedBase(query, seen).$extends(cached) as unknown as CachedClient
      const value = await team(prisma)
      expect(readsOf(reads)).toEqual(['User.findMany:miss'])
      const seenCached = seen.splice(0)
      const uncached = await team(hookedBase(query, seen))
      expect(seenCached).toEqual(seen)
      expect(value).toEqual(uncached)
    },
  )

  it('an extension hooking other models or operations: the include is still assembled', async () => {
    const reads: ReadEvent[] = []
    const { extension: cached } = extension(reads)
    const seen: string[] = []
    const others = (hook: Hook) => ({ post: { findFirst: hook }, comment: { findMany: hook } })
    const prisma = hookedBase(others, seen).$extends(cached) as unknown as CachedClient
    expect(await team(prisma)).toEqual(await team(base))
    expect(readsOf(reads)).toEqual(['User.findMany:miss', 'Post.findMany:miss', 'User.findMany:miss'])
    expect(seen).toEqual([])
  })

  it('one extension value on a plain and a hooked client: each client gets its own answer', async () => {
    // Whether a read splits is remembered per client: the hooked client must not reuse the
    // plain client's answer, nor the plain client the hooked one's, in either order.
    const reads: ReadEvent[] = []
    const { cache, extension: cached } = extension(reads)
    const seen: string[] = []
    const plain = base.$extends(cached) as unknown as CachedClient
    const hooked = hookedBase(hooking['the child model’s findMany']!, seen).$extends(
      cached,
    ) as unknown as CachedClient
    const missOn = async (client: CachedClient) => {
      await cache.clear()
      reads.length = 0
      await team(client)
      return readsOf(reads)
    }
    const split = ['User.findMany:miss', 'Post.findMany:miss', 'User.findMany:miss']
    const whole = ['User.findMany:miss']
    expect(await missOn(plain)).toEqual(split)
    expect(await missOn(hooked)).toEqual(whole)
    expect(await missOn(plain)).toEqual(split)
    expect(await missOn(hooked)).toEqual(whole)
    expect(seen).toEqual([])
  })
})
