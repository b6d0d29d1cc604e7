import { InvalidOptionError, type OrmCacheError } from './errors.js'
import { memoryStore } from './memory/memory-store.js'
import type { CircuitBreakerOptions } from './store/circuit-breaker.js'
import type { CacheStore } from './store/types.js'
import type { InvalidationBus } from './tiers/bus.js'
import type { L1Options } from './tiers/l1.js'
import {
  durationMs,
  functionOption,
  integerOption,
  knownKeys,
  MAX_TIMER_MS,
  nonEmptyString,
  optionsObject,
} from './validate.js'

/**
 * Distributed stampede control (see lease.ts). Declared here, not in lease.ts, because lease.ts
 * needs the cache context, and the context needs these options: a type-only cycle otherwise.
 */
export interface LeaseOptions {
  /** ms a lease is held at most (a crashed holder's lease expires). Default 10,000. */
  ttl?: number
  /** ms a process waits for another process's load before loading itself. Default 2,000. */
  wait?: number
}

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

const KNOWN = [
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
] as const

export function resolveOptions(options: CacheOptions = {}): ResolvedOptions {
  optionsObject('options', options)
  knownKeys('', options, KNOWN)
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
  if (options.namespace !== undefined) nonEmptyString('namespace', options.namespace)
  if (options.onError !== undefined) functionOption('onError', options.onError)
  // Remote stores get timeouts by default; an in-process store cannot hang.
  const remote = store.capabilities.shared
  const timeouts = resolveTimeouts(options.timeouts)
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
    bus: resolveBus(options.bus),
    lease: resolveLease(options.lease),
    recoveryGrace: durationMs('recoveryGrace', options.recoveryGrace ?? 1_000, TIMER_OR_ZERO),
    readTimeoutMs: durationMs('timeouts.read', timeouts.read ?? (remote ? 500 : 0), TIMER_OR_ZERO),
    writeTimeoutMs: durationMs('timeouts.write', timeouts.write ?? (remote ? 1_000 : 0), TIMER_OR_ZERO),
    // One budget for a whole user operation (a read's lookup and fill, a write's invalidation), so
    // sequential store calls cannot add their timeouts up.
    operationTimeoutMs: durationMs(
      'timeouts.operation',
      timeouts.operation ??
        Math.max(timeouts.read ?? (remote ? 500 : 0), timeouts.write ?? (remote ? 1_000 : 0)),
      TIMER_OR_ZERO,
    ),
    circuitBreaker: resolveCircuitBreaker(options.circuitBreaker),
    onError: options.onError,
  }
}

const TIMER = { max: MAX_TIMER_MS }
const TIMER_OR_ZERO = { allowZero: true, max: MAX_TIMER_MS }

function resolveTimeouts(timeouts: CacheOptions['timeouts']): {
  read?: number
  write?: number
  operation?: number
} {
  if (timeouts === undefined) return {}
  knownKeys('timeouts', optionsObject('timeouts', timeouts, 'must be { read?, write?, operation? }'), [
    'read',
    'write',
    'operation',
  ])
  return timeouts
}

function resolveL1(l1: CacheOptions['l1']): false | Required<L1Options> {
  if (l1 === undefined || l1 === false) return false
  knownKeys('l1', optionsObject('l1', l1, 'must be false or { maxEntries?, maxStaleness? }'), [
    'maxEntries',
    'maxStaleness',
  ])
  return {
    maxEntries: integerOption('l1.maxEntries', l1.maxEntries ?? 10_000, 1),
    maxStaleness: durationMs('l1.maxStaleness', l1.maxStaleness ?? 1_000, TIMER),
  }
}

function resolveBus(bus: CacheOptions['bus']): false | InvalidationBus | undefined {
  if (bus === undefined || bus === false) return bus
  const candidate = bus as unknown as Record<string, unknown>
  if (
    typeof bus !== 'object' ||
    bus === null ||
    !['publish', 'subscribe', 'close'].every((method) => typeof candidate[method] === 'function')
  ) {
    throw new InvalidOptionError('bus', 'must be false or an InvalidationBus (publish, subscribe, close)')
  }
  return bus
}

function resolveLease(lease: CacheOptions['lease']): false | Required<LeaseOptions> {
  if (lease === false) return false
  if (lease !== undefined) {
    knownKeys('lease', optionsObject('lease', lease, 'must be false or { ttl?, wait? }'), ['ttl', 'wait'])
  }
  return {
    ttl: durationMs('lease.ttl', lease?.ttl ?? 10_000, TIMER),
    wait: durationMs('lease.wait', lease?.wait ?? 2_000, TIMER_OR_ZERO),
  }
}

function resolveCircuitBreaker(breaker: CacheOptions['circuitBreaker']): false | CircuitBreakerOptions {
  if (breaker === false) return false
  if (breaker === undefined) return {}
  knownKeys(
    'circuitBreaker',
    optionsObject('circuitBreaker', breaker, 'must be false or { failureThreshold?, resetAfterMs? }'),
    ['failureThreshold', 'resetAfterMs'],
  )
  const resolved: CircuitBreakerOptions = {}
  if (breaker.failureThreshold !== undefined) {
    resolved.failureThreshold = integerOption('circuitBreaker.failureThreshold', breaker.failureThreshold, 1)
  }
  if (breaker.resetAfterMs !== undefined) {
    resolved.resetAfterMs = durationMs('circuitBreaker.resetAfterMs', breaker.resetAfterMs, TIMER)
  }
  return resolved
}

/** Validates a per-call or global TTL-like duration in ms (at most `MAX_TTL_MS`). */
export function duration(name: string, value: unknown, allowZero = false): number {
  return durationMs(name, value, { allowZero })
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
