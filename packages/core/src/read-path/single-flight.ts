/**
 * In-process de-duplication: concurrent callers with the same flight key share one execution
 * and its outcome (value or error). The flight key must capture everything that makes two calls
 * interchangeable; the cache uses the store key plus the version snapshot, so a caller that
 * started after an invalidation never joins a flight that started before it.
 */
export class SingleFlight {
  private readonly flights = new Map<string, Promise<unknown>>()
  /** Per key, the flight that will start when the running one settles (see runFresh). */
  private readonly queued = new Map<string, Promise<unknown>>()

  run<T>(key: string, execute: () => Promise<T>): { promise: Promise<T>; leader: boolean } {
    const existing = this.flights.get(key)
    if (existing !== undefined) return { promise: existing as Promise<T>, leader: false }
    const promise = (async () => {
      try {
        return await execute()
      } finally {
        this.flights.delete(key)
      }
    })()
    this.flights.set(key, promise)
    return { promise, leader: true }
  }

  /**
   * Like `run`, but never joins a flight that started before this call: while one runs, callers
   * share the next one, which starts when it settles. For loads that no version snapshot can
   * vouch for (the store is unavailable): a read that begins after a write committed elsewhere
   * must run a load that begins after it too, since nothing tells this process about that write.
   * At most one load per key runs at a time, and a caller waits for at most two.
   */
  runFresh<T>(key: string, execute: () => Promise<T>): { promise: Promise<T>; leader: boolean } {
    const queued = this.queued.get(key)
    if (queued !== undefined) return { promise: queued as Promise<T>, leader: false }
    const running = this.flights.get(key)
    if (running === undefined) return this.run(key, execute)
    const promise = running.then(settled, settled).then(() => {
      this.queued.delete(key)
      // The running flight removed itself before settling, and every caller since joined us.
      return this.run(key, execute).promise
    })
    this.queued.set(key, promise)
    return { promise, leader: true }
  }

  has(key: string): boolean {
    return this.flights.has(key)
  }

  get size(): number {
    return this.flights.size
  }
}

function settled(): void {}
