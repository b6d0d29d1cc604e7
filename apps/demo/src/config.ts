import { ConfigError } from './errors.js'
import { hideUrlCredentials } from './hide-credentials.js'
import { demoPath } from './paths.js'

export type Dialect = 'sqlite' | 'postgres'

export interface DatabaseConfig {
  dialect: Dialect
  /** postgres://… as given, or the SQLite file path. */
  url: string
  /** Display form without a password. */
  display: string
}

export interface DemoConfig {
  database: DatabaseConfig
  /** memory (default), redis://…, rediss://…, redis+cluster://host:port,…, memcached://host:port,… */
  cacheUrl: string
  host: string
  /** 0 picks a free port. */
  port: number
  /** Prefix of every cache key; tests give each run its own. */
  namespace: string
  /** Default TTL of cached reads, ms. */
  ttlMs: number
  /** The artificial delay of the "trending" query, ms (a JS delay in its loader: portable across databases). */
  trendingDelayMs: number
  /** How long trending stays fresh, then how long it may be served stale while one request refreshes it. */
  trendingTtlMs: number
  trendingStaleMs: number
  /** How often the view-counter queue is flushed to the database, ms. */
  viewFlushMs: number
  /** Seed the database when it is empty. */
  seed: boolean
  /** Drop and re-seed the demo tables at startup. */
  reset: boolean
  /** Fastify request logging. */
  log: boolean
}

/** The demo's configuration from environment variables (documented in the README). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  return {
    database: parseDatabaseUrl(env.DATABASE_URL ?? `file:${defaultSqlitePath()}`),
    cacheUrl: env.CACHE_URL ?? 'memory',
    host: env.HOST ?? '127.0.0.1',
    port: integer('PORT', env.PORT, 3000, 0, 65_535),
    namespace: env.ORMCACHE_NAMESPACE ?? 'demo',
    ttlMs: integer('CACHE_TTL_MS', env.CACHE_TTL_MS, 60_000, 1),
    trendingDelayMs: integer('TRENDING_DELAY_MS', env.TRENDING_DELAY_MS, 400, 0),
    trendingTtlMs: integer('TRENDING_TTL_MS', env.TRENDING_TTL_MS, 5_000, 1),
    trendingStaleMs: integer('TRENDING_STALE_MS', env.TRENDING_STALE_MS, 60_000, 0),
    viewFlushMs: integer('VIEW_FLUSH_MS', env.VIEW_FLUSH_MS, 1_000, 1),
    seed: env.DEMO_SEED !== '0',
    reset: env.DEMO_RESET === '1',
    log: env.DEMO_LOG === '1',
  }
}

/** The SQLite file of the embedded default (gitignored). */
const defaultSqlitePath = () => demoPath('.data', 'demo.db')

export function parseDatabaseUrl(url: string): DatabaseConfig {
  if (/^postgres(ql)?:\/\//.test(url)) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new ConfigError('DATABASE_URL', `"${hideUrlCredentials(url)}" is not a valid URL`)
    }
    if (parsed.password) parsed.password = '***'
    return { dialect: 'postgres', url, display: parsed.toString() }
  }
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length)
    if (path === '') throw new ConfigError('DATABASE_URL', 'file: needs a path, e.g. file:./demo.db')
    return { dialect: 'sqlite', url: path, display: `sqlite:${path}` }
  }
  throw new ConfigError(
    'DATABASE_URL',
    `"${hideUrlCredentials(url)}" is neither postgres://… nor file:<sqlite path>`,
  )
}

function integer(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `"${raw}" must be an integer between ${min} and ${max}`)
  }
  return value
}
