import { CacheContext } from './cache-context.js'
import { type CacheOptions, duration, resolveOptions } from './cache-options.js'
import type { Codec, Encoded } from './codec.js'
import { writeEntry } from './entry.js'
import {
  AdapterError,
  CacheClosedError,
  InvalidOptionError,
  InvalidTagError,
  OrmCacheError,
  UndeliveredInvalidationsError,
} from './errors.js'
import type { CacheEventName, CacheListener, CacheReadEvent } from './events.js'
import { keyHash } from './hash.js'
import { registerContext } from './observe.js'
import type { EntryAddress } from './query-key.js'
import { cacheAside, type ReadInfo, type ReadOutcome, type ReadPolicy } from './read-path/cache-aside.js'
import { type AfterLoad, checkAfterLoad, guardTags } from './read-path/post-load.js'
import { lookup } from './read-path/store-lookup.js'
import { sameList } from './same-list.js'
import type { CacheStats } from './stats.js'
import type { Budget } from './store/budget.js'
import type { CacheStore } from './store/types.js'
import { CLOSE_DEADLINE_MS, Invalidator } from './tags/invalidation.js'
import { PerTagsArray } from './tags/per-tags-array.js'
import type { InvalidationBus } from './tiers/bus.js'
import { knownKeys, optionsObject } from './validate.js'
import { beginWrite, type WriteIntent } from './write-through/write-through.js'

export interface WrapOptions<T = unknown> {
  /** ms; defaults to the cache's `ttl`. */
  ttl?: number
  /** Invalidating any of these tags makes the entry invalid. */
  tags?: readonly string[]
  /** ms an expired entry may be served while one caller refreshes it. */
  staleWhileRevalidate?: number
  /**
   * Row and column-value tags learned from the loaded value (the rows a list returned), guarded
   * by their tables' tags during the load: see AfterLoad.
   */
  afterLoad?: AfterLoad<T>
  /** The model or table read, for `stats().models`, metrics and spans (adapters set it). */
  model?: string
  /** The ORM operation, e.g. `findMany` or `select`, for metrics and spans (adapters set it). */
  operation?: string
}

export interface SetOptions {
  ttl?: number
  tags?: readonly string[]
}

export interface Cache {
  readonly namespace: string
  /** The store as configured (unguarded). */
  readonly store: CacheStore
  /** Register decoders, e.g. `cache.codec.useDecimal(Prisma.Decimal)`. */
  readonly codec: Codec
  get<T>(key: string): Promise<T | undefined>
  /**
   * Stores `value` under the current versions of `tags`. Throws `NotSerializableError` for
   * values the codec cannot round-trip; store faults are reported as error events, not thrown.
   */
  set<T>(key: string, value: T, options?: SetOptions): Promise<void>
  delete(key: string): Promise<void>
  /** Cache-aside: the cached value, or `load()`'s result stored under a pre-load version snapshot. */
  wrap<T>(key: string, load: () => Promise<T> | T, options?: WrapOptions<T>): Promise<T>
  /** Like `wrap`, and also says where the value came from (hit, stale, miss, shared, bypass). */
  wrapWithInfo<T>(
    key: string,
    load: () => Promise<T> | T,
    options?: WrapOptions<T>,
  ): Promise<{ value: T; info: ReadInfo }>
  /** Resolves once the store holds new versions for `tags` (or the fault was reported). */
  invalidateTags(tags: readonly string[]): Promise<void>
  /** Invalidates this namespace in O(1) by moving its epoch; other namespaces are untouched. */
  clear(): Promise<void>
  /**
   * Write-through: call before a database write with the tags the written row's lookup entry
   * depends on; after the commit, `intent.commit({ invalidate, fill })` invalidates and stores
   * the returned row only if no other write raced it (see strategies/write-through.ts).
   */
  beginWrite(fillTags: readonly string[]): Promise<WriteIntent>
  /**
   * Reports a fault that an adapter caught in a place where it must not throw (an ORM hook after
   * a commit): counted in stats and emitted as an `error` event, like the cache's own faults.
   */
  reportError(error: unknown, operation: string, key?: string): void
  stats(): CacheStats
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): () => void
  close(): Promise<void>
}

/**
 * Key of the method behind `invalidateConfirmed` (`@ormcache/core/adapter`): kept off the Cache
 * interface, since only a change-stream consumer needs to know whether an invalidation reached
 * the store before it acknowledges its source.
 */
export const CONFIRMED_INVALIDATE: unique symbol = Symbol.for('ormcache.invalidateConfirmed')

/** Key of the method behind `composesReads` (`@ormcache/core/adapter`), off the Cache interface too. */
export const COMPOSES_READS: unique symbol = Symbol.for('ormcache.composesReads')

export function createCache(options?: CacheOptions): Cache {
  return new OrmCache(resolveOptions(options))
}

class OrmCache implements Cache {
  private readonly ctx: CacheContext
  private readonly invalidator: Invalidator

  private unsubscribe: (() => void) | undefined
  private readonly ownsBus: boolean

  constructor(options: ReturnType<typeof resolveOptions>) {
    this.ctx = new CacheContext(options)
    registerContext(this, this.ctx)
    this.invalidator = new Invalidator(this.ctx)
    this.ctx.onStoreRecovered = () => void this.invalidator.flush()
    // Every cache publishes its invalidations (another process's L1 may need them); only caches
    // with an L1 listen.
    const bus =
      options.bus === false
        ? undefined
        : (options.bus ?? options.store.createBus?.(`${options.namespace}:bus`))
    this.ownsBus = options.bus === undefined && bus !== undefined
    this.ctx.bus = bus
    if (bus !== undefined && this.ctx.l1 !== undefined) this.listen(bus)
  }

  private listen(bus: InvalidationBus): void {
    const ctx = this.ctx
    ctx.setBusConnected(false)
    bus
      .subscribe({
        onMessage: (message) => {
          if (message.origin === ctx.origin) return
          ctx.forgetLocally(message.tags, message.everything)
          for (const key of message.keys) {
            ctx.hitHints.missed(key)
            ctx.l1?.delete(key)
          }
        },
        onState: (connected) => ctx.setBusConnected(connected),
      })
      .then(
        (unsubscribe) => {
          if (ctx.closed) unsubscribe()
          else this.unsubscribe = unsubscribe
        },
        (error: unknown) => ctx.reportError(error, 'subscribe'),
      )
  }

  get namespace(): string {
    return this.ctx.keys.namespace
  }

  get store(): CacheStore {
    return this.ctx.options.store
  }

  get codec(): Codec {
    return this.ctx.codec
  }

  async get<T>(key: string): Promise<T | undefined> {
    this.ensureOpen()
    return this.read<T>(key, this.ctx.budget())
  }

  private async read<T>(key: string, budget: Budget | undefined): Promise<T | undefined> {
    const address = this.ctx.keys.entry(key)
    if (this.invalidator.pending && !(await this.invalidator.settle(budget))) return undefined
    const recovery = this.ctx.recoveringUntil
    if (recovery > 0 && performance.now() < recovery) return undefined
    try {
      const found = await lookup(this.ctx, budget, address, [])
      if (this.ctx.recoveringUntil !== recovery || found.kind === 'untrusted') return undefined
      if (found.kind === 'hit') {
        this.ctx.stats.add('hits')
        this.ctx.events.emit('hit', { key })
        return found.entry.value as T
      }
      this.ctx.stats.add('misses')
      this.ctx.events.emit('miss', { key, reason: found.kind === 'stale' ? 'expired' : found.reason })
    } catch (error) {
      this.ctx.reportError(error, 'get', key)
    }
    return undefined
  }

  async set<T>(key: string, value: T, options: SetOptions = {}): Promise<void> {
    this.ensureOpen()
    checkKnown(options, ['ttl', 'tags'])
    const address = this.ctx.keys.entry(key)
    const ttl = this.ctx.jittered(
      options.ttl === undefined ? this.ctx.options.ttl : duration('ttl', options.ttl),
    )
    const tags = normalizeTags(options.tags)
    const encoded = this.ctx.codec.encode(value)
    return this.write(key, address, tags, ttl, encoded, this.ctx.budget())
  }

  private async write(
    key: string,
    address: EntryAddress,
    tags: readonly string[],
    ttl: number,
    encoded: Encoded,
    budget: Budget | undefined,
  ): Promise<void> {
    if (this.invalidator.pending && !(await this.invalidator.settle(budget))) return
    try {
      const store = this.ctx.store.within(budget)
      const snapshot = await this.ctx.tags.snapshot(store, tags)
      const raw = writeEntry(
        { identity: address.identity, freshUntil: Date.now() + ttl, ...snapshot },
        encoded,
      )
      await store.set(address.storeKey, raw, ttl)
      this.ctx.stats.add('sets')
      this.ctx.events.emit('set', { key, bytes: raw.length })
    } catch (error) {
      this.ctx.reportError(error, 'set', key)
    }
  }

  async delete(key: string): Promise<void> {
    this.ensureOpen()
    const address = this.ctx.keys.entry(key)
    await this.invalidator.delete(address.storeKey, this.ctx.budget())
    this.ctx.stats.add('deletes')
    this.ctx.events.emit('delete', { key })
  }

  async wrap<T>(key: string, load: () => Promise<T> | T, options: WrapOptions<T> = {}): Promise<T> {
    // Unobserved reads skip wrapWithInfo's layer: one async frame and one result object less per
    // read, which the hit path of many concurrent callers feels. Labelled reads take it, and have
    // their labels validated there.
    if (options.operation !== undefined || this.observed(options.model))
      return (await this.wrapWithInfo(key, load, options)).value
    const policy = this.readPolicy(load, options)
    return (await cacheAside(this.ctx, this.ctx.budget(), this.invalidator, key, load, policy)).value
  }

  async wrapWithInfo<T>(
    key: string,
    load: () => Promise<T> | T,
    options: WrapOptions<T> = {},
  ): Promise<{ value: T; info: ReadInfo }> {
    const policy = this.readPolicy(load, options)
    const ctx = this.ctx
    const model = label('model', options.model)
    const operation = label('operation', options.operation)
    // Observers cost only when installed.
    if (!this.observed(model)) {
      const { value, info } = await cacheAside(ctx, ctx.budget(), this.invalidator, key, load, policy)
      return { value, info }
    }
    const started = performance.now()
    const trace = ctx.tracer?.startRead({
      keyHash: this.shortHash(key),
      model,
      operation,
      tagCount: policy.tags.length,
    })
    const loader = trace === undefined ? load : () => trace.within(load)
    let outcome: ReadOutcome<T> | undefined
    try {
      outcome = await cacheAside(ctx, ctx.budget(), this.invalidator, key, loader, policy)
    } catch (error) {
      trace?.fail(error)
      throw error
    } finally {
      this.report(key, model, operation, policy.tags.length, started, outcome)
    }
    trace?.end(outcome)
    return { value: outcome.value, info: outcome.info }
  }

  /**
   * Whether a read needs its outcome reported: a tracer, a metrics exporter, a `read` listener,
   * or a model to count it under. `operation` alone only labels what those report.
   */
  private observed(model: string | undefined): boolean {
    const ctx = this.ctx
    return (
      ctx.tracer !== undefined || model !== undefined || ctx.readMeters.length > 0 || ctx.events.has('read')
    )
  }

  /** The checks every read starts with, and its policy. */
  private readPolicy<T>(load: unknown, options: WrapOptions<T>): ReadPolicy {
    this.ensureOpen()
    if (typeof load !== 'function') throw new InvalidOptionError('load', 'must be a function')
    return this.policy(options as WrapOptions)
  }

  /** Tells per-model stats, metrics exporters and `read` listeners about a settled read. */
  private report(
    key: string,
    model: string | undefined,
    operation: string | undefined,
    tagCount: number,
    started: number,
    outcome: ReadOutcome<unknown> | undefined,
  ): void {
    const ctx = this.ctx
    const info = outcome?.info
    const source = info?.source ?? 'error'
    const counted = model === undefined ? undefined : ctx.stats.addModelRead(model, source)
    const ms = performance.now() - started
    const meters = ctx.readMeters
    for (let i = 0; i < meters.length; i++) {
      const meter = meters[i]!
      try {
        meter(counted, operation, source, info?.tier, ms)
      } catch (error) {
        // A metrics SDK that throws must not fail the query it measured.
        ctx.listenerFailed(meter, 'metrics', error)
      }
    }
    if (!ctx.events.has('read')) return
    // Built field by field: spreading optional fields costs an object per field on every read.
    const event: CacheReadEvent = {
      key,
      source,
      tagCount,
      ms,
      bytes: outcome?.bytes ?? 0,
      roundTrips: outcome?.roundTrips ?? 0,
    }
    if (info?.tier !== undefined) event.tier = info.tier
    if (info?.reason !== undefined) event.reason = info.reason
    if (counted !== undefined) event.model = counted
    if (operation !== undefined) event.operation = operation
    ctx.events.emit('read', event)
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    this.ensureOpen()
    const list = normalizeTags(tags)
    if (list.length > 0) await this.invalidator.invalidate(list, false, this.ctx.budget())
  }

  /** Whether a loader may assemble its value from other reads of this cache (orm/composed-reads.ts). */
  [COMPOSES_READS](): boolean {
    const ctx = this.ctx
    return (
      ctx.store.capabilities.orderedBatches === true &&
      !(ctx.l1 !== undefined && ctx.options.consistency === 'bounded')
    )
  }

  /** True only when the store applied `tags` (and every invalidation pending before them). */
  async [CONFIRMED_INVALIDATE](tags: readonly string[], everything: boolean): Promise<boolean> {
    this.ensureOpen()
    const list = normalizeTags(tags)
    if (list.length === 0 && !everything) return true
    // No operation budget: a consumer that waits for confirmation waits for the store's answer.
    if ((await this.invalidator.invalidate(list, everything, undefined)) !== undefined) return true
    // After a fault, invalidate() only records (an outage must stay O(1) per call); a consumer
    // that waits for confirmation gets one probe-then-replay attempt instead.
    return this.invalidator.settle(undefined)
  }

  async clear(): Promise<void> {
    this.ensureOpen()
    await this.invalidator.invalidate([], true, this.ctx.budget())
  }

  async beginWrite(fillTags: readonly string[]): Promise<WriteIntent> {
    this.ensureOpen()
    return beginWrite(this.ctx, this.invalidator, normalizeTags(fillTags))
  }

  reportError(error: unknown, operation: string, key?: string): void {
    this.ctx.reportError(OrmCacheError.is(error) ? error : new AdapterError(operation, error), operation, key)
  }

  stats(): CacheStats {
    return this.ctx.stats.snapshot()
  }

  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): () => void {
    return this.ctx.events.on(event, listener)
  }

  async close(): Promise<void> {
    if (this.ctx.closed) return
    // Pending invalidations get a bounded last chance before the store goes away; whatever is
    // still undelivered is reported, loudly, before the listeners are dropped. (A store that
    // restarts after this is covered anyway: its new run id moves the epoch, see lineage.ts.)
    const undelivered = await this.invalidator.drain(CLOSE_DEADLINE_MS)
    if (undelivered !== undefined)
      this.ctx.reportError(new UndeliveredInvalidationsError(undelivered), 'close')
    this.ctx.closed = true
    this.ctx.stopWatchingResets()
    this.unsubscribe?.()
    if (this.ownsBus) await this.ctx.bus?.close()
    await this.ctx.store.close()
    this.ctx.events.clear()
  }

  private readonly keyHashes = new Map<string, string>()

  /**
   * 16 characters of the store key's hash: enough to group one entry's reads in traces. Hot keys
   * repeat, so hashes are remembered (a bounded map, dropped whole when full).
   */
  private shortHash(key: string): string {
    let hash = this.keyHashes.get(key)
    if (hash === undefined) {
      if (this.keyHashes.size >= 10_000) this.keyHashes.clear()
      hash = keyHash(this.ctx.keys.entry(key).storeKey).slice(0, 16)
      this.keyHashes.set(key, hash)
    }
    return hash
  }

  private policy(options: WrapOptions): ReadPolicy {
    checkKnown(options, ['ttl', 'tags', 'staleWhileRevalidate', 'afterLoad', 'model', 'operation'])
    const afterLoad = checkAfterLoad(options.afterLoad)
    const tags = normalizeTags(options.tags)
    return {
      ttl: options.ttl === undefined ? this.ctx.options.ttl : duration('ttl', options.ttl),
      tags: afterLoad === undefined ? tags : this.withGuards(tags, afterLoad),
      afterLoad,
      staleWhileRevalidate:
        options.staleWhileRevalidate === undefined
          ? this.ctx.options.staleWhileRevalidate
          : duration('staleWhileRevalidate', options.staleWhileRevalidate, true),
    }
  }

  /**
   * The asked tags followed by an after-load read's guard tags, kept per asked-tags array. The
   * adapters pass the same array for every read of one query shape, so a list's read gets the
   * same combined array each time, and everything kept per tags array (its store keys, ~80 for a
   * list) is found again instead of rebuilt. The inputs are kept and compared (by identity, one
   * pointer each, per-tags-array.ts), so an array or table list changed after the call is never
   * answered from here.
   */
  private withGuards(tags: readonly string[], afterLoad: AfterLoad): readonly string[] {
    const known = this.guarded.get(tags)
    if (known !== undefined && known.afterLoad === afterLoad && sameList(known.tables, afterLoad.tables)) {
      return known.tags
    }
    const combined = normalizeTags([...tags, ...guardTags(afterLoad)])
    this.guarded.set(tags, { afterLoad, tables: afterLoad.tables.slice(), tags: combined })
    return combined
  }

  private readonly guarded = new PerTagsArray<{
    afterLoad: AfterLoad
    tables: readonly string[]
    tags: readonly string[]
  }>()

  private ensureOpen(): void {
    if (this.ctx.closed) throw new CacheClosedError()
  }
}

const NO_TAGS: readonly string[] = []

function label(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidOptionError(option, 'must be a non-empty string')
  return value
}

function normalizeTags(tags: readonly string[] | undefined): readonly string[] {
  if (tags === undefined) return NO_TAGS
  if (!Array.isArray(tags)) throw new InvalidTagError('tags must be an array of strings')
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0)
      throw new InvalidTagError('tags must be non-empty strings')
  }
  return hasDuplicates(tags) ? [...new Set(tags)] : tags
}

/** Allocation-free for the few tags a query usually carries. */
function hasDuplicates(tags: readonly string[]): boolean {
  if (tags.length > 16) return new Set(tags).size !== tags.length
  for (let i = 1; i < tags.length; i++) {
    for (let j = 0; j < i; j++) if (tags[i] === tags[j]) return true
  }
  return false
}

function checkKnown(options: object, known: readonly string[]): void {
  knownKeys('', optionsObject('options', options), known)
}
