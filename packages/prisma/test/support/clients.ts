import { type Cache, createCache } from '@ormcache/core'
import { type CacheExtensionOptions, cacheExtension } from '../../src/index.js'
import type * as PostgresClient from '../generated/postgres/client/client.ts'
import type { Dialect, TestDatabase } from './databases.js'
import { QueryProbe } from './probe.js'

/**
 * Both generated clients come from the same models; tests use the PostgreSQL client's types for
 * either (the SQLite client is structurally the same for everything the tests call).
 */
export type Generated = typeof PostgresClient
export type BaseClient = PostgresClient.PrismaClient

export async function generated(dialect: Dialect): Promise<Generated> {
  return dialect === 'postgres'
    ? await import('../generated/postgres/client/client.ts')
    : ((await import('../generated/sqlite/client/client.ts')) as unknown as Generated)
}

function extend(base: BaseClient, options: CacheExtensionOptions) {
  return base.$extends(cacheExtension(options))
}

export type CachedClient = ReturnType<typeof extend>

export interface Harness {
  /** The client with the cache extension. */
  prisma: CachedClient
  /** A plain client on the same database: the source of truth in assertions. */
  db: BaseClient
  cache: Cache
  /** Counts (and can pause) the statements the cached client runs. */
  probe: QueryProbe
  Prisma: Generated['Prisma']
  close(): Promise<void>
}

export interface HarnessOptions extends Partial<CacheExtensionOptions> {
  clientOptions?: Record<string, unknown>
}

export async function openHarness(database: TestDatabase, options: HarnessOptions = {}): Promise<Harness> {
  const mod = await generated(database.dialect)
  const probe = new QueryProbe()
  const { clientOptions, ...extensionOptions } = options
  const cache = extensionOptions.cache ?? createCache({ namespace: `prisma-test-${database.dialect}` })
  const base = new mod.PrismaClient({
    adapter: database.adapter(probe),
    ...clientOptions,
  } as never) as BaseClient
  const db = new mod.PrismaClient({ adapter: database.adapter() } as never) as BaseClient
  const prisma = extend(base, { ...extensionOptions, cache })
  return {
    prisma,
    db,
    cache,
    probe,
    Prisma: mod.Prisma,
    async close() {
      await base.$disconnect()
      await db.$disconnect()
    },
  }
}
