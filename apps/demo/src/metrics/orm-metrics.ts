import type { Cache } from '@ormcache/core'
import { Histogram } from '@ormcache/core'

/** The counters of one ORM: what its requests cost and what its cache answered. */
export interface OrmCounters {
  requests: number
  /** SQL statements the database executed for this ORM (driver adapter / TypeORM logger). */
  dbQueries: number
  /** ORM reads answered from the cache (fresh or stale). */
  cacheHits: number
  cacheMisses: number
  /** Store faults the cache absorbed (the request went to the database instead). */
  cacheErrors: number
  invalidations: number
}

export interface OrmSnapshot extends OrmCounters {
  hitRatio: number
  latency: { p50: number; p99: number; count: number }
}

/**
 * One ORM's side of the dashboard. Cache figures come from its Cache's stats(), taken relative
 * to a baseline so that "reset" starts every counter from zero without touching the cache.
 */
export class OrmMetrics {
  readonly latency = new Histogram()
  /** Latency of the current sampling window only (the live chart). */
  readonly windowLatency = new Histogram()
  private requests = 0
  private dbQueries = 0
  private baseline: Omit<OrmCounters, 'requests' | 'dbQueries'>

  constructor(readonly cache: Cache) {
    this.baseline = this.cacheCounters()
  }

  recordRequest(ms: number): void {
    this.requests += 1
    this.latency.record(ms)
    this.windowLatency.record(ms)
  }

  recordDbQuery(): void {
    this.dbQueries += 1
  }

  counters(): OrmCounters {
    const now = this.cacheCounters()
    return {
      requests: this.requests,
      dbQueries: this.dbQueries,
      cacheHits: now.cacheHits - this.baseline.cacheHits,
      cacheMisses: now.cacheMisses - this.baseline.cacheMisses,
      cacheErrors: now.cacheErrors - this.baseline.cacheErrors,
      invalidations: now.invalidations - this.baseline.invalidations,
    }
  }

  snapshot(): OrmSnapshot {
    const counters = this.counters()
    return {
      ...counters,
      hitRatio: ratio(counters.cacheHits, counters.cacheMisses),
      latency: {
        p50: this.latency.percentile(50),
        p99: this.latency.percentile(99),
        count: this.latency.size,
      },
    }
  }

  reset(): void {
    this.requests = 0
    this.dbQueries = 0
    this.latency.reset()
    this.windowLatency.reset()
    this.baseline = this.cacheCounters()
  }

  private cacheCounters(): Omit<OrmCounters, 'requests' | 'dbQueries'> {
    const stats = this.cache.stats()
    return {
      cacheHits: stats.hits + stats.staleHits,
      cacheMisses: stats.misses,
      cacheErrors: stats.errors,
      invalidations: stats.invalidations,
    }
  }
}

export function ratio(hits: number, misses: number): number {
  return hits + misses === 0 ? 0 : hits / (hits + misses)
}
