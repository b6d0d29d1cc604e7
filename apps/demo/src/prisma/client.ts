import type { Cache } from '@ormcache/core'
import { cacheExtension } from '@ormcache/prisma'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient as PostgresClient } from '../../generated/postgres/client/client.js'
import { PrismaClient as SqliteClient } from '../../generated/sqlite/client/client.js'
import type { DatabaseConfig } from '../config.js'
import { countingAdapter } from './counting-adapter.js'

/**
 * Every process writing this database runs this release (Prisma, TypeORM, the change stream), so
 * pinned lists may depend on member tags (docs/design.md, "Lists without row tags").
 */
function extend(client: SqliteClient, cache: Cache) {
  return client.$extends(cacheExtension({ cache, listTags: 'members' }))
}

/** The Prisma client the demo uses: cached reads, exact invalidation, write-through. */
export type DemoPrisma = ReturnType<typeof extend>

export interface PrismaHandle {
  prisma: DemoPrisma
  /** The same connection without the extension, for setup statements the cache must not see. */
  base: SqliteClient
  close(): Promise<void>
}

/**
 * Prisma 7 over a driver adapter (no engine binary): better-sqlite3 for the embedded default,
 * node-postgres for DATABASE_URL=postgres://…. Both clients are generated from the same models,
 * so their model APIs are identical and one type serves both.
 */
export async function openPrisma(
  database: DatabaseConfig,
  cache: Cache,
  onStatement: () => void,
): Promise<PrismaHandle> {
  let base: SqliteClient
  if (database.dialect === 'sqlite') {
    const adapter = countingAdapter(
      new PrismaBetterSqlite3({ url: `file:${database.url}`, timeout: 10_000 }),
      onStatement,
    )
    base = new SqliteClient({ adapter })
    await base.$connect()
    // better-sqlite3 leaves foreign keys off; the cascades (posts → comments, tags) need them.
    await base.$executeRawUnsafe('PRAGMA foreign_keys = ON')
  } else {
    const adapter = countingAdapter(new PrismaPg({ connectionString: database.url, max: 10 }), onStatement)
    base = new PostgresClient({ adapter }) as unknown as SqliteClient
    await base.$connect()
  }
  return { prisma: extend(base, cache), base, close: () => base.$disconnect() }
}
