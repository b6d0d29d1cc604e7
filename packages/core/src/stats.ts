import { Histogram, type LatencySummary } from './histogram.js'

export interface CacheStats {
  /** Reads answered by a fresh cached value (from L1 or the store). */
  hits: number
  /** The part of `hits` answered by the in-process L1. */
  l1Hits: number
  /** Reads answered by an expired value inside its stale-while-revalidate window. */
  staleHits: number
  /** Reads that had to load (absent, expired, invalidated, corrupt or store unavailable). */
  misses: number
  /** Loader executions (after single-flight, so usually far fewer than misses under load). */
  loads: number
  loadErrors: number
  sets: number
  deletes: number
  /**
   * Fills not stored because a write to a table the result's after-load dependencies belong to
   * landed during the load (the read's value was still returned).
   */
  fillsSkipped: number
  /** Tags invalidated (each tag of an `invalidateTags` call counts once; `clear` counts once). */
  invalidations: number
  errors: number
  /** (hits + staleHits) / (hits + staleHits + misses); 0 before the first read. */
  hitRatio: number
  loadLatency: LatencySummary
  /** Latency of the store round trip on the read path. */
  readLatency: LatencySummary
}

type Counter = Exclude<keyof CacheStats, 'hitRatio' | 'loadLatency' | 'readLatency'>

export class StatsRecorder {
  private readonly counters: Record<Counter, number> = {
    hits: 0,
    l1Hits: 0,
    staleHits: 0,
    misses: 0,
    loads: 0,
    loadErrors: 0,
    sets: 0,
    deletes: 0,
    fillsSkipped: 0,
    invalidations: 0,
    errors: 0,
  }
  readonly loadLatency = new Histogram()
  readonly readLatency = new Histogram()

  add(counter: Counter, amount = 1): void {
    this.counters[counter] += amount
  }

  snapshot(): CacheStats {
    const { hits, staleHits, misses } = this.counters
    const reads = hits + staleHits + misses
    return {
      ...this.counters,
      hitRatio: reads === 0 ? 0 : (hits + staleHits) / reads,
      loadLatency: this.loadLatency.summary(),
      readLatency: this.readLatency.summary(),
    }
  }
}
