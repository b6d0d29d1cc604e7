/**
 * Every error ormcache throws or emits is an `OrmCacheError` with a stable `code`, so callers can
 * branch on `err.code` without string-matching messages. The brand survives duplicate copies of
 * the package (a CommonJS and an ESM instance), where `instanceof` would not.
 */
import type { BypassReason } from './orm/read-plan.js'
import { redactCredentials, scrubError } from './redact.js'

const BRAND = Symbol.for('ormcache.error')

export type OrmCacheErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_KEY'
  | 'ERR_INVALID_TAG'
  | 'ERR_NOT_SERIALIZABLE'
  | 'ERR_CORRUPT_ENTRY'
  | 'ERR_VALUE_TOO_LARGE'
  | 'ERR_STORE'
  | 'ERR_STORE_TIMEOUT'
  | 'ERR_CIRCUIT_OPEN'
  | 'ERR_CACHE_CLOSED'
  | 'ERR_LOADER'
  | 'ERR_WRITE_BEHIND'
  | 'ERR_ADAPTER'
  | 'ERR_NO_DEPENDENCIES'
  | 'ERR_UNCACHEABLE_QUERY'
  | 'ERR_MISSING_PEER'
  | 'ERR_LISTENER'
  | 'ERR_REPLICATION'
  | 'ERR_STORE_RESET'
  | 'ERR_UNDELIVERED_INVALIDATIONS'

export class OrmCacheError extends Error {
  readonly code: OrmCacheErrorCode
  readonly [BRAND] = true

  constructor(code: OrmCacheErrorCode, message: string, options?: { cause?: unknown }) {
    // Messages echo options and causes; neither may carry a credential into a log line.
    if (options?.cause !== undefined) scrubError(options.cause)
    super(redactCredentials(message), options)
    this.code = code
    this.name = new.target.name
  }

  static is(value: unknown): value is OrmCacheError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }
}

/** An option passed to a factory is missing, of the wrong type, or out of range. */
export class InvalidOptionError extends OrmCacheError {
  readonly option: string
  constructor(option: string, message: string) {
    super('ERR_INVALID_OPTION', `Invalid option "${option}": ${message}`)
    this.option = option
  }
}

export class InvalidKeyError extends OrmCacheError {
  constructor(message: string) {
    super('ERR_INVALID_KEY', message)
  }
}

export class InvalidTagError extends OrmCacheError {
  constructor(message: string) {
    super('ERR_INVALID_TAG', message)
  }
}

/** A value contains something the codec cannot round-trip (function, symbol, cycle, class instance…). */
export class NotSerializableError extends OrmCacheError {
  /** Where in the value the problem is, e.g. `$.user.posts[2].author`. */
  readonly path: string
  constructor(path: string, what: string) {
    super('ERR_NOT_SERIALIZABLE', `Cannot cache ${what} at ${path}`)
    this.path = path
  }
}

/** A stored payload could not be decoded: foreign data, truncated write, or an unknown format. */
export class CorruptEntryError extends OrmCacheError {
  readonly key: string
  constructor(key: string, reason: string, options?: { cause?: unknown }) {
    super('ERR_CORRUPT_ENTRY', `Corrupt cache entry "${key}": ${reason}`, options)
    this.key = key
  }
}

export class ValueTooLargeError extends OrmCacheError {
  readonly bytes: number
  readonly limit: number
  constructor(key: string, bytes: number, limit: number) {
    super('ERR_VALUE_TOO_LARGE', `Value for "${key}" is ${bytes} bytes, over the store's limit of ${limit}`)
    this.bytes = bytes
    this.limit = limit
  }
}

/** The store failed an operation; the cache recovers by going to the loader. */
export class StoreError extends OrmCacheError {
  readonly operation: string
  constructor(operation: string, cause: unknown) {
    super('ERR_STORE', `Cache store failed during ${operation}: ${describe(cause)}`, { cause })
    this.operation = operation
  }
}

/**
 * The store did not answer in time, or (`budget`) the user operation had already spent its total
 * store budget (`timeouts.operation`) and this call was skipped without asking the store.
 * `cause` is the connection's last error when the store knows one.
 */
export class StoreTimeoutError extends OrmCacheError {
  readonly operation: string
  readonly timeoutMs: number
  readonly budget: boolean
  constructor(operation: string, timeoutMs: number, options: { cause?: unknown; budget?: boolean } = {}) {
    super(
      'ERR_STORE_TIMEOUT',
      options.budget === true
        ? `Cache store skipped for ${operation}: the operation spent its ${timeoutMs} ms store budget`
        : `Cache store did not answer ${operation} within ${timeoutMs} ms` +
            (options.cause === undefined ? '' : ` (${describe(options.cause)})`),
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.operation = operation
    this.timeoutMs = timeoutMs
    this.budget = options.budget === true
  }
}

/** The circuit is open: the store was skipped. `cause` is the fault that opened it. */
export class CircuitOpenError extends OrmCacheError {
  constructor(operation: string, cause?: unknown) {
    super(
      'ERR_CIRCUIT_OPEN',
      `Cache store skipped for ${operation}: circuit breaker is open` +
        (cause === undefined ? '' : ` (${describe(cause)})`),
      cause === undefined ? undefined : { cause },
    )
  }
}

export class CacheClosedError extends OrmCacheError {
  constructor() {
    super('ERR_CACHE_CLOSED', 'The cache has been closed')
  }
}

/**
 * A user's listener or hook (`on(...)` listener, `onError`, an adapter's `onRead`/`onWrite`)
 * threw. The query it observed was not affected. Reported once per listener function: as an
 * `error` event, or — when the failing listener is itself an `error` listener or `onError` — as a
 * Node process warning (`process.on('warning')`, code ORMCACHE_LISTENER).
 */
export class ListenerError extends OrmCacheError {
  /** Where the listener was registered, e.g. `on('hit')`, `onError`, `prisma onRead`. */
  readonly listener: string
  constructor(listener: string, cause: unknown) {
    super('ERR_LISTENER', `Listener ${listener} threw (ignored, reported once): ${describe(cause)}`, {
      cause,
    })
    this.listener = listener
  }
}

/** Wraps a loader's non-Error rejection so every waiter receives a real Error. */
export class LoaderError extends OrmCacheError {
  constructor(key: string, cause: unknown) {
    super('ERR_LOADER', `Loader for "${key}" failed: ${describe(cause)}`, { cause })
  }
}

export class WriteBehindError extends OrmCacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_WRITE_BEHIND', message, options)
  }
}

/** A fault inside an ORM adapter's hook, reported instead of thrown (the ORM's write already succeeded). */
export class AdapterError extends OrmCacheError {
  readonly operation: string
  constructor(operation: string, cause: unknown) {
    super('ERR_ADAPTER', `ORM adapter failed during ${operation}: ${describe(cause)}`, { cause })
    this.operation = operation
  }
}

/**
 * An ORM read was about to be stored with no dependency tag: no write could ever invalidate it,
 * so it would be served until its TTL whatever the database says. Always an analysis bug (the
 * entry is not stored, the read goes to the database); reported, never thrown.
 */
export class NoDependenciesError extends OrmCacheError {
  readonly key: string
  constructor(key: string) {
    super('ERR_NO_DEPENDENCIES', `Refused to cache "${key}": the read depends on no tag`)
    this.key = key
  }
}

/**
 * A query was explicitly asked to be cached but cannot be: it writes, locks, may do something
 * the analyser cannot name, or calls a volatile function without the caller accepting that.
 */
export class UncacheableQueryError extends OrmCacheError {
  readonly reason: BypassReason
  constructor(reason: BypassReason, detail: string) {
    super('ERR_UNCACHEABLE_QUERY', `This query cannot be cached (${reason}): ${detail}`)
    this.reason = reason
  }
}

/**
 * A store needs an optional peer dependency that is not installed (`ioredis` for Redis, `memjs`
 * for Memcached). Thrown when the store is created, naming the package to install.
 */
export class MissingPeerError extends OrmCacheError {
  /** The npm package to install. */
  readonly packageName: string
  constructor(packageName: string, feature: string, options?: { cause?: unknown }) {
    super(
      'ERR_MISSING_PEER',
      `${feature} needs the optional peer dependency "${packageName}", which is not installed: run \`npm install ${packageName}\``,
      options,
    )
    this.packageName = packageName
  }
}

/**
 * The store's data set is not the one this namespace's epoch was written on (a restart from a
 * snapshot, a failover to a replica, a new server): it may have lost acknowledged writes, tag
 * versions included. The namespace epoch was moved, so nothing written before is served.
 * Reported (an `error` event), never thrown.
 */
export class StoreResetError extends OrmCacheError {
  readonly namespace: string
  constructor(namespace: string) {
    super(
      'ERR_STORE_RESET',
      `Cache store may have lost writes (restart or failover): namespace "${namespace}" moved its epoch, every older entry is a miss`,
    )
    this.namespace = namespace
  }
}

/**
 * `close()` could not deliver invalidations to the store within its deadline. Other processes
 * may serve the old values of these tags until the store detects a restart, the namespace is
 * cleared, or the entries' TTL ends. Reported (an `error` event and `onError`), never thrown.
 */
export class UndeliveredInvalidationsError extends OrmCacheError {
  /** The tags whose invalidation never reached the store. */
  readonly tags: readonly string[]
  /** Number of deleted keys that were not deleted in the store. */
  readonly keys: number
  /** A namespace-wide invalidation (`clear()`, or pending work collapsed into one) was lost. */
  readonly everything: boolean
  constructor(pending: { tags: readonly string[]; keys: number; everything: boolean }) {
    const what = pending.everything
      ? 'a namespace-wide invalidation'
      : `${pending.tags.length} tag invalidation(s) and ${pending.keys} delete(s)`
    super('ERR_UNDELIVERED_INVALIDATIONS', `close() could not deliver ${what} to the cache store`)
    this.tags = pending.tags
    this.keys = pending.keys
    this.everything = pending.everything
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message
  return String(cause)
}
