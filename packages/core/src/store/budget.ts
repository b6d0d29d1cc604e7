import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * One user operation's total time on the store. Every guarded store call of the operation (a
 * read's lookup and fill, a write's snapshot, bump and publish) draws from it, so timeouts no
 * longer add up along one operation: past the budget the remaining store calls fail at once and
 * the operation falls back exactly as on a timeout (loader, or pending invalidation + retry).
 * Time spent outside the store (the loader, the ORM's own write) is not counted.
 */
export class Budget {
  private spent = 0
  constructor(readonly limitMs: number) {}

  /** ms still available to the operation's store calls. */
  remaining(): number {
    return this.limitMs - this.spent
  }

  spend(ms: number): void {
    this.spent += ms
  }
}

const current = new AsyncLocalStorage<Budget>()

/** Runs `fn` as one user operation with `budget` (none when `budget` is undefined: no limit). */
export function withinBudget<T>(budget: Budget | undefined, fn: () => T): T {
  return budget === undefined ? fn() : current.run(budget, fn)
}

/** A fresh budget of `limitMs` (0 = unlimited, no budget). */
export function newBudget(limitMs: number): Budget | undefined {
  return limitMs > 0 ? new Budget(limitMs) : undefined
}

/** The budget of the user operation running now, if any. */
export function currentBudget(): Budget | undefined {
  return current.getStore()
}

/**
 * Runs `fn` outside any user operation: timers and promises it starts (background retries,
 * probes, refreshes) must not inherit a budget the user's operation may already have spent.
 */
export function detached<T>(fn: () => T): T {
  return current.getStore() === undefined ? fn() : current.exit(fn)
}

/**
 * Waits for `promise` at most as long as the current operation's budget allows, then resolves
 * anyway (the work itself continues in the background; its own timeout reports its failure).
 */
export function waitWithinBudget(promise: Promise<void>): Promise<void> {
  const budget = current.getStore()
  if (budget === undefined) return promise
  const left = budget.remaining()
  if (left <= 0) return Promise.resolve()
  const started = performance.now()
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      budget.spend(performance.now() - started)
      resolve()
    }
    const timer = setTimeout(done, left)
    timer.unref?.()
    promise.then(done, done)
  })
}

/** Whether the current operation has spent its whole store budget. */
export function outOfBudget(): boolean {
  const budget = current.getStore()
  return budget !== undefined && budget.remaining() < 1
}
