import { CircuitOpenError, OrmCacheError, StoreError, StoreTimeoutError } from '../errors.js'
import type { Budget } from './budget.js'
import type { CircuitBreakerOptions, CircuitState } from './circuit-breaker.js'
import { storeDeadlines } from './deadlines.js'
import { type BudgetedWriteLog, OperationStore, type StoreHandle } from './operation-store.js'
import { type CircuitChange, StoreBreaker } from './store-breaker.js'
import { withTimeout } from './timeout.js'
import type {
  CacheStore,
  Guard,
  LeaseRef,
  LookupReply,
  LookupRequest,
  StoreCapabilities,
  StoreWrite,
  VersionRead,
} from './types.js'

export interface GuardOptions {
  /** ms before a read is abandoned (0 = never). */
  readTimeoutMs: number
  writeTimeoutMs: number
  breaker: CircuitBreakerOptions | false
  /** A key the half-open probe may read (when the store has no `ping`). */
  probeKey: string
  onStateChange?: (change: CircuitChange) => void
}

/** ms the background probe waits for the store when no timeout is configured. */
const PROBE_TIMEOUT_MS = 1_000

/**
 * Puts per-operation timeouts, the operation's total budget (budget.ts) and a circuit breaker
 * around any store, and turns every failure into a typed `OrmCacheError` that carries the
 * underlying cause. A store that knows its connection is down says so (`unavailable()`), and
 * the call fails at once instead of waiting for its timeout. The cache only talks to a guarded store.
 */
export class GuardedStore implements CacheStore {
  readonly name: string
  readonly capabilities: StoreCapabilities
  private readonly breaker: StoreBreaker | undefined
  // Each call takes the budget of the user operation it belongs to (budget.ts); none: no total limit.
  readonly readVersions?: (request: VersionRead, budget?: Budget) => Promise<string[]>
  readonly lookup?: (request: LookupRequest, budget?: Budget) => Promise<LookupReply>
  readonly readHit?: (
    entryKey: string,
    keys: readonly string[],
    budget?: Budget,
  ) => Promise<(string | undefined)[]>
  readonly fill?: (write: StoreWrite, lease: LeaseRef | undefined, budget?: Budget) => Promise<void>
  readonly bumpGuarded?: (
    writes: readonly StoreWrite[],
    guards: readonly Guard[],
    entry: StoreWrite,
    budget?: Budget,
  ) => Promise<boolean>
  readonly waitForFill?: (
    entryKey: string,
    ms: number,
    since: number,
  ) => Promise<string | undefined> | undefined
  readonly writeLog?: BudgetedWriteLog
  /** Calls made on the store itself carry no operation budget (see `within`). */
  readonly budget: Budget | undefined = undefined

  constructor(
    readonly inner: CacheStore,
    private readonly options: GuardOptions,
  ) {
    this.name = inner.name
    this.capabilities = inner.capabilities
    this.breaker =
      options.breaker === false
        ? undefined
        : new StoreBreaker(
            options.breaker,
            () => this.probe(),
            (change) => options.onStateChange?.(change),
          )
    // The fused operations exist only where the inner store has them (store-ops.ts composes the rest).
    const { readTimeoutMs, writeTimeoutMs } = options
    if (inner.readVersions)
      this.readVersions = (request, budget) =>
        this.guard('readVersions', writeTimeoutMs, () => inner.readVersions!(request), budget)
    if (inner.lookup)
      this.lookup = (request, budget) =>
        this.guard('lookup', readTimeoutMs, () => inner.lookup!(request), budget)
    if (inner.readHit)
      this.readHit = (entryKey, keys, budget) =>
        this.guard('readHit', readTimeoutMs, () => inner.readHit!(entryKey, keys), budget)
    if (inner.fill)
      this.fill = (write, lease, budget) =>
        this.guard('fill', writeTimeoutMs, () => inner.fill!(write, lease), budget)
    // Waiting never fails (it times out into a poll), so it needs no guard.
    if (inner.waitForFill) this.waitForFill = (key, ms, since) => inner.waitForFill!(key, ms, since)
    if (inner.bumpGuarded)
      this.bumpGuarded = (writes, guards, entry, budget) =>
        this.guard('bumpGuarded', writeTimeoutMs, () => inner.bumpGuarded!(writes, guards, entry), budget)
    const log = inner.writeLog
    if (log !== undefined)
      this.writeLog = {
        bump: (coarse, logged, fine, budget) =>
          this.guard('writeLog.bump', writeTimeoutMs, () => log.bump(coarse, logged, fine), budget),
        bumpGuarded: (coarse, logged, fine, guards, entry, budget) =>
          this.guard(
            'writeLog.bumpGuarded',
            writeTimeoutMs,
            () => log.bumpGuarded(coarse, logged, fine, guards, entry),
            budget,
          ),
        settle: (request, budget) =>
          this.guard('writeLog.settle', writeTimeoutMs, () => log.settle(request), budget),
      }
  }

  /**
   * This store as one user operation sees it: every call draws from `budget` (budget.ts). The
   * store itself when there is no budget, so an unlimited operation allocates nothing.
   */
  within(budget: Budget | undefined): StoreHandle {
    return budget === undefined ? this : new OperationStore(this, budget)
  }

  get state(): CircuitState {
    return this.breaker?.state ?? 'closed'
  }

  /** Which run of consecutive failures the store is in (changes when a new run starts). */
  get faultStreak(): number {
    return this.breaker?.faultStreak ?? -2
  }

  get(key: string, budget?: Budget) {
    return this.guard('get', this.options.readTimeoutMs, () => this.inner.get(key), budget)
  }
  getMany(keys: readonly string[], budget?: Budget) {
    return this.guard('getMany', this.options.readTimeoutMs, () => this.inner.getMany(keys), budget)
  }
  set(key: string, value: string, ttlMs?: number, budget?: Budget) {
    return this.guard('set', this.options.writeTimeoutMs, () => this.inner.set(key, value, ttlMs), budget)
  }
  setMany(entries: readonly StoreWrite[], budget?: Budget) {
    return this.guard('setMany', this.options.writeTimeoutMs, () => this.inner.setMany(entries), budget)
  }
  add(key: string, value: string, ttlMs?: number, budget?: Budget) {
    return this.guard('add', this.options.writeTimeoutMs, () => this.inner.add(key, value, ttlMs), budget)
  }
  compareAndSet(key: string, expected: string, value: string, ttlMs?: number, budget?: Budget) {
    return this.guard(
      'compareAndSet',
      this.options.writeTimeoutMs,
      () => this.inner.compareAndSet(key, expected, value, ttlMs),
      budget,
    )
  }
  delete(key: string, budget?: Budget) {
    return this.guard('delete', this.options.writeTimeoutMs, () => this.inner.delete(key), budget)
  }
  deleteIfEquals(key: string, value: string, budget?: Budget) {
    return this.guard(
      'deleteIfEquals',
      this.options.writeTimeoutMs,
      () => this.inner.deleteIfEquals(key, value),
      budget,
    )
  }
  close() {
    this.breaker?.close()
    return this.inner.close()
  }

  /** The half-open probe: a cheap round trip, run by the breaker's timer, never by a user call. */
  private async probe(): Promise<void> {
    const down = this.inner.unavailable?.()
    if (down !== undefined) throw new StoreError('probe', down)
    const ms = this.options.readTimeoutMs > 0 ? this.options.readTimeoutMs : PROBE_TIMEOUT_MS
    const run: Promise<unknown> = this.inner.ping ? this.inner.ping() : this.inner.get(this.options.probeKey)
    try {
      await withTimeout(run, ms, () => new StoreTimeoutError('probe', ms))
    } catch (error) {
      throw OrmCacheError.is(error) ? error : new StoreError('probe', error)
    }
  }

  /**
   * One store call under its timeout, the operation's budget and the breaker. Not an async
   * function around `withTimeout`: one promise settled from the call's own callbacks, with the
   * deadline on the shared timer (deadlines.ts), because every cache hit pays for this wrapper.
   */
  private guard<T>(
    operation: string,
    timeoutMs: number,
    run: () => Promise<T>,
    budget: Budget | undefined,
  ): Promise<T> {
    const breaker = this.breaker
    if (breaker !== undefined && !breaker.allow())
      return Promise.reject(new CircuitOpenError(operation, breaker.cause))
    const down = this.inner.unavailable?.()
    if (down !== undefined) {
      // A refused or closed connection: fail now with its cause rather than wait for a timeout.
      const error = new StoreError(operation, down)
      breaker?.failure(error)
      return Promise.reject(error)
    }
    let limit = timeoutMs
    if (budget !== undefined) {
      const left = Math.floor(budget.remaining())
      // An operation that spent its budget skips its remaining store calls; the store was not
      // asked, so this says nothing about its health.
      if (left <= 0) return Promise.reject(new StoreTimeoutError(operation, budget.limitMs, { budget: true }))
      limit = timeoutMs > 0 ? Math.min(timeoutMs, left) : left
    }
    const started = budget === undefined ? 0 : performance.now()
    let pending: Promise<T>
    try {
      pending = run()
    } catch (error) {
      pending = Promise.reject(error)
    }
    return new Promise<T>((resolve, reject) => {
      let settled = false
      const fail = (error: unknown) => {
        if (settled) return
        settled = true
        if (deadline !== undefined) storeDeadlines.cancel(deadline)
        budget?.spend(performance.now() - started)
        // When the connection is known to be down, its error (ECONNREFUSED…) is the real cause.
        const typed = OrmCacheError.is(error)
          ? error
          : new StoreError(operation, this.inner.unavailable?.() ?? error)
        // A value the store refuses by size says nothing about the store's health.
        if (breaker !== undefined && typed.code !== 'ERR_VALUE_TOO_LARGE') breaker.failure(typed)
        reject(typed)
      }
      // The call itself may still complete later; past its deadline it counts as a failure.
      const deadline =
        limit > 0
          ? storeDeadlines.add(limit, () => {
              const cause = this.inner.unavailable?.()
              fail(new StoreTimeoutError(operation, limit, cause === undefined ? {} : { cause }))
            })
          : undefined
      pending.then((value) => {
        if (settled) return
        settled = true
        if (deadline !== undefined) storeDeadlines.cancel(deadline)
        budget?.spend(performance.now() - started)
        breaker?.success()
        resolve(value)
      }, fail)
    })
  }
}
