import type { Cache } from '@ormcache/core'
import { postgresInvalidation } from '../../src/index.js'
import { databaseUrl } from './db.js'

/** A consumer of one table, on a slot and a publication of the same name, polling every 50 ms. */
export const streamOf = (cache: Cache, slot: string, table: string) =>
  postgresInvalidation({
    cache,
    connectionString: databaseUrl(),
    slot,
    publication: slot,
    tables: [table],
    pollInterval: 50,
  })
