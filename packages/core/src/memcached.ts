export { HashRing, type HashRingOptions } from './stores/hash-ring.js'
export {
  DEFAULT_MAX_VALUE_BYTES,
  type MemcachedClientOptions,
  type MemcachedConnectionOptions,
  type MemcachedServersOptions,
  MemcachedStore,
  type MemcachedStoreOptions,
  memcachedStore,
} from './stores/memcached.js'
export { memcachedKey } from './stores/memcached-keys.js'
export { memcachedExpiration } from './stores/memcached-ttl.js'
