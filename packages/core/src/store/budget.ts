/**
 * One user operation's total time on the store. Every guarded store call of the operation (a
 * read's lookup and fill, a write's snapshot, bump and publish) draws from it, so timeouts no
 * longer add up along one operation: past the budget the remaining store calls fail at once and
 * the operation falls back exactly as on a timeout (loader, or pending invalidation + retry).
 * Time spent outside the store (the loader, the ORM's own write) is not counted.
 *
 * The budget is passed explicitly along the operation's path (an argument of the guarded store's
 * calls, or a store view from `GuardedStore.within`), not through AsyncLocalStorage: an active
 * AsyncLocalStorage turns on promise hooks for the whole process, which cost 5-16 % of a cache hit.
 * Work that is not the caller's (background retries, probes, refreshes) simply is not handed one.
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

/** A fresh budget of `limitMs` (0 = unlimited, no budget). */
export function newBudget(limitMs: number): Budget | undefined {
  return limitMs > 0 ? new Budget(limitMs) : undefined
}

/**
 * Waits for `promise` at most as long as `budget` allows, then resolves anyway (the work itself
 * continues in the background; its own timeout reports its failure).
 */
export function waitWithinBudget(promise: Promise<void>, budget: Budget | undefined): Promise<void> {
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

/** Whether `budget` is spent. */
export function outOfBudget(budget: Budget | undefined): boolean {
  return budget !== undefined && budget.remaining() < 1
}
