export { type Cache, createCache, type SetOptions, type WrapOptions } from '../cache.js'
export type { CacheOptions, LeaseOptions } from '../cache-options.js'
export {
  Codec,
  type DecimalConstructor,
  type Encoded,
  type EncodeOptions,
  type Meta,
  type MetaTree,
} from '../codec.js'
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
} from '../errors.js'
export type { CacheEventName, CacheEvents, CacheListener, CacheReadEvent, MissReason } from '../events.js'
export { Histogram, type LatencySummary } from '../histogram.js'
export { MemoryStore, type MemoryStoreOptions, memoryStore } from '../memory/memory-store.js'
export type { BypassReason } from '../orm/read-plan.js'
export type { ReadInfo, ReadSource } from '../read-path/cache-aside.js'
export type { AfterLoad } from '../read-path/post-load.js'
export type { UncacheableReason } from '../sql/read-safety.js'
export type { CacheStats, ModelStats } from '../stats.js'
export type { CircuitBreakerOptions, CircuitState } from '../store/circuit-breaker.js'
export type { CircuitChange } from '../store/store-breaker.js'
export type {
  CacheStore,
  Guard,
  LeaseRef,
  LookupReply,
  LookupRequest,
  StoreCapabilities,
  StoreWrite,
  VersionRead,
} from '../store/types.js'
export type { LogCheck, LoggedBump, SettleReply, SettleRequest, WriteLog } from '../tags/write-log.js'
export { type BusMessage, type BusSubscription, type InvalidationBus, localBus } from '../tiers/bus.js'
export type { L1Options } from '../tiers/l1.js'
export type { WriteBehindEventName, WriteBehindEvents, WriteBehindListener } from '../write-behind/events.js'
export type { FlushReport } from '../write-behind/flusher.js'
export { MemoryQueue, memoryQueue } from '../write-behind/memory-queue.js'
export type { RetryOptions, WriteBehindItem, WriteBehindOptions } from '../write-behind/options.js'
export type {
  DeadLetterRecord,
  LockVerdict,
  QueueDurability,
  QueuedWrite,
  QueueOwner,
  ReplayVerdict,
  WriteBehindQueue,
} from '../write-behind/queue.js'
export type { WriteBehindStats } from '../write-behind/stats.js'
export type { DeadLetter, WriteAck, WriteBehind } from '../write-behind/types.js'
export { writeBehind } from '../write-behind/writer.js'
export type { WriteCommit, WriteIntent, WriteOutcome } from '../write-through/write-through.js'
