import type { CircuitBreakerOptions } from './circuit-breaker.js'
import { InvalidOptionError, type OrmCacheError } from './errors.js'
import type { LeaseOptions } from './lease.js'
import { memoryStore } from './stores/memory.js'
import type { CacheStore } from './stores/types.js'
import type { InvalidationBus } from './tiers/bus.js'
import type { L1Options } from './tiers/l1.js'

export interface CacheOptions {
  /** Where entries live. Default: `memoryStore()`, the embedded default. */
  store?: CacheStore
  /** Prefix of every store key; caches with different namespaces never see each other. */
  namespace?: string
  /** Default time to live in ms. Default 60,000. */
  ttl?: number
  /** ms an expired entry may still be served while one caller refreshes it. Default 0. */
  staleWhileRevalidate?: number
  /** Fraction of the TTL randomly taken off each entry so keys filled together expire apart. Default 0.1. */
  jitter?: number
  /** TTL for `null`/`undefined` loader results, or false to not cache them. Default: `ttl`. */
  negativeTtl?: number | false
  /** Lifetime of tag version tokens in ms; an expired token only causes misses. Default 24 h. */
  tagTtl?: number
  /** Near cache of decoded values in front of a remote store. Default off. */
  l1?: false | L1Options
  /**
   * strict (default): an L1 hit still checks its tag versions with the store (a small read, no
   * payload). bounded: an L1 hit asks nothing; other processes' invalidations reach it over the
   * bus, and `l1.maxStaleness` bounds how long it may lag if the bus drops a message.
   */
  consistency?: 'strict' | 'bounded'
  /** Carries invalidations to other processes' L1. Default: the store's own bus (Redis pub/sub) when L1 is on. */
  bus?: false | InvalidationBus
  /** One loader per cold key across processes sharing the store. Default on for shared stores. */
  lease?: false | LeaseOptions
  /** ms the store is bypassed after it recovers from an outage, so writers can replay invalidations first. Default 1,000. */
  recoveryGrace?: number
  /**
   * Store timeouts in ms; past them the cache fails open to the loader. `read` and `write` bound
   * each store call; `operation` bounds the total store time of one user operation (a read's
   * lookup and fill, a write's snapshot, invalidation and publish). Defaults for a remote store:
   * read 500, write 1,000, operation = the larger of the two. 0 = no limit.
   */
  timeouts?: { read?: number; write?: number; operation?: number }
  circuitBreaker?: false | CircuitBreakerOptions
  /** Called for every error event, in addition to `on('error')` listeners. */
  onError?: (error: OrmCacheError) => void
}

export interface ResolvedOptions {
  store: CacheStore
  namespace: string
  ttl: number
  staleWhileRevalidate: number
  jitter: number
  negativeTtl: number | false
  tagTtl: number
  consistency: 'strict' | 'bounded'
  l1: false | Required<L1Options>
  bus: false | InvalidationBus | undefined
  lease: false | Required<LeaseOptions>
  recoveryGrace: number
  readTimeoutMs: number
  writeTimeoutMs: number
  operationTimeoutMs: number
  circuitBreaker: false | CircuitBreakerOptions
  onError: ((error: OrmCacheError) => void) | undefined
}

const KNOWN = new Set<string>([
  'store',
  'namespace',
  'ttl',
  'staleWhileRevalidate',
  'jitter',
  'negativeTtl',
  'tagTtl',
  'l1',
  'consistency',
  'timeouts',
  'circuitBreaker',
  'onError',
  'bus',
  'lease',
  'recoveryGrace',
])

export function resolveOptions(options: CacheOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object')
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw new InvalidOptionError(name, 'is not a cache option')
  }
  const store = options.store ?? memoryStore()
  if (!isStore(store))
    throw new InvalidOptionError('store', 'must implement CacheStore (get, getMany, set, add, …)')
  if (
    options.consistency !== undefined &&
    options.consistency !== 'strict' &&
    options.consistency !== 'bounded'
  ) {
    throw new InvalidOptionError('consistency', 'must be "strict" or "bounded"')
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new InvalidOptionError('onError', 'must be a function')
  }
  // Remote stores get timeouts by default; an in-process store cannot hang.
  const remote = store.capabilities.shared
  return {
    store,
    namespace: options.namespace ?? 'ormcache',
    ttl: duration('ttl', options.ttl ?? 60_000),
    staleWhileRevalidate: duration('staleWhileRevalidate', options.staleWhileRevalidate ?? 0, true),
    jitter: fraction('jitter', options.jitter ?? 0.1),
    negativeTtl:
      options.negativeTtl === false
        ? false
        : duration('negativeTtl', options.negativeTtl ?? options.ttl ?? 60_000),
    tagTtl: duration('tagTtl', options.tagTtl ?? 24 * 60 * 60 * 1000),
    consistency: options.consistency ?? 'strict',
    l1: resolveL1(options.l1),
    bus: options.bus,
    lease:
      options.lease === false
        ? false
        : {
            ttl: duration('lease.ttl', options.lease?.ttl ?? 10_000),
            wait: duration('lease.wait', options.lease?.wait ?? 2_000, true),
          },
    recoveryGrace: duration('recoveryGrace', options.recoveryGrace ?? 1_000, true),
    readTimeoutMs: duration('timeouts.read', options.timeouts?.read ?? (remote ? 500 : 0), true),
    writeTimeoutMs: duration('timeouts.write', options.timeouts?.write ?? (remote ? 1_000 : 0), true),
    operationTimeoutMs: duration(
      'timeouts.operation',
      options.timeouts?.operation ??
        Math.max(
          options.timeouts?.read ?? (remote ? 500 : 0),
          options.timeouts?.write ?? (remote ? 1_000 : 0),
        ),
      true,
    ),
    circuitBreaker: options.circuitBreaker ?? {},
    onError: options.onError,
  }
}

function resolveL1(l1: CacheOptions['l1']): false | Required<L1Options> {
  if (l1 === undefined || l1 === false) return false
  if (typeof l1 !== 'object' || l1 === null) throw new InvalidOptionError('l1', 'must be false or an object')
  const maxEntries = l1.maxEntries ?? 10_000
  if (!Number.isInteger(maxEntries) || maxEntries <= 0) {
    throw new InvalidOptionError('l1.maxEntries', 'must be a positive integer')
  }
  return { maxEntries, maxStaleness: duration('l1.maxStaleness', l1.maxStaleness ?? 1_000) }
}

/** Validates a per-call or global duration in ms. */
export function duration(name: string, value: unknown, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new InvalidOptionError(
      name,
      `must be a ${allowZero ? 'non-negative' : 'positive'} finite number of ms`,
    )
  }
  return value
}

function fraction(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new InvalidOptionError(name, 'must be a number in [0, 1)')
  }
  return value
}

function isStore(value: unknown): value is CacheStore {
  if (typeof value !== 'object' || value === null) return false
  const store = value as Record<string, unknown>
  return (
    ['get', 'getMany', 'set', 'setMany', 'add', 'compareAndSet', 'delete', 'deleteIfEquals', 'close'].every(
      (method) => typeof store[method] === 'function',
    ) && typeof store.capabilities === 'object'
  )
}
