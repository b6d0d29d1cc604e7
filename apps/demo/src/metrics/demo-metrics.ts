import type { Cache } from '@ormcache/core'
import { Histogram } from '@ormcache/core'
import { ORMS, type OrmName } from '../blog/types.js'
import { type OrmCounters, OrmMetrics, type OrmSnapshot, ratio } from './orm-metrics.js'

/** One sampling window of the live charts: per ORM, what happened during that window. */
export interface TimelinePoint {
  /** Epoch ms at the end of the window. */
  t: number
  orms: Record<OrmName, WindowFigures>
}

export interface WindowFigures {
  requests: number
  dbQueries: number
  cacheHits: number
  cacheMisses: number
  /** Hit ratio within the window; null when the window had no cached read. */
  hitRatio: number | null
  p50: number
  p99: number
}

export interface InvalidationRecord {
  at: number
  orm: OrmName
  tags: readonly string[]
  everything: boolean
}

export interface ErrorRecord {
  at: number
  orm: OrmName
  code: string
  operation: string
  message: string
}

export interface MetricsSnapshot {
  orms: Record<OrmName, OrmSnapshot>
  total: OrmSnapshot
  timeline: TimelinePoint[]
  invalidations: InvalidationRecord[]
  errors: ErrorRecord[]
}

const TIMELINE_POINTS = 120
const RECENT = 25

/**
 * Everything the dashboard shows, for both ORMs and in total. Samples a timeline point every
 * `intervalMs` (the live charts) and keeps the latest invalidations and cache errors.
 */
export class DemoMetrics {
  readonly orms: Record<OrmName, OrmMetrics>
  private readonly totalLatency = new Histogram()
  private readonly timeline: TimelinePoint[] = []
  private readonly invalidations: InvalidationRecord[] = []
  private readonly errors: ErrorRecord[] = []
  private previous: Record<OrmName, OrmCounters>
  private readonly timer: NodeJS.Timeout
  private readonly unsubscribe: (() => void)[] = []

  constructor(caches: Record<OrmName, Cache>, intervalMs = 1_000) {
    this.orms = { prisma: new OrmMetrics(caches.prisma), typeorm: new OrmMetrics(caches.typeorm) }
    for (const orm of ORMS) {
      const cache = caches[orm]
      this.unsubscribe.push(
        cache.on('invalidate', ({ tags, everything }) =>
          keep(this.invalidations, { at: Date.now(), orm, tags: [...tags], everything }),
        ),
        cache.on('error', ({ error, operation }) =>
          keep(this.errors, { at: Date.now(), orm, code: error.code, operation, message: error.message }),
        ),
      )
    }
    this.previous = this.counters()
    this.timer = setInterval(() => this.sample(), intervalMs)
    this.timer.unref()
  }

  recordRequest(orm: OrmName, ms: number): void {
    this.orms[orm].recordRequest(ms)
    this.totalLatency.record(ms)
  }

  recordDbQuery(orm: OrmName): void {
    this.orms[orm].recordDbQuery()
  }

  snapshot(): MetricsSnapshot {
    const orms = { prisma: this.orms.prisma.snapshot(), typeorm: this.orms.typeorm.snapshot() }
    const sum = (field: keyof OrmCounters) => orms.prisma[field] + orms.typeorm[field]
    const total: OrmSnapshot = {
      requests: sum('requests'),
      dbQueries: sum('dbQueries'),
      cacheHits: sum('cacheHits'),
      cacheMisses: sum('cacheMisses'),
      cacheErrors: sum('cacheErrors'),
      invalidations: sum('invalidations'),
      hitRatio: ratio(sum('cacheHits'), sum('cacheMisses')),
      latency: {
        p50: this.totalLatency.percentile(50),
        p99: this.totalLatency.percentile(99),
        count: this.totalLatency.size,
      },
    }
    return {
      orms,
      total,
      timeline: [...this.timeline],
      invalidations: [...this.invalidations].reverse(),
      errors: [...this.errors].reverse(),
    }
  }

  /** Starts every counter and chart from zero; the caches themselves are untouched. */
  reset(): void {
    for (const orm of ORMS) this.orms[orm].reset()
    this.totalLatency.reset()
    this.timeline.length = 0
    this.invalidations.length = 0
    this.errors.length = 0
    this.previous = this.counters()
  }

  close(): void {
    clearInterval(this.timer)
    for (const off of this.unsubscribe) off()
  }

  /** Closes the current window: deltas since the last sample, and the window's latencies. */
  sample(): void {
    const now = this.counters()
    const figures = (orm: OrmName): WindowFigures => {
      const delta = (field: keyof OrmCounters) => now[orm][field] - this.previous[orm][field]
      const hits = delta('cacheHits')
      const misses = delta('cacheMisses')
      const window = this.orms[orm].windowLatency
      const point: WindowFigures = {
        requests: delta('requests'),
        dbQueries: delta('dbQueries'),
        cacheHits: hits,
        cacheMisses: misses,
        hitRatio: hits + misses === 0 ? null : hits / (hits + misses),
        p50: window.percentile(50),
        p99: window.percentile(99),
      }
      window.reset()
      return point
    }
    keep(
      this.timeline,
      { t: Date.now(), orms: { prisma: figures('prisma'), typeorm: figures('typeorm') } },
      TIMELINE_POINTS,
    )
    this.previous = now
  }

  private counters(): Record<OrmName, OrmCounters> {
    return { prisma: this.orms.prisma.counters(), typeorm: this.orms.typeorm.counters() }
  }
}

function keep<T>(list: T[], item: T, max = RECENT): void {
  list.push(item)
  if (list.length > max) list.splice(0, list.length - max)
}
