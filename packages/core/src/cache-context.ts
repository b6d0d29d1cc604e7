import type { ResolvedOptions } from './cache-options.js'
import { Codec } from './codec.js'
import { ListenerError, OrmCacheError, StoreError } from './errors.js'
import { Emitter } from './events.js'
import type { CacheTracer, ReadMeter } from './observe.js'
import { KeySpace, Memo } from './query-key.js'
import { HitHints } from './read-path/hit-hints.js'
import { LookupBatch } from './read-path/lookup-batch.js'
import { SingleFlight } from './read-path/single-flight.js'
import { StatsRecorder } from './stats.js'
import { type Budget, newBudget } from './store/budget.js'
import { GuardedStore } from './store/guarded-store.js'
import { EpochLineage } from './tags/lineage.js'
import { newToken, TagVersions } from './tags/versions.js'
import type { InvalidationBus } from './tiers/bus.js'
import { NearCache } from './tiers/l1.js'
import { SeenVersions } from './write-through/seen-versions.js'

/** Faults that say the store is unhealthy; reported once per run, not once per query. */
const STORE_FAULTS = new Set<string>(['ERR_STORE', 'ERR_STORE_TIMEOUT', 'ERR_CIRCUIT_OPEN'])

/** Everything the strategies share; one per `createCache` call. Internal. */
export class CacheContext {
  readonly store: GuardedStore
  readonly keys: KeySpace
  readonly tags: TagVersions
  readonly codec = new Codec()
  readonly stats = new StatsRecorder()
  readonly events = new Emitter((error, event, listener) =>
    // A throwing `error` listener cannot be told through `error` events: it gets a process warning.
    this.listenerFailed(listener, `on('${event}')`, error, event === 'error'),
  )
  readonly flights = new SingleFlight()
  readonly lookups = new LookupBatch()
  /**
   * The tags of the last entry seen at a store key, when they differ from the tags its reader
   * asked for (entries filled with afterLoad, read-path.ts): the next lookup reads their versions
   * in its one round trip. Only a hint: a wrong or missing one costs a second read, never a stale hit.
   */
  readonly headTags = new Memo<readonly string[]>()
  /** Keys expected to hit, read plainly before the full lookup (hit-hints.ts). Only a hint. */
  readonly hitHints = new HitHints()
  /** Versions seen current recently, a write-through's snapshot without a round trip. */
  readonly seenVersions = new SeenVersions()
  /** Stamps the namespace epoch with the store's data set and moves it when that changes. */
  readonly lineage: EpochLineage = new EpochLineage(this)
  /**
   * Moves on every local invalidation. Loads that run without the store (store down) are
   * de-duplicated only within one local epoch, so a read that starts after a local write never
   * joins a load that started before it.
   */
  localEpoch = 0

  /** Where this process's invalidations stand now, for a load about to take its snapshot. */
  localMark(): LocalMark {
    return { epoch: this.localEpoch, hints: this.hitHints.now() }
  }

  /**
   * What this process must forget once tags (or everything) moved, whoever moved them: a fill
   * racing the move must not repopulate L1, a hit hint or a remembered version must not
   * outlive it. One place, so a new piece of local state is forgotten on every path.
   */
  forgetLocally(tags: readonly string[], everything: boolean): void {
    this.localEpoch += 1
    this.hitHints.invalidated(tags, everything)
    if (everything) {
      this.seenVersions.clear()
      this.l1?.clear()
    } else this.l1?.evictTags(tags)
  }
  closed = false
  /** Identifies this cache on the invalidation bus. */
  readonly origin = newToken()
  readonly l1: NearCache | undefined
  bus: InvalidationBus | undefined
  /** performance.now() until which the store is bypassed after an outage (see recoveryGrace). */
  recoveringUntil = 0
  /** Runs when the store comes back after its circuit was open (pending invalidations first). */
  onStoreRecovered: () => void = () => {}
  /** Installed by `@ormcache/core/otel`; undefined (and never called) otherwise. */
  tracer: CacheTracer | undefined
  tracers: readonly CacheTracer[] = []
  /** Metrics exporters' per-read recorders (addReadMeter); called directly, no event is built. */
  readMeters: readonly ReadMeter[] = []
  private busConnected = true
  private storeHealthy = true

  constructor(readonly options: ResolvedOptions) {
    this.keys = new KeySpace(options.namespace)
    this.tags = new TagVersions(
      this.keys,
      options.tagTtl,
      () => this.lineage.token(),
      (epoch) => this.lineage.verify(epoch),
      () => this.lineage.ready(),
    )
    this.l1 = options.l1 === false ? undefined : new NearCache(options.l1)
    this.store = new GuardedStore(options.store, {
      readTimeoutMs: options.readTimeoutMs,
      writeTimeoutMs: options.writeTimeoutMs,
      breaker: options.circuitBreaker,
      probeKey: this.keys.probe(),
      onStateChange: (change) => {
        const state = change.state
        this.storeHealthy = state === 'closed'
        this.events.emit('circuit', change)
        if (state === 'closed') {
          // Other processes may still hold invalidations they could not apply during the outage.
          if (options.recoveryGrace > 0) this.recoveringUntil = performance.now() + options.recoveryGrace
          this.onStoreRecovered()
        }
        this.updateL1()
      },
    })
    this.stopWatchingResets = this.lineage.watchResets()
  }

  /** Stops listening for shards that lost writes (lineage.ts `watchResets`); called by close(). */
  readonly stopWatchingResets: () => void

  /** L1 is only trusted while the bus delivers invalidations and the store answers. */
  setBusConnected(connected: boolean): void {
    this.busConnected = connected
    this.updateL1()
  }

  private updateL1(): void {
    if (this.l1 === undefined) return
    if (this.busConnected && this.storeHealthy) this.l1.enable()
    else this.l1.disable()
  }

  reportError(error: unknown, operation: string, key?: string): void {
    const typed = OrmCacheError.is(error) ? error : new StoreError(operation, error)
    this.stats.add('errors')
    for (const count of this.faultCounters) count({ error: typed, operation })
    if (this.options.circuitBreaker !== false && STORE_FAULTS.has(typed.code)) {
      // One event per run of store faults: the first fault of a run while the circuit is
      // closed. The rest are counted (stats, and the next `circuit` event), not emitted each.
      const streak = this.store.faultStreak
      if (this.store.state !== 'closed' || streak === this.reportedStreak) return
      this.reportedStreak = streak
    }
    this.events.emit(
      'error',
      key === undefined ? { error: typed, operation } : { error: typed, operation, key },
    )
    const onError = this.options.onError
    if (onError === undefined) return
    try {
      onError(typed)
    } catch (failure) {
      // The user's error hook must not turn a handled fault into a failed query.
      this.listenerFailed(onError, 'onError', failure, true)
    }
  }

  private reportedStreak = -1
  /**
   * Metrics exporters count every fault here: the `error` event is emitted once per run of store
   * faults (above), while an errors-by-code metric must see each one.
   */
  readonly faultCounters = new Set<(fault: { error: OrmCacheError; operation: string }) => void>()
  private readonly failedListeners = new WeakSet<object>()

  /**
   * Reports a throwing user listener once per listener function (see ListenerError): as an
   * `error` event, or as a process warning when the listener is part of the error channel.
   */
  listenerFailed(listener: object, where: string, error: unknown, viaWarning = false): void {
    if (this.failedListeners.has(listener)) return
    this.failedListeners.add(listener)
    const typed = new ListenerError(where, error)
    if (viaWarning)
      process.emitWarning(typed.message, { type: 'OrmCacheListenerWarning', code: 'ERR_LISTENER' })
    else this.reportError(typed, 'listener')
  }

  /**
   * The total store budget of one user operation starting now (`timeouts.operation`, see
   * budget.ts); undefined when unlimited. The operation passes it to each of its store calls.
   */
  budget(): Budget | undefined {
    return newBudget(this.options.operationTimeoutMs)
  }

  /** TTL with random jitter taken off, so entries filled together do not expire together. */
  jittered(ttl: number): number {
    const jitter = this.options.jitter
    return jitter === 0 ? ttl : Math.max(1, Math.round(ttl * (1 - Math.random() * jitter)))
  }
}

/**
 * This process's invalidation state when a read took its snapshot: `epoch` (any local change,
 * deletes included: L1 is filled only if it did not move) and `hints` (HitHints.now(), to ask
 * which tags moved since).
 */
export interface LocalMark {
  epoch: number
  hints: number
}
