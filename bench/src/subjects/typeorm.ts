import 'reflect-metadata'
import { DataSource, type DataSourceOptions } from 'typeorm'
import { redisUrl, TTL_MS } from '../config.js'
import { countingClient, QueryCounter } from '../db/query-counter.js'
import { authorOf, teamOf } from '../db/schema.js'
import type { OrmKind, OrmSubject, OrmSubjectFactory, UserWithPosts, VersionedRow } from './orm.js'
import { POOL_SIZE } from './orm.js'
import { ORMCACHE_LABELS, ormcacheCache } from './ormcache-caches.js'
import { ENTITIES, Post, User } from './typeorm-entities.js'

/** How a subject asks for caching on a read, and what it must do after a write. */
interface CachePolicy {
  user(id: number): boolean | { id: string; milliseconds: number }
  team(teamId: number): boolean | { id: string; milliseconds: number }
  /** Runs after a committed write; resolves when the library's invalidation is done. */
  afterWrite(dataSource: DataSource, write: { user?: number; post?: number }): Promise<void>
}

const none: CachePolicy = {
  user: () => false,
  team: () => false,
  afterWrite: async () => {},
}

function baseOptions(url: string, queries: QueryCounter): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    synchronize: false,
    logging: false,
    poolSize: POOL_SIZE,
    extra: { Client: countingClient(queries) },
  }
}

function subject(
  factory: OrmSubjectFactory,
  dataSource: DataSource,
  policy: CachePolicy,
  queries: QueryCounter,
  close: () => Promise<void>,
): OrmSubject {
  const users = dataSource.getRepository(User)
  const bumpVersion = async (target: typeof User | typeof Post, id: number): Promise<number> => {
    const result = await dataSource
      .createQueryBuilder()
      .update(target)
      .set({ version: () => 'version + 1' })
      .where('id = :id', { id })
      .returning(['version'])
      .execute()
    return Number((result.raw as { version: number }[])[0]!.version)
  }
  return {
    id: factory.id,
    label: factory.label,
    library: factory.library,
    orm: 'typeorm',
    queries,
    findUser: (id) =>
      users.findOne({ where: { id }, cache: policy.user(id) }) as Promise<VersionedRow | null>,
    findTeam: (teamId) =>
      users.find({
        where: { teamId },
        relations: { posts: true },
        order: { id: 'ASC', posts: { id: 'ASC' } },
        cache: policy.team(teamId),
      }) as Promise<UserWithPosts[]>,
    async updateUser(id) {
      const version = await bumpVersion(User, id)
      await policy.afterWrite(dataSource, { user: id })
      return version
    },
    async updatePost(id) {
      const version = await bumpVersion(Post, id)
      await policy.afterWrite(dataSource, { post: id })
      return version
    },
    close,
  }
}

function factory(
  id: string,
  label: string,
  library: string,
  kind: OrmKind,
  build: (self: OrmSubjectFactory, prefix: string, url: string) => Promise<OrmSubject>,
): OrmSubjectFactory {
  const self: OrmSubjectFactory = {
    id,
    label,
    library,
    orm: 'typeorm',
    kind,
    needs: kind === 'uncached' || kind === 'ormcache-memory' ? ['postgres'] : ['postgres', 'redis'],
    create: (prefix, url) => build(self, prefix, url),
  }
  return self
}

export const typeormUncached = factory(
  'typeorm-uncached',
  'TypeORM (uncached)',
  'uncached',
  'uncached',
  async (self, _prefix, url) => {
    const queries = new QueryCounter()
    const dataSource = await new DataSource(baseOptions(url, queries)).initialize()
    return subject(self, dataSource, none, queries, () => dataSource.destroy())
  },
)

/**
 * `listTags: 'members'`: the team list depends on member tags instead of the row tag of each user
 * and post it holds (docs/design.md, "Lists without row tags"); opt-in, so its own row.
 */
function typeormOrmcache(
  variant: 'memory' | 'redis' | 'l1-strict',
  listTags: 'rows' | 'members' = 'rows',
): OrmSubjectFactory {
  const members = listTags === 'members'
  return factory(
    `typeorm-ormcache-${variant}${members ? '-members' : ''}`,
    `TypeORM + ${ORMCACHE_LABELS[variant]}${members ? ', member tags' : ''}`,
    'ormcache',
    variant === 'memory' ? 'ormcache-memory' : 'ormcache-redis',
    async (self, prefix, url) => {
      const { typeormCache } = await import('@ormcache/typeorm')
      const queries = new QueryCounter()
      const cache = ormcacheCache(variant, prefix)
      const dataSource = await new DataSource({
        ...baseOptions(url, queries),
        ...typeormCache({ cache, alwaysEnabled: true, listTags }),
      }).initialize()
      // alwaysEnabled caches every find; invalidation comes from ormcache's subscriber.
      const policy: CachePolicy = { user: () => true, team: () => true, afterWrite: async () => {} }
      return subject(self, dataSource, policy, queries, async () => {
        await dataSource.destroy()
        await cache.close()
      })
    },
  )
}

export const typeormOrmcacheMemory = typeormOrmcache('memory')
export const typeormOrmcacheRedis = typeormOrmcache('redis')
export const typeormOrmcacheRedisMembers = typeormOrmcache('redis', 'members')
export const typeormOrmcacheL1Strict = typeormOrmcache('l1-strict')

/**
 * TypeORM's built-in query result cache on Redis (`cache: { type: 'ioredis' }`), used the way its
 * documentation shows for results that must be invalidated: every read names a cache id, and
 * after a write the application removes the ids it knows are affected
 * (`queryResultCache.remove`). TypeORM never does this itself.
 */
export const typeormBuiltin = factory(
  'typeorm-builtin',
  'TypeORM built-in cache (ioredis)',
  'typeorm-builtin',
  'competitor',
  async (self, prefix, url) => {
    const queries = new QueryCounter()
    const redis = new URL(redisUrl)
    const dataSource = await new DataSource({
      ...baseOptions(url, queries),
      cache: {
        type: 'ioredis',
        duration: TTL_MS,
        options: {
          host: redis.hostname || '127.0.0.1',
          port: Number(redis.port || 6379),
          db: Number(redis.pathname.slice(1) || 0),
          keyPrefix: `${prefix}:`,
          enableAutoPipelining: true,
        },
      },
    }).initialize()
    const policy: CachePolicy = {
      user: (id) => ({ id: `user:${id}`, milliseconds: TTL_MS }),
      team: (teamId) => ({ id: `team:${teamId}`, milliseconds: TTL_MS }),
      async afterWrite(ds, write) {
        const ids =
          write.user !== undefined
            ? [`user:${write.user}`, `team:${teamOf(write.user)}`]
            : [`team:${teamOf(authorOf(write.post!))}`]
        await ds.queryResultCache!.remove(ids)
      },
    }
    return subject(self, dataSource, policy, queries, () => dataSource.destroy())
  },
)

export const TYPEORM_SUBJECTS: readonly OrmSubjectFactory[] = [
  typeormUncached,
  typeormOrmcacheMemory,
  typeormOrmcacheRedis,
  typeormOrmcacheRedisMembers,
  typeormOrmcacheL1Strict,
  typeormBuiltin,
]
