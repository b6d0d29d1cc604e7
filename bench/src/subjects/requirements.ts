import { requireMemcached, requirePostgres, requireRedis } from '../services.js'

export type Service = 'redis' | 'memcached' | 'postgres'

const CHECKS: Record<Service, () => Promise<void>> = {
  redis: requireRedis,
  memcached: requireMemcached,
  postgres: requirePostgres,
}

/** Fails with the missing service's name and `npm run services` before anything is measured. */
export async function requireServices(services: Iterable<Service>): Promise<void> {
  for (const service of new Set(services)) await CHECKS[service]()
}
