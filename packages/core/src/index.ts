export { type Cache, createCache, type SetOptions, type WrapOptions } from './cache.js'
export type { CircuitBreakerOptions, CircuitState } from './circuit-breaker.js'
export { Codec, type DecimalConstructor, type Encoded, type Meta, type MetaTree } from './codec.js'
export {
  AdapterError,
  CacheClosedError,
  CircuitOpenError,
  CorruptEntryError,
  InvalidKeyError,
  InvalidOptionError,
  InvalidTagError,
  ListenerError,
  LoaderError,
  MissingPeerError,
  NoDependenciesError,
  NotSerializableError,
  OrmCacheError,
  type OrmCacheErrorCode,
  StoreError,
  StoreResetError,
  StoreTimeoutError,
  UncacheableQueryError,
  UndeliveredInvalidationsError,
  ValueTooLargeError,
  WriteBehindError,
} from './errors.js'
export type { CacheEventName, CacheEvents, CacheListener, CacheReadEvent, MissReason } from './events.js'
export { Histogram, type LatencySummary } from './histogram.js'
export type { CacheOptions, LeaseOptions } from './options.js'
export type { AfterLoad } from './post-load.js'
export type { BypassReason } from './read-plan.js'
export type { UncacheableReason } from './sql/read-safety.js'
export type { CacheStats, ModelStats } from './stats.js'
export type { CircuitChange } from './store-breaker.js'
export { MemoryStore, type MemoryStoreOptions, memoryStore } from './stores/memory.js'
export type {
  CacheStore,
  Guard,
  LeaseRef,
  LookupReply,
  LookupRequest,
  StoreCapabilities,
  StoreWrite,
  VersionRead,
} from './stores/types.js'
export type { LogCheck, LoggedBump, SettleReply, SettleRequest, WriteLog } from './stores/write-log.js'
export type { ReadInfo, ReadSource } from './strategies/cache-aside.js'
export { writeBehind } from './strategies/write-behind.js'
export type { WriteCommit, WriteIntent, WriteOutcome } from './strategies/write-through.js'
export { type BusMessage, type BusSubscription, type InvalidationBus, localBus } from './tiers/bus.js'
export type { L1Options } from './tiers/l1.js'
export type { WriteBehindEventName, WriteBehindEvents, WriteBehindListener } from './write-behind/events.js'
export type { FlushReport } from './write-behind/flusher.js'
export { MemoryQueue, memoryQueue } from './write-behind/memory-queue.js'
export type { RetryOptions, WriteBehindItem, WriteBehindOptions } from './write-behind/options.js'
export type {
  DeadLetterRecord,
  LockVerdict,
  QueueDurability,
  QueuedWrite,
  QueueOwner,
  ReplayVerdict,
  WriteBehindQueue,
} from './write-behind/queue.js'
export type { WriteBehindStats } from './write-behind/stats.js'
export type { DeadLetter, WriteAck, WriteBehind } from './write-behind/types.js'
