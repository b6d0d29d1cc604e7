/** Connection settings from the environment, with the local defaults CONTRIBUTING.md lists. */
export const PG_DATABASE = 'ormcache_prisma'

export function adminUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
}

/** The suite's own database on the same server as DATABASE_URL. */
export function postgresUrl(): string {
  const url = new URL(adminUrl())
  url.pathname = `/${PG_DATABASE}`
  return url.toString()
}

export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
}
