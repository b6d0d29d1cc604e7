import type { LoggedBump, SettleReply, SettleRequest, WriteLog } from '../tags/write-log.js'
import type { Budget } from './budget.js'
import type { CircuitState } from './circuit-breaker.js'
import type { GuardedStore } from './guarded-store.js'
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

/** The guarded write log: each call may carry its operation's budget. */
export interface BudgetedWriteLog extends WriteLog {
  bump(
    coarse: readonly StoreWrite[],
    logged: readonly LoggedBump[],
    fine: readonly StoreWrite[],
    budget?: Budget,
  ): Promise<void>
  bumpGuarded(
    coarse: readonly StoreWrite[],
    logged: readonly LoggedBump[],
    fine: readonly StoreWrite[],
    guards: readonly Guard[],
    entry: StoreWrite,
    budget?: Budget,
  ): Promise<boolean>
  settle(request: SettleRequest, budget?: Budget): Promise<SettleReply>
}

/** What an operation's code talks to: the guarded store, or its view under the operation's budget. */
export type StoreHandle = GuardedStore | OperationStore

/**
 * A guarded store as one user operation sees it (GuardedStore.within): every call draws from the
 * operation's budget. It is what the operation hands to code that takes a plain CacheStore
 * (store-ops.ts, TagVersions), so the budget reaches every store call of the operation without
 * AsyncLocalStorage (budget.ts). It owns nothing: closing it does not close the store.
 */
export class OperationStore implements CacheStore {
  readonly name: string
  readonly capabilities: StoreCapabilities
  readonly readVersions?: (request: VersionRead) => Promise<string[]>
  readonly lookup?: (request: LookupRequest) => Promise<LookupReply>
  readonly readHit?: (entryKey: string, keys: readonly string[]) => Promise<(string | undefined)[]>
  readonly fill?: (write: StoreWrite, lease: LeaseRef | undefined) => Promise<void>
  readonly bumpGuarded?: (
    writes: readonly StoreWrite[],
    guards: readonly Guard[],
    entry: StoreWrite,
  ) => Promise<boolean>
  readonly waitForFill?: (
    entryKey: string,
    ms: number,
    since: number,
  ) => Promise<string | undefined> | undefined
  readonly writeLog?: WriteLog

  constructor(
    readonly guarded: GuardedStore,
    readonly budget: Budget,
  ) {
    this.name = guarded.name
    this.capabilities = guarded.capabilities
    // The fused operations exist exactly where the guarded store has them (store-ops.ts tests).
    const { readVersions, lookup, readHit, fill, bumpGuarded, waitForFill, writeLog } = guarded
    if (readVersions) this.readVersions = (request) => readVersions(request, budget)
    if (lookup) this.lookup = (request) => lookup(request, budget)
    if (readHit) this.readHit = (entryKey, keys) => readHit(entryKey, keys, budget)
    if (fill) this.fill = (write, lease) => fill(write, lease, budget)
    if (bumpGuarded) this.bumpGuarded = (writes, guards, entry) => bumpGuarded(writes, guards, entry, budget)
    if (waitForFill) this.waitForFill = waitForFill
    if (writeLog)
      this.writeLog = {
        bump: (coarse, logged, fine) => writeLog.bump(coarse, logged, fine, budget),
        bumpGuarded: (coarse, logged, fine, guards, entry) =>
          writeLog.bumpGuarded(coarse, logged, fine, guards, entry, budget),
        settle: (request) => writeLog.settle(request, budget),
      }
  }

  get state(): CircuitState {
    return this.guarded.state
  }

  get(key: string) {
    return this.guarded.get(key, this.budget)
  }
  getMany(keys: readonly string[]) {
    return this.guarded.getMany(keys, this.budget)
  }
  set(key: string, value: string, ttlMs?: number) {
    return this.guarded.set(key, value, ttlMs, this.budget)
  }
  setMany(entries: readonly StoreWrite[]) {
    return this.guarded.setMany(entries, this.budget)
  }
  add(key: string, value: string, ttlMs?: number) {
    return this.guarded.add(key, value, ttlMs, this.budget)
  }
  compareAndSet(key: string, expected: string, value: string, ttlMs?: number) {
    return this.guarded.compareAndSet(key, expected, value, ttlMs, this.budget)
  }
  delete(key: string) {
    return this.guarded.delete(key, this.budget)
  }
  deleteIfEquals(key: string, value: string) {
    return this.guarded.deleteIfEquals(key, value, this.budget)
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}
