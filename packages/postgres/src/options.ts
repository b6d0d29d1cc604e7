import { type Cache, InvalidOptionError } from '@ormcache/core'

export interface PostgresInvalidationOptions {
  /** The cache whose entries outside writes invalidate (the one the ORM adapters use). */
  cache: Cache
  /** A regular connection string; the role needs REPLICATION (or superuser). Never logged. */
  connectionString: string
  /** Logical replication slot, created if missing. Default `ormcache_invalidation`. */
  slot?: string
  /** Publication, created if missing. Default `ormcache_invalidation`. */
  publication?: string
  /**
   * Tables the publication covers when this consumer creates it (`schema.table` or `table`).
   * Default: every table (`FOR ALL TABLES`, which needs superuser).
   */
  tables?: readonly string[]
  /**
   * Rows of one table in one transaction past which its changes collapse to the table's table
   * and bulk tags instead of one row tag per row. Default 1000.
   */
  maxRowsPerTable?: number
  /** The `lag` event fires while the slot is more than this many bytes behind. Default 64 MiB. */
  maxLagBytes?: number
  /** How often a standby consumer tries to take over and lag is measured, ms. Default 1000. */
  pollInterval?: number
}

export interface ResolvedOptions {
  cache: Cache
  connectionString: string
  slot: string
  publication: string
  tables: readonly string[] | undefined
  maxRowsPerTable: number
  maxLagBytes: number
  pollInterval: number
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/
const TABLE = /^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$/

export function resolveOptions(options: PostgresInvalidationOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionError('options', 'must be an object')
  const { cache, connectionString } = options
  if (typeof cache !== 'object' || cache === null || typeof cache.invalidateTags !== 'function')
    throw new InvalidOptionError('cache', 'must be a Cache from createCache()')
  if (typeof connectionString !== 'string' || connectionString.length === 0)
    throw new InvalidOptionError('connectionString', 'must be a non-empty string')
  const slot = options.slot ?? 'ormcache_invalidation'
  const publication = options.publication ?? 'ormcache_invalidation'
  // Slot names allow only these characters; the publication follows suit so both can be quoted safely.
  if (!IDENTIFIER.test(slot)) throw new InvalidOptionError('slot', 'must match [a-z_][a-z0-9_]{0,62}')
  if (!IDENTIFIER.test(publication))
    throw new InvalidOptionError('publication', 'must match [a-z_][a-z0-9_]{0,62}')
  const tables = options.tables
  if (tables !== undefined) {
    if (!Array.isArray(tables) || tables.length === 0)
      throw new InvalidOptionError('tables', 'must be a non-empty array of table names')
    for (const table of tables) {
      if (typeof table !== 'string' || !TABLE.test(table))
        throw new InvalidOptionError(
          'tables',
          `"${String(table)}" is not a plain table name (schema.table or table)`,
        )
    }
  }
  return {
    cache,
    connectionString,
    slot,
    publication,
    tables,
    maxRowsPerTable: positive('maxRowsPerTable', options.maxRowsPerTable, 1000),
    maxLagBytes: positive('maxLagBytes', options.maxLagBytes, 64 * 1024 * 1024),
    pollInterval: positive('pollInterval', options.pollInterval, 1000),
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new InvalidOptionError(name, 'must be a positive integer')
  return value
}
