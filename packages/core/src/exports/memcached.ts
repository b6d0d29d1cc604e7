export {
  DEFAULT_MAX_VALUE_BYTES,
  type MemcachedClientOptions,
  type MemcachedCommonOptions,
  type MemcachedConnectionOptions,
  type MemcachedServersOptions,
  MemcachedStore,
  type MemcachedStoreOptions,
  memcachedStore,
} from '../memcached/memcached-store.js'
