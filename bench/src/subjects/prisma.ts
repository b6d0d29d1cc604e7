import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import pg from 'pg'
import { PrismaExtensionRedis } from 'prisma-extension-redis'
import { PrismaClient } from '../../generated/postgres/client/client.js'
import { redisUrl, TTL_MS } from '../config.js'
import { countingClient, QueryCounter } from '../db/query-counter.js'
import {
  type OrmKind,
  type OrmSubject,
  type OrmSubjectFactory,
  POOL_SIZE,
  type UserWithPosts,
} from './orm.js'
import { ORMCACHE_LABELS, ormcacheCache } from './ormcache-caches.js'

const TEAM_QUERY = (teamId: number) =>
  ({
    where: { teamId },
    include: { posts: { orderBy: { id: 'asc' } } },
    orderBy: { id: 'asc' },
  }) as const

/** The calls every Prisma subject makes; only the client they go through differs. */
interface PrismaLike {
  user: {
    findUnique(args: { where: { id: number } }): Promise<{ id: number; version: number } | null>
    findMany(args: ReturnType<typeof TEAM_QUERY>): Promise<UserWithPosts[]>
    update(args: {
      where: { id: number }
      data: { version: { increment: number } }
    }): Promise<{ version: number }>
  }
  post: {
    update(args: {
      where: { id: number }
      data: { version: { increment: number } }
    }): Promise<{ version: number }>
  }
}

function subject(
  factory: OrmSubjectFactory,
  client: PrismaLike,
  queries: QueryCounter,
  close: () => Promise<void>,
): OrmSubject {
  return {
    id: factory.id,
    label: factory.label,
    library: factory.library,
    orm: 'prisma',
    queries,
    findUser: (id) => client.user.findUnique({ where: { id } }),
    findTeam: (teamId) => client.user.findMany(TEAM_QUERY(teamId)),
    updateUser: async (id) =>
      (await client.user.update({ where: { id }, data: { version: { increment: 1 } } })).version,
    updatePost: async (id) =>
      (await client.post.update({ where: { id }, data: { version: { increment: 1 } } })).version,
    close,
  }
}

/**
 * A Prisma client on a pool this bench owns (so statements can be counted). The adapter does not
 * end a pool it was given, so `release` disconnects Prisma and then ends the pool.
 */
function baseClient(
  databaseUrl: string,
  queries: QueryCounter,
): { prisma: PrismaClient; release(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE, Client: countingClient(queries) })
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  return {
    prisma,
    async release() {
      await prisma.$disconnect()
      await pool.end()
    },
  }
}

function factory(
  id: string,
  label: string,
  library: string,
  kind: OrmKind,
  build: (self: OrmSubjectFactory, prefix: string, databaseUrl: string) => Promise<OrmSubject>,
): OrmSubjectFactory {
  const self: OrmSubjectFactory = {
    id,
    label,
    library,
    orm: 'prisma',
    kind,
    needs: kind === 'uncached' || kind === 'ormcache-memory' ? ['postgres'] : ['postgres', 'redis'],
    create: (prefix, databaseUrl) => build(self, prefix, databaseUrl),
  }
  return self
}

export const prismaUncached = factory(
  'prisma-uncached',
  'Prisma (uncached)',
  'uncached',
  'uncached',
  async (self, _prefix, url) => {
    const queries = new QueryCounter()
    const { prisma, release } = baseClient(url, queries)
    await prisma.$connect()
    return subject(self, prisma as unknown as PrismaLike, queries, release)
  },
)

/**
 * `listTags: 'members'`: the team list depends on one member tag per pin instead of the row tag
 * of each user and post it holds (docs/design.md, "Lists without row tags"); opt-in, so its own row.
 */
function prismaOrmcache(
  variant: 'memory' | 'redis' | 'l1-strict',
  listTags: 'rows' | 'members' = 'rows',
): OrmSubjectFactory {
  const members = listTags === 'members'
  return factory(
    `prisma-ormcache-${variant}${members ? '-members' : ''}`,
    `Prisma + ${ORMCACHE_LABELS[variant]}${members ? ', member tags' : ''}`,
    'ormcache',
    variant === 'memory' ? 'ormcache-memory' : 'ormcache-redis',
    async (self, prefix, url) => {
      const { cacheExtension } = await import('@ormcache/prisma')
      const queries = new QueryCounter()
      const { prisma: base, release } = baseClient(url, queries)
      const cache = ormcacheCache(variant, prefix)
      const prisma = base.$extends(cacheExtension({ cache, listTags }))
      await base.$connect()
      return subject(self, prisma as unknown as PrismaLike, queries, async () => {
        await cache.close()
        await release()
      })
    },
  )
}

export const prismaOrmcacheMemory = prismaOrmcache('memory')
export const prismaOrmcacheRedis = prismaOrmcache('redis')
export const prismaOrmcacheRedisMembers = prismaOrmcache('redis', 'members')
export const prismaOrmcacheL1Strict = prismaOrmcache('l1-strict')

/**
 * prisma-extension-redis 5 configured as its README recommends: auto-caching of every read,
 * `invalidateOnWrite`, STRING storage (Redis 7 has no RedisJSON), no stale window, same TTL.
 */
export const prismaExtensionRedis = factory(
  'prisma-extension-redis',
  'Prisma + prisma-extension-redis',
  'prisma-extension-redis',
  'competitor',
  async (self, prefix, url) => {
    const queries = new QueryCounter()
    const { prisma: base, release } = baseClient(url, queries)
    const redis = new Redis(redisUrl, { enableAutoPipelining: true })
    redis.on('error', () => {})
    const ttl = TTL_MS / 1000
    const prisma = base.$extends(
      PrismaExtensionRedis({
        config: {
          ttl,
          stale: 0,
          type: 'STRING',
          cacheKey: { prefix },
          auto: { invalidateOnWrite: true, ttl, stale: 0 },
        },
        client: redis,
      }),
    )
    await base.$connect()
    return subject(self, prisma as unknown as PrismaLike, queries, async () => {
      await release()
      redis.disconnect()
    })
  },
)

export const PRISMA_SUBJECTS: readonly OrmSubjectFactory[] = [
  prismaUncached,
  prismaOrmcacheMemory,
  prismaOrmcacheRedis,
  prismaOrmcacheRedisMembers,
  prismaOrmcacheL1Strict,
  prismaExtensionRedis,
]
