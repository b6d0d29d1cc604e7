// Every entry point of the published packages, as a user imports it. Type-checked by
// scripts/packages-check under every module resolution setting (see settings.mjs), copied to
// .ts, .cts and .mts. Each `@ts-expect-error` fails the check if the types resolve to `any`.
import {
  type Cache,
  type CacheStore,
  createCache,
  type InvalidationBus,
  localBus,
  MissingPeerError,
  memoryStore,
  OrmCacheError,
  type OrmCacheErrorCode,
} from '@ormcache/core'
import { buildKey, rowTag, type SqlDialect, TransactionBuffer, tokenizeSql } from '@ormcache/core/adapter'
import { type MemcachedStoreOptions, memcachedStore } from '@ormcache/core/memcached'
import { instrumentCache, type OtelOptions } from '@ormcache/core/otel'
import { type PrometheusMetrics, prometheusMetrics } from '@ormcache/core/prometheus'
import { type RedisStore, redisStore } from '@ormcache/core/redis'
import { runStoreContract, type StoreFactory } from '@ormcache/core/testing'
import {
  type PostgresInvalidation,
  type PostgresInvalidationOptions,
  postgresInvalidation,
  ReplicationError,
} from '@ormcache/postgres'
import { type CacheExtensionOptions, cacheExtension } from '@ormcache/prisma'
import { type TypeormCacheOptions, typeormCache } from '@ormcache/typeorm'
import type { DataSourceOptions } from 'typeorm'

const bus: InvalidationBus = localBus()
const store: CacheStore = memoryStore({ maxEntries: 10 })
export const cache: Cache = createCache({ store, bus, ttl: 1_000 })
// @ts-expect-error ttl is a number of milliseconds
createCache({ ttl: '1s' })

export const redis = (): RedisStore => redisStore({ url: 'redis://localhost:6379' })
const memcached: MemcachedStoreOptions = { servers: 'localhost:11211' }
export const memcachedFactory: StoreFactory = () => memcachedStore(memcached)
export const contract: typeof runStoreContract = runStoreContract

export const code: OrmCacheErrorCode = 'ERR_MISSING_PEER'
export const peerMissing = (error: unknown): string | undefined =>
  error instanceof MissingPeerError && OrmCacheError.is(error) ? error.packageName : undefined

// The optional observability integrations (their peers, @opentelemetry/api and prom-client, installed).
const otelOptions: OtelOptions = { traces: true, metrics: false, name: 'app' }
export const traced = () => instrumentCache(cache, otelOptions).close
export const scraped = (): PrometheusMetrics => prometheusMetrics(cache, { name: 'app' })
// @ts-expect-error traces is a boolean
instrumentCache(cache, { traces: 'yes' })

// The plumbing adapters share: keys, the tag vocabulary, SQL analysis, transaction buffering.
const dialect: SqlDialect = 'postgres'
export const plumbing = [
  buildKey(['User', 1]),
  rowTag('users', { id: 1 }),
  tokenizeSql('select 1', dialect),
  TransactionBuffer,
]

const prismaOptions: CacheExtensionOptions = { cache, ttl: 5_000 }
export const extension = cacheExtension(prismaOptions)
// @ts-expect-error the extension needs a cache
cacheExtension({})

const typeormOptions: TypeormCacheOptions = { cache, alwaysEnabled: true }
export const dataSource: DataSourceOptions = {
  type: 'postgres',
  url: 'postgres://localhost/app',
  ...typeormCache(typeormOptions),
}
// @ts-expect-error the cache option is required
typeormCache({ alwaysEnabled: true })

const streamOptions: PostgresInvalidationOptions = { cache, connectionString: 'postgres://localhost/app' }
export const stream: PostgresInvalidation = postgresInvalidation(streamOptions)
export const streamLag = (): number => stream.stats().lagBytes
export const replicationReason = (error: unknown): string | undefined =>
  error instanceof ReplicationError ? error.reason : undefined
// @ts-expect-error the connection string is required
postgresInvalidation({ cache })
