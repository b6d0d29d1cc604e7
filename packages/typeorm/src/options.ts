import { type Cache, InvalidOptionError } from '@ormcache/core'
import {
  booleanOption,
  durationMs,
  functionOption,
  knownKeys,
  nonEmptyString,
  optionsObject,
} from '@ormcache/core/adapter'
import type { ProviderSettings, ReadEvent } from './provider.js'

export interface TypeormCacheOptions {
  /** The ormcache Cache (store, namespace, stats, events). */
  cache: Cache
  /**
   * Lifetime of a cached result in ms when a query does not set one (TypeORM's `cache.duration`).
   * Invalidation is exact, so this only bounds memory and reads of data changed outside TypeORM.
   * Default 60,000.
   */
  ttl?: number
  /** Cache every find and QueryBuilder read unless it says `cache: false`. Default false. */
  alwaysEnabled?: boolean
  /**
   * Prefix that separates DataSources sharing one namespace. Default: driver type, database and
   * schema, which is the same in every process that connects to the same database.
   */
  keyPrefix?: string
  /**
   * Views (or functions used as tables) and the tables they read, so that writes to those
   * tables invalidate cached reads of the view: `{ user_stats: ['app_users', 'app_posts'] }`.
   */
  views?: Record<string, readonly string[]>
  /** Called for every cached read with where its rows came from (hit, miss, shared, stale, bypass). */
  onRead?: (event: ReadEvent) => void
  /**
   * Your own database functions whose result changes between calls or that have side effects
   * (they write, lock, read the clock or session state): reads calling them are not cached, like
   * reads calling `now()` or `nextval()`. Built-in functions are known already.
   */
  volatileFunctions?: readonly string[]
  /**
   * `dataSource.destroy()` also closes the cache (its store connections), once every DataSource
   * using it has been destroyed, so a script ends by itself. Default true; pass false when the
   * cache outlives this DataSource, and call `cache.close()` yourself.
   */
  closeCache?: boolean
  /**
   * What a list filtered only by equality pins (`find({ where: { teamId: 2 } })`, with joined
   * relations, no paging) depends on besides its pins. `'rows'` (default): the row tag of every
   * row it returned. `'members'`: one member tag per pin, known before the load, and the member
   * tag of each loaded parent for its joined children: fewer versions per hit, no after-load
   * check on a miss without joins. Turn it on once every process writing the database runs a
   * release that bumps member tags (docs/design.md, "Lists without row tags").
   */
  listTags?: 'rows' | 'members'
}

const KNOWN = [
  'cache',
  'ttl',
  'alwaysEnabled',
  'keyPrefix',
  'views',
  'onRead',
  'volatileFunctions',
  'closeCache',
  'listTags',
]

/** The options checked once, with their defaults: what the provider and the subscriber run on. */
export interface ResolvedOptions {
  settings: ProviderSettings
  ttl: number
  alwaysEnabled: boolean
}

/** Every option is checked here, so a typo or a bad value fails at startup with a typed error. */
export function resolveOptions(options: TypeormCacheOptions): ResolvedOptions {
  knownKeys('', optionsObject('options', options), KNOWN)
  const { cache } = options
  if (!isCache(cache))
    throw new InvalidOptionError('cache', 'must be a Cache from createCache() of @ormcache/core')
  const ttl = durationMs('ttl', options.ttl ?? 60_000)
  if (options.alwaysEnabled !== undefined) booleanOption('alwaysEnabled', options.alwaysEnabled)
  if (options.closeCache !== undefined) booleanOption('closeCache', options.closeCache)
  if (options.keyPrefix !== undefined) nonEmptyString('keyPrefix', options.keyPrefix)
  if (options.onRead !== undefined) functionOption('onRead', options.onRead)
  if (options.views !== undefined)
    optionsObject('views', options.views, 'must be an object keyed by view name')
  const views = new Map<string, readonly string[]>()
  for (const [view, tables] of Object.entries(options.views ?? {})) {
    if (!Array.isArray(tables) || !tables.every((t) => typeof t === 'string' && t.length > 0)) {
      throw new InvalidOptionError(`views.${view}`, 'must be an array of table names')
    }
    views.set(view.toLowerCase(), tables)
  }
  const volatileFunctions = options.volatileFunctions ?? []
  if (
    !Array.isArray(volatileFunctions) ||
    !volatileFunctions.every((f) => typeof f === 'string' && f !== '')
  ) {
    throw new InvalidOptionError('volatileFunctions', 'must be an array of function names')
  }
  if (options.listTags !== undefined && options.listTags !== 'rows' && options.listTags !== 'members') {
    throw new InvalidOptionError('listTags', 'must be "rows" or "members"')
  }
  const settings: ProviderSettings = {
    cache,
    ttl,
    keyPrefix: options.keyPrefix,
    views,
    onRead: options.onRead,
    volatileFunctions,
    closeCache: options.closeCache ?? true,
    listTags: options.listTags ?? 'rows',
  }
  return { settings, ttl, alwaysEnabled: options.alwaysEnabled ?? false }
}

function isCache(value: unknown): value is Cache {
  if (typeof value !== 'object' || value === null) return false
  const cache = value as Record<string, unknown>
  return ['wrapWithInfo', 'invalidateTags', 'clear', 'delete', 'reportError'].every(
    (method) => typeof cache[method] === 'function',
  )
}
