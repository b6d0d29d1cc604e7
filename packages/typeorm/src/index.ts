export type { TypeormCacheOptions } from './options.js'
export {
  type CacheSetting,
  OrmcacheQueryResultCache,
  type ProviderSettings,
  type QueryResultCache,
  type QueryResultCacheOptions,
  type ReadEvent,
} from './provider.js'
export type { SubscriberClass } from './subscriber.js'
export { type TypeormCacheConfig, typeormCache } from './typeorm-cache.js'
