import { Codec } from './codec.js'
import { OrmCacheError, StoreError } from './errors.js'
import { Emitter } from './events.js'
import { GuardedStore } from './guarded-store.js'
import { KeySpace } from './keys.js'
import { EpochLineage } from './lineage.js'
import type { ResolvedOptions } from './options.js'
import { SingleFlight } from './single-flight.js'
import { StatsRecorder } from './stats.js'
import { newToken, TagVersions } from './tags.js'
import type { InvalidationBus } from './tiers/bus.js'
import { NearCache } from './tiers/l1.js'

/** Everything the strategies share; one per `createCache` call. Internal. */
export class CacheContext {
  readonly store: GuardedStore
  readonly keys: KeySpace
  readonly tags: TagVersions
  readonly codec = new Codec()
  readonly stats = new StatsRecorder()
  readonly events = new Emitter()
  readonly flights = new SingleFlight()
  /** Stamps the namespace epoch with the store's data set and moves it when that changes. */
  readonly lineage: EpochLineage = new EpochLineage(this)
  /**
   * Moves on every local invalidation. Loads that run without the store (store down) are
   * de-duplicated only within one local epoch, so a read that starts after a local write never
   * joins a load that started before it.
   */
  localEpoch = 0
  closed = false
  /** Identifies this cache on the invalidation bus. */
  readonly origin = newToken()
  readonly l1: NearCache | undefined
  bus: InvalidationBus | undefined
  /** performance.now() until which the store is bypassed after an outage (see recoveryGrace). */
  recoveringUntil = 0
  /** Runs when the store comes back after its circuit was open (pending invalidations first). */
  onStoreRecovered: () => void = () => {}
  private busConnected = true
  private storeHealthy = true

  constructor(readonly options: ResolvedOptions) {
    this.keys = new KeySpace(options.namespace)
    this.tags = new TagVersions(
      this.keys,
      options.tagTtl,
      () => this.lineage.token(),
      (epoch) => this.lineage.verify(epoch),
    )
    this.l1 = options.l1 === false ? undefined : new NearCache(options.l1)
    this.store = new GuardedStore(options.store, {
      readTimeoutMs: options.readTimeoutMs,
      writeTimeoutMs: options.writeTimeoutMs,
      breaker: options.circuitBreaker,
      onStateChange: (state) => {
        this.storeHealthy = state === 'closed'
        if (state === 'closed') {
          // Other processes may still hold invalidations they could not apply during the outage.
          if (options.recoveryGrace > 0) this.recoveringUntil = performance.now() + options.recoveryGrace
          this.onStoreRecovered()
        }
        this.updateL1()
      },
    })
  }

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
    this.events.emit(
      'error',
      key === undefined ? { error: typed, operation } : { error: typed, operation, key },
    )
    try {
      this.options.onError?.(typed)
    } catch {
      // The user's error hook must not turn a handled fault into a failed query.
    }
  }

  /** TTL with random jitter taken off, so entries filled together do not expire together. */
  jittered(ttl: number): number {
    const jitter = this.options.jitter
    return jitter === 0 ? ttl : Math.max(1, Math.round(ttl * (1 - Math.random() * jitter)))
  }
}
