import type { Cache } from '@ormcache/core'
import { typeormCache } from '@ormcache/typeorm'
import { DataSource } from 'typeorm'
import type { DatabaseConfig } from '../config.js'
import { countingLogger } from './counting-logger.js'
import { entities } from './entities/index.js'

/**
 * TypeORM over the same database as Prisma. The tables come from the committed SQL, so
 * `synchronize` stays off; ormcache plugs in as the query-result cache provider plus a
 * subscriber that invalidates after commits.
 */
export async function openTypeorm(
  database: DatabaseConfig,
  cache: Cache,
  onStatement: () => void,
): Promise<DataSource> {
  // Every writer of this database runs this release: lists may depend on member tags.
  const common = {
    entities,
    logger: countingLogger(onStatement),
    ...typeormCache({ cache, listTags: 'members' }),
  }
  const dataSource =
    database.dialect === 'sqlite'
      ? new DataSource({ type: 'better-sqlite3', database: database.url, timeout: 10_000, ...common })
      : new DataSource({ type: 'postgres', url: database.url, poolSize: 10, ...common })
  await dataSource.initialize()
  return dataSource
}
