import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js'
import { CircuitOpenError, OrmCacheError, StoreError, StoreTimeoutError } from './errors.js'
import type {
  CacheStore,
  Guard,
  LeaseRef,
  LookupReply,
  LookupRequest,
  StoreCapabilities,
  StoreWrite,
  VersionRead,
} from './stores/types.js'
import type { WriteLog } from './stores/write-log.js'
import { withTimeout } from './timeout.js'

export interface GuardOptions {
  /** ms before a read is abandoned (0 = never). */
  readTimeoutMs: number
  writeTimeoutMs: number
  breaker: CircuitBreakerOptions | false
  onStateChange?: (state: CircuitState) => void
}

/**
 * Puts per-operation timeouts and a circuit breaker around any store, and turns every failure
 * into a typed `OrmCacheError`. The cache only ever talks to a guarded store.
 */
export class GuardedStore implements CacheStore {
  readonly name: string
  readonly capabilities: StoreCapabilities
  private readonly breaker: CircuitBreaker | undefined
  readonly readVersions?: (request: VersionRead) => Promise<string[]>
  readonly lookup?: (request: LookupRequest) => Promise<LookupReply>
  readonly fill?: (write: StoreWrite, lease: LeaseRef | undefined) => Promise<void>
  readonly bumpGuarded?: (
    writes: readonly StoreWrite[],
    guards: readonly Guard[],
    entry: StoreWrite,
  ) => Promise<boolean>
  readonly waitForFill?: (entryKey: string, ms: number, since: number) => Promise<void> | undefined
  readonly writeLog?: WriteLog

  constructor(
    readonly inner: CacheStore,
    private readonly options: GuardOptions,
  ) {
    this.name = inner.name
    this.capabilities = inner.capabilities
    this.breaker = options.breaker === false ? undefined : new CircuitBreaker(options.breaker)
    // The fused operations exist only where the inner store has them (store-ops.ts composes the rest).
    const { readTimeoutMs, writeTimeoutMs } = options
    if (inner.readVersions)
      this.readVersions = (request) =>
        this.guard('readVersions', writeTimeoutMs, () => inner.readVersions!(request))
    if (inner.lookup)
      this.lookup = (request) => this.guard('lookup', readTimeoutMs, () => inner.lookup!(request))
    if (inner.fill)
      this.fill = (write, lease) => this.guard('fill', writeTimeoutMs, () => inner.fill!(write, lease))
    // Waiting never fails (it times out into a poll), so it needs no guard.
    if (inner.waitForFill) this.waitForFill = (key, ms, since) => inner.waitForFill!(key, ms, since)
    if (inner.bumpGuarded)
      this.bumpGuarded = (writes, guards, entry) =>
        this.guard('bumpGuarded', writeTimeoutMs, () => inner.bumpGuarded!(writes, guards, entry))
    const log = inner.writeLog
    if (log !== undefined)
      this.writeLog = {
        bump: (coarse, logged, fine) =>
          this.guard('writeLog.bump', writeTimeoutMs, () => log.bump(coarse, logged, fine)),
        bumpGuarded: (coarse, logged, fine, guards, entry) =>
          this.guard('writeLog.bumpGuarded', writeTimeoutMs, () =>
            log.bumpGuarded(coarse, logged, fine, guards, entry),
          ),
        settle: (request) => this.guard('writeLog.settle', writeTimeoutMs, () => log.settle(request)),
      }
  }

  get state(): CircuitState {
    return this.breaker?.state ?? 'closed'
  }

  get(key: string) {
    return this.guard('get', this.options.readTimeoutMs, () => this.inner.get(key))
  }
  getMany(keys: readonly string[]) {
    return this.guard('getMany', this.options.readTimeoutMs, () => this.inner.getMany(keys))
  }
  set(key: string, value: string, ttlMs?: number) {
    return this.guard('set', this.options.writeTimeoutMs, () => this.inner.set(key, value, ttlMs))
  }
  setMany(entries: readonly StoreWrite[]) {
    return this.guard('setMany', this.options.writeTimeoutMs, () => this.inner.setMany(entries))
  }
  add(key: string, value: string, ttlMs?: number) {
    return this.guard('add', this.options.writeTimeoutMs, () => this.inner.add(key, value, ttlMs))
  }
  compareAndSet(key: string, expected: string, value: string, ttlMs?: number) {
    return this.guard('compareAndSet', this.options.writeTimeoutMs, () =>
      this.inner.compareAndSet(key, expected, value, ttlMs),
    )
  }
  delete(key: string) {
    return this.guard('delete', this.options.writeTimeoutMs, () => this.inner.delete(key))
  }
  deleteIfEquals(key: string, value: string) {
    return this.guard('deleteIfEquals', this.options.writeTimeoutMs, () =>
      this.inner.deleteIfEquals(key, value),
    )
  }
  close() {
    return this.inner.close()
  }

  private async guard<T>(operation: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
    const breaker = this.breaker
    if (breaker !== undefined && !breaker.allow()) throw new CircuitOpenError(operation)
    const before = breaker?.state
    try {
      const result = await withTimeout(run(), timeoutMs, () => new StoreTimeoutError(operation, timeoutMs))
      if (breaker !== undefined) {
        breaker.success()
        if (before !== 'closed') this.options.onStateChange?.('closed')
      }
      return result
    } catch (error) {
      // A value the store refuses by size says nothing about the store's health.
      const typed = OrmCacheError.is(error) ? error : new StoreError(operation, error)
      if (breaker !== undefined && typed.code !== 'ERR_VALUE_TOO_LARGE') {
        breaker.failure()
        if (breaker.state === 'open' && before !== 'open') this.options.onStateChange?.('open')
      }
      throw typed
    }
  }
}
