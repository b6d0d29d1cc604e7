export { OrmcacheQueryResultCache, type QueryResultCache, type ReadEvent } from './provider.js'
export type { SubscriberClass } from './subscriber.js'
export { type TypeormCacheConfig, type TypeormCacheOptions, typeormCache } from './typeorm-cache.js'
