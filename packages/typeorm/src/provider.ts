import type { AfterLoad, Cache, ReadSource } from '@ormcache/core'
import {
  durationMs,
  holdCache,
  planRead,
  type ReadPlan,
  reportListenerError,
  type SqlDialect,
} from '@ormcache/core/adapter'
import type { DataSource, DataSourceOptions, QueryRunner } from 'typeorm'
import { dialectOf } from './dialect.js'
import { defaultScope, identifierKey, identifierTag, identifierTags } from './keys.js'
import { announceRead, forgetRead, type StructuredResult } from './read-intercept.js'
import { ReadMemo } from './read-memo.js'
import { ReadVerdicts } from './sql/read-safety.js'
import { installWriteThrough } from './write-through/install.js'

/** The object form of TypeORM's `cache` DataSource option. */
export type CacheSetting = Exclude<DataSourceOptions['cache'], boolean | undefined>
/** TypeORM's QueryResultCache interface (not exported from the package root). */
export type QueryResultCache = ReturnType<NonNullable<CacheSetting['provider']>>
export type QueryResultCacheOptions = NonNullable<Awaited<ReturnType<QueryResultCache['getFromCache']>>>

/** Where one cached TypeORM read came from, for callers who want to log or count it. */
export interface ReadEvent {
  /** The cache key (before the core hashes it). */
  key: string
  sql: string
  tags: readonly string[]
  /**
   * `bypass` when the read went straight to the database, with a reason: `transaction`, or one of
   * core's `BypassReason`s (`writes`, `unknown`, `locking`, `volatile`, `no-tables`,
   * `no-dependencies`) when the statement must not be served from the cache.
   */
  source: ReadSource
  reason?: string
}

export interface ProviderSettings {
  cache: Cache
  ttl: number
  keyPrefix: string | undefined
  views: ReadonlyMap<string, readonly string[]>
  onRead: ((event: ReadEvent) => void) | undefined
  volatileFunctions: readonly string[]
  closeCache: boolean
  listTags: 'rows' | 'members'
}

/**
 * TypeORM's QueryResultCache, backed by an ormcache `Cache`. Reads are served through the
 * cache-aside wrap (see read-intercept.ts), so results round-trip through the core codec
 * exactly (Date, Buffer, bigint) instead of TypeORM's JSON, and concurrent identical misses
 * run one query.
 */
export class OrmcacheQueryResultCache implements QueryResultCache {
  private readonly dialect: SqlDialect
  private readonly memo: ReadMemo
  private scope: string | undefined

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: ProviderSettings,
  ) {
    this.dialect = dialectOf(dataSource)
    const verdicts = new ReadVerdicts(this.dialect, { volatileFunctions: settings.volatileFunctions })
    this.memo = new ReadMemo(
      dataSource,
      this.dialect,
      verdicts,
      settings.views,
      settings.listTags === 'members',
    )
  }

  private release: (() => Promise<void>) | undefined

  /** Called by `dataSource.initialize()`. */
  async connect(): Promise<void> {
    if (this.settings.closeCache && this.release === undefined) this.release = holdCache(this.settings.cache)
    installWriteThrough(this.dataSource, {
      cache: this.settings.cache,
      ttl: this.settings.ttl,
      entryOf: (sql, parameters) => this.entryOf(sql, parameters),
    })
  }

  /**
   * The key and tags `read` caches `sql` under when the query names no cache id, or undefined if
   * it would not be cached: write-through fills exactly that entry.
   * @internal
   */
  entryOf(sql: string, parameters: readonly unknown[]): { key: string; tags: readonly string[] } | undefined {
    const shape = this.memo.shape(this.keyScope(), sql, parameters)
    if (shape.dependencies.afterLoad !== undefined || !shape.verdict.cacheable) return undefined
    return { key: shape.key, tags: shape.dependencies.tags }
  }

  /**
   * Called by `dataSource.destroy()`: the cache closes once every DataSource holding it has
   * been destroyed (unless `closeCache: false`), so ending the ORM ends the store connections.
   */
  async disconnect(): Promise<void> {
    const release = this.release
    this.release = undefined
    await release?.()
  }

  async synchronize(): Promise<void> {}

  async getFromCache(
    options: QueryResultCacheOptions,
    queryRunner?: QueryRunner,
  ): Promise<QueryResultCacheOptions | undefined> {
    if (queryRunner === undefined || typeof options.query !== 'string') return undefined
    // `cache: -5` (or `.cache(-5)`) reaches us as the duration; refuse it with core's rule and
    // message, as Prisma refuses `cache: { ttl: -5 }`, instead of caching with the default TTL.
    // TypeORM itself turns a falsy `cache: 0` or `NaN` into the configured duration before we are asked.
    durationMs('cache', options.duration)
    if (queryRunner.isTransactionActive) {
      // Uncommitted rows must never reach the shared cache, and committed ones may be hidden
      // from this transaction's snapshot: such reads neither read nor fill.
      this.notify({ key: '', sql: options.query, tags: [], source: 'bypass', reason: 'transaction' })
      return undefined
    }
    announceRead(queryRunner, {
      queryId: options.query,
      run: (sql, parameters, execute) => this.read(sql, parameters, options, execute),
    })
    return undefined
  }

  async storeInCache(
    options: QueryResultCacheOptions,
    _savedCache: QueryResultCacheOptions | undefined,
    queryRunner?: QueryRunner,
  ): Promise<void> {
    // The wrap already stored the exact rows; TypeORM's JSON copy is not used (and was not made:
    // see skipTypeormJson).
    if (queryRunner !== undefined && typeof options.query === 'string') forgetRead(queryRunner, options.query)
  }

  isExpired(savedCache: QueryResultCacheOptions): boolean {
    return (savedCache.time ?? 0) + savedCache.duration < Date.now()
  }

  /** Invalidates every entry of the cache's namespace (O(1)); other namespaces are untouched. */
  async clear(): Promise<void> {
    await this.settings.cache.clear()
  }

  /** Removes entries cached under `cache: { id }`, including TypeORM's "-count"/"-pagination" companions. */
  async remove(identifiers: string[]): Promise<void> {
    const scope = this.keyScope()
    const { cache } = this.settings
    await Promise.all(identifiers.map((id) => cache.delete(identifierKey(scope, id))))
    // A read of the id that was loading while we deleted must not store its older rows.
    await cache.invalidateTags(identifiers.map((id) => identifierTag(scope, id)))
  }

  private async read(
    sql: string,
    parameters: unknown[],
    options: QueryResultCacheOptions,
    execute: () => Promise<StructuredResult>,
  ): Promise<StructuredResult> {
    const { cache } = this.settings
    let key: string
    let tags: string[]
    let plan: ReadPlan
    let afterLoad: AfterLoad | undefined
    let model: string
    try {
      const scope = this.keyScope()
      const shape = this.memo.shape(scope, sql, parameters)
      const dependencies = shape.dependencies
      afterLoad = dependencies.afterLoad
      model = dependencies.label
      const identifier = options.identifier
      if (typeof identifier === 'string' && identifier.length > 0) {
        key = identifierKey(scope, identifier)
        tags = [...dependencies.tags, ...identifierTags(scope, identifier)]
      } else {
        key = shape.key
        tags = dependencies.tags
      }
      // Writes, locks, volatile functions and reads of no table reach the database (design §3).
      plan = planRead(cache, {
        key,
        verdict: shape.verdict,
        dependencies: dependencies.tags,
        explicit: this.isExplicit(options),
      })
    } catch (error) {
      cache.reportError(error, 'typeorm:read')
      return execute()
    }
    if (!plan.cache) {
      this.notify({ key, sql, tags, source: 'bypass', reason: plan.reason })
      return execute()
    }
    let loaded = false
    const load = async () => {
      loaded = true
      return (await execute()).records
    }
    try {
      const ttl = options.duration
      const { value, info } = await cache.wrapWithInfo(key, load, {
        ttl,
        tags,
        afterLoad,
        model,
        operation: 'select',
      })
      this.notify({
        key,
        sql,
        tags,
        source: info.source,
        ...(info.reason === undefined ? {} : { reason: info.reason }),
      })
      return { records: skipTypeormJson(value), raw: value }
    } catch (error) {
      if (loaded) throw error
      // Another caller's query failed and we were waiting on it, or the cache refused the call:
      // this read runs its own query rather than share a failure that may have been transient.
      return execute()
    }
  }

  /**
   * The query asked for caching itself, with an id (`cache: { id }`, `.cache('id', ms)`) or a
   * lifetime of its own (`cache: 5000`, `.cache(5000)`): only then are volatile and table-less
   * reads cached. `cache: true` and `alwaysEnabled` use the configured duration, which TypeORM
   * passes here unchanged, so they never opt such a read in.
   */
  private isExplicit(options: QueryResultCacheOptions): boolean {
    if (typeof options.identifier === 'string' && options.identifier.length > 0) return true
    const configured = this.dataSource.options.cache
    const fallback = (typeof configured === 'object' ? configured.duration : undefined) ?? 1000
    return options.duration !== fallback
  }

  private keyScope(): string {
    if (this.settings.keyPrefix !== undefined) return this.settings.keyPrefix
    if (this.scope === undefined) {
      const scope = defaultScope(this.dataSource)
      if (!this.dataSource.isInitialized) return scope
      this.scope = scope
    }
    return this.scope
  }

  private notify(event: ReadEvent): void {
    const onRead = this.settings.onRead
    if (onRead === undefined) return
    try {
      onRead(event)
    } catch (error) {
      // A listener's bug must not fail the query: reported once, as an ERR_LISTENER error event.
      reportListenerError(this.settings.cache, onRead, 'typeorm onRead', error)
    }
  }
}

/**
 * After running a cached query TypeORM calls `storeInCache({ result: JSON.stringify(records) })`,
 * a full serialization per read (hits included) of rows this provider never uses. JSON.stringify
 * honours a `toJSON` on the array itself, so the records carry one that returns undefined
 * (non-enumerable, so it is invisible to iteration and spread) and removes itself on first use:
 * TypeORM's own call is the first one, and the caller's later stringify sees plain rows again.
 */
function skipTypeormJson<T>(records: T): T {
  if (!Array.isArray(records)) return records
  Object.defineProperty(records, 'toJSON', {
    configurable: true,
    enumerable: false,
    writable: true,
    value(this: unknown[]) {
      delete (this as { toJSON?: unknown }).toJSON
      return undefined
    },
  })
  return records
}
