import { type Cache, type DecimalConstructor, InvalidOptionError } from '@ormcache/core'
import {
  booleanOption,
  durationMs,
  functionOption,
  knownKeys,
  nonEmptyString,
  optionsObject,
} from '@ormcache/core/adapter'

export interface ModelCacheSettings {
  /** ms; overrides the extension's `ttl` for this model's reads. */
  ttl?: number
  staleWhileRevalidate?: number
}

/** Where a read's result came from, with the cache tags it depends on. */
export interface ReadEvent {
  model: string | undefined
  operation: string
  /** Undefined when the cache was skipped before a key was built. */
  key: string | undefined
  tags: readonly string[]
  /**
   * hit / stale / miss / shared / bypass as reported by the cache; `skip` when the extension did
   * not consult the cache (reason `transaction`, `disabled`, `view`, `unkeyable` arguments, or
   * `no-dependencies`: the analysis found no tag, so the result is not stored and an
   * ERR_NO_DEPENDENCIES error event is emitted).
   */
  source: 'hit' | 'stale' | 'miss' | 'shared' | 'bypass' | 'skip'
  reason?: string
}

/** A committed write, before its invalidations are applied. */
export interface WriteEvent {
  model: string | undefined
  operation: string
  tags: readonly string[]
  /** The whole namespace is invalidated (unparseable raw SQL). */
  everything: boolean
  /** Invalidations of a transaction, applied at its commit. */
  transaction: boolean
}

export interface CacheExtensionOptions<ModelName extends string = string> {
  cache: Cache
  /** Default TTL in ms for cached reads; default: the cache's own `ttl`. */
  ttl?: number
  /** ms an expired read may be served while one caller refreshes it; default: the cache's setting. */
  staleWhileRevalidate?: number
  /**
   * Per model (by model name, `User` or `user`): `false` to never cache its reads, or its own
   * TTL. A name the client has no model for fails to type-check at `$extends`.
   */
  models?: { [Name in ModelName]: false | ModelCacheSettings }
  /**
   * Extra key context, called for every read: return whatever else changes results (tenant id,
   * role, database). Values must be serializable for `buildKey` (no functions).
   */
  context?: () => unknown
  /** Store the row returned by single-row writes as its primary-key lookup entry. Default true. */
  writeThrough?: boolean
  /**
   * What a list filtered only by equality pins (`where: { teamId: 2 }`) depends on besides its
   * pins. `'rows'` (default): the row tag of every row it returned, read again on each hit and
   * checked against the table's writes after each load. `'members'`: one member tag per filter
   * branch, known before the load, so a hit reads a handful of versions and a miss stores
   * without the after-load check. Every release from this one bumps member tags on writes; turn
   * `'members'` on once every process writing the database (Prisma, TypeORM, the change stream)
   * runs such a release (docs/design.md, "Lists without row tags").
   */
  listTags?: 'rows' | 'members'
  /** Decode cached decimals into this class; default: Prisma's `Decimal` from `@prisma/client/runtime/client`. */
  decimal?: DecimalConstructor
  /** Called for every read with where its result came from. Must not throw (errors are ignored). */
  onRead?: (event: ReadEvent) => void
  /**
   * Called after a write committed and before its invalidations reach the store; the mutation
   * (or `$transaction`) resolves after it returns. For tracing and tests.
   */
  onWrite?: (event: WriteEvent) => void | Promise<void>
  /**
   * `prisma.$disconnect()` also closes the cache (its store connections), once every client
   * using it has disconnected, so a script ends by itself. Default true; pass false when the
   * cache outlives this client (you reconnect after `$disconnect`, or use the cache elsewhere):
   * then call `cache.close()` yourself.
   */
  closeCache?: boolean
}

/** Per query: `cache: false` bypasses the cache; an object tunes this query's entry. */
export interface QueryCacheSettings {
  ttl?: number
  staleWhileRevalidate?: number
  /** Extra tags, e.g. `['feed']`, for `prisma.$cache.invalidateTags(['feed'])`. */
  tags?: readonly string[]
  /**
   * Your own cache key instead of the derived one (e.g. to `prisma.$cache.delete(key)`). You
   * promise that every query using it returns the same data.
   */
  key?: string
}

export type QueryCacheOption = boolean | QueryCacheSettings

export interface ResolvedOptions extends CacheExtensionOptions {
  writeThrough: boolean
  listTags: 'rows' | 'members'
}

const KNOWN = [
  'cache',
  'ttl',
  'staleWhileRevalidate',
  'models',
  'context',
  'writeThrough',
  'listTags',
  'decimal',
  'onRead',
  'onWrite',
  'closeCache',
]

export function resolveOptions(options: CacheExtensionOptions): ResolvedOptions {
  knownKeys('', optionsObject('options', options, 'pass { cache }'), KNOWN)
  const cache = options.cache as Partial<Cache> | undefined
  if (
    typeof cache !== 'object' ||
    cache === null ||
    typeof cache.wrapWithInfo !== 'function' ||
    typeof cache.invalidateTags !== 'function' ||
    typeof cache.beginWrite !== 'function'
  ) {
    throw new InvalidOptionError('cache', 'must be a Cache from createCache()')
  }
  ttlSettings('', options)
  for (const name of ['context', 'decimal', 'onRead', 'onWrite'] as const) {
    if (options[name] !== undefined) functionOption(name, options[name])
  }
  for (const name of ['writeThrough', 'closeCache'] as const) {
    if (options[name] !== undefined) booleanOption(name, options[name])
  }
  if (options.models !== undefined) {
    const models = optionsObject('models', options.models, 'must be an object keyed by model name')
    for (const [model, setting] of Object.entries(models)) {
      if (setting === false) continue
      const settings = optionsObject(
        `models.${model}`,
        setting,
        'must be false or { ttl?, staleWhileRevalidate? }',
      )
      knownKeys(`models.${model}`, settings, ['ttl', 'staleWhileRevalidate'])
      ttlSettings(`models.${model}.`, settings)
    }
  }
  if (options.listTags !== undefined && options.listTags !== 'rows' && options.listTags !== 'members') {
    throw new InvalidOptionError('listTags', 'must be "rows" or "members"')
  }
  return { ...options, writeThrough: options.writeThrough ?? true, listTags: options.listTags ?? 'rows' }
}

/** Validates the per-query `cache` argument. */
export function queryCacheSettings(value: unknown): QueryCacheSettings | false | undefined {
  if (value === undefined || value === true) return undefined
  if (value === false) return false
  const settings = optionsObject(
    'cache',
    value,
    'must be true, false or { ttl?, staleWhileRevalidate?, tags?, key? }',
  )
  knownKeys('cache', settings, ['ttl', 'staleWhileRevalidate', 'tags', 'key'])
  ttlSettings('cache.', settings)
  if (
    settings.tags !== undefined &&
    (!Array.isArray(settings.tags) || settings.tags.some((t) => typeof t !== 'string' || t.length === 0))
  ) {
    throw new InvalidOptionError('cache.tags', 'must be an array of non-empty strings')
  }
  if (settings.key !== undefined) nonEmptyString('cache.key', settings.key)
  return settings as QueryCacheSettings
}

/** `ttl` and `staleWhileRevalidate` wherever they appear, with core's rules and messages. */
function ttlSettings(prefix: string, settings: { ttl?: unknown; staleWhileRevalidate?: unknown }): void {
  if (settings.ttl !== undefined) durationMs(`${prefix}ttl`, settings.ttl)
  if (settings.staleWhileRevalidate !== undefined) {
    durationMs(`${prefix}staleWhileRevalidate`, settings.staleWhileRevalidate, { allowZero: true })
  }
}
