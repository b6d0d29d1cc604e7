import type { Cache } from '@ormcache/core'
import { type PostgresInvalidation, postgresInvalidation } from '@ormcache/postgres'
import type { DatabaseConfig } from '../config.js'

// Tables with a primary key: a FOR ALL TABLES publication would make PostgreSQL refuse updates
// of the keyless join table "_post_tags".
const TABLES = ['users', 'posts', 'comments', 'tags']
const SLOT = 'ormcache_demo'

export interface StreamSnapshot {
  enabled: boolean
  active: boolean
  lagBytes: number
  lagMs: number
  transactions: number
  tagsApplied: number
  errors: number
  lastError?: string
}

export interface ChangeStream {
  snapshot(): StreamSnapshot
  close(): Promise<void>
}

const DISABLED: StreamSnapshot = {
  enabled: false,
  active: false,
  lagBytes: 0,
  lagMs: 0,
  transactions: 0,
  tagsApplied: 0,
  errors: 0,
}

/**
 * With DEMO_CHANGE_STREAM=1 on PostgreSQL (wal_level = logical): writes made outside the ORMs —
 * psql, the dashboard's "outside write" button — invalidate the cached pages through
 * @ormcache/postgres. The demo's slot lives as long as the process: dropped on close, and a
 * leftover of a crashed run is dropped at start (a slot nobody reads retains WAL).
 */
export async function startChangeStream(
  database: DatabaseConfig,
  cache: Cache,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChangeStream> {
  if (env.DEMO_CHANGE_STREAM !== '1' || database.dialect !== 'postgres') {
    return { snapshot: () => DISABLED, close: async () => {} }
  }
  const options = { cache, connectionString: database.url, slot: SLOT, publication: SLOT, tables: TABLES }
  const leftover: PostgresInvalidation = postgresInvalidation(options)
  await leftover.teardown().catch(() => {})
  const stream = postgresInvalidation(options)
  let lastError: string | undefined
  stream.on('error', (error) => {
    lastError = `${error.reason}: ${error.message}`
  })
  await stream.start()
  return {
    snapshot: () => {
      const stats = stream.stats()
      return {
        enabled: true,
        active: stats.active,
        lagBytes: stats.lagBytes,
        lagMs: stats.lagMs,
        transactions: stats.transactions,
        tagsApplied: stats.tagsApplied,
        errors: stats.errors,
        ...(lastError === undefined ? {} : { lastError }),
      }
    },
    close: () => stream.teardown(),
  }
}
