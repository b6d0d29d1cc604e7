/**
 * In-process de-duplication: concurrent callers with the same flight key share one execution
 * and its outcome (value or error). The flight key must capture everything that makes two calls
 * interchangeable; the cache uses the store key plus the version snapshot, so a caller that
 * started after an invalidation never joins a flight that started before it.
 */
export class SingleFlight {
  private readonly flights = new Map<string, Promise<unknown>>()

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

  has(key: string): boolean {
    return this.flights.has(key)
  }

  get size(): number {
    return this.flights.size
  }
}
