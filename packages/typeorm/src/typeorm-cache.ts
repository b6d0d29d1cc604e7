import type { DataSource } from 'typeorm'
import { resolveOptions, type TypeormCacheOptions } from './options.js'
import { OrmcacheQueryResultCache, type QueryResultCache } from './provider.js'
import { type SubscriberClass, subscriberFor } from './subscriber.js'
import { WriteTracker } from './write-tracker.js'

/** Spread into `DataSourceOptions`: `new DataSource({ ...options, ...typeormCache({ cache }) })`. */
export interface TypeormCacheConfig {
  /** Combine with your own: `subscribers: [...orm.subscribers, MySubscriber]`. */
  subscribers: SubscriberClass[]
  cache: {
    provider: (dataSource: DataSource) => QueryResultCache
    alwaysEnabled: boolean
    duration: number
  }
}

export function typeormCache(options: TypeormCacheOptions): TypeormCacheConfig {
  const { settings, ttl, alwaysEnabled } = resolveOptions(options)
  return {
    subscribers: [subscriberFor(new WriteTracker(settings.cache))],
    cache: {
      provider: (dataSource) => new OrmcacheQueryResultCache(dataSource, settings),
      alwaysEnabled,
      duration: ttl,
    },
  }
}
