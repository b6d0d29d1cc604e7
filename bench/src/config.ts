import { randomBytes } from 'node:crypto'

/**
 * Where the services are (environment with the local defaults of CONTRIBUTING.md) and the
 * per-run key prefix. Every key this suite writes to a shared Redis or Memcached starts with
 * `runPrefix`, so concurrent runs and other test suites never see each other's keys, and nothing
 * here ever flushes a database.
 */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
export const memcachedServers = (process.env.MEMCACHED_SERVERS ?? '127.0.0.1:11211,127.0.0.1:11212')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)

/** The bench's own database on the server of DATABASE_URL (created if missing). */
export const benchDatabase = process.env.BENCH_DATABASE ?? 'ormcache_bench'
const baseDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export function databaseUrl(database = benchDatabase): string {
  const url = new URL(baseDatabaseUrl)
  url.pathname = `/${database}`
  return url.toString()
}

export function adminDatabaseUrl(): string {
  return databaseUrl('postgres')
}

/** Unique per process; child processes of one run receive their parent's through the environment. */
export const runPrefix = process.env.ORMCACHE_BENCH_PREFIX ?? `ocb${randomBytes(4).toString('hex')}`

let namespaces = 0

/**
 * A short namespace under `prefix`, unique in this process, for one library in one scenario. A
 * deployment's namespace is a few characters; ormcache repeats it in every tag key a read names
 * (a team list reads ~80), where a name spelling out scenario, mix and library (~55 characters)
 * added ~3 KB to each list hit's request. Every library gets the same kind of prefix.
 */
export function shortNamespace(prefix: string): string {
  return `${prefix}.${(namespaces++).toString(36)}`
}

/**
 * TTL every library gets, in ms (converted to seconds where a library counts in seconds). Ten
 * minutes: longer than any scenario, so no measured read misses because an entry expired.
 */
export const TTL_MS = 10 * 60_000
export const TTL_TEXT = '10 min'
