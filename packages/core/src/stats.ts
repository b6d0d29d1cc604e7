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
  /**
   * Reads per model or table (as the adapter named it), so a user sees which models benefit from
   * the cache and which only pay for it. Reads made without a model (`cache.wrap` without
   * `model`) are counted only in the totals above.
   */
  models: Record<string, ModelStats>
}

export interface ModelStats {
  hits: number
  staleHits: number
  /** Misses, reads that shared another caller's load, bypasses and failed reads. */
  misses: number
  /** (hits + staleHits) / reads. */
  hitRatio: number
}

/** Beyond this many distinct models, reads are counted under OTHER_MODELS (a label must stay bounded). */
const MAX_MODELS = 256
export const OTHER_MODELS = '(other)'

type Counter = Exclude<keyof CacheStats, 'hitRatio' | 'loadLatency' | 'readLatency' | 'models'>
type ModelCounts = { hits: number; staleHits: number; misses: number }

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

  private readonly models = new Map<string, ModelCounts>()

  add(counter: Counter, amount = 1): void {
    this.counters[counter] += amount
  }

  /**
   * One finished read of `model`; `source` as in ReadInfo (or `error`). Returns the name it was
   * counted under, which metrics use as their (equally bounded) label.
   */
  addModelRead(model: string, source: string): string {
    let name = model
    let counts = this.models.get(model)
    if (counts === undefined) {
      if (this.models.size >= MAX_MODELS) name = OTHER_MODELS
      counts = this.models.get(name) ?? { hits: 0, staleHits: 0, misses: 0 }
      this.models.set(name, counts)
    }
    if (source === 'hit') counts.hits += 1
    else if (source === 'stale') counts.staleHits += 1
    else counts.misses += 1
    return name
  }

  snapshot(): CacheStats {
    const { hits, staleHits, misses } = this.counters
    const reads = hits + staleHits + misses
    return {
      ...this.counters,
      hitRatio: reads === 0 ? 0 : (hits + staleHits) / reads,
      loadLatency: this.loadLatency.summary(),
      readLatency: this.readLatency.summary(),
      models: this.modelSnapshot(),
    }
  }

  private modelSnapshot(): Record<string, ModelStats> {
    const out: Record<string, ModelStats> = {}
    for (const [model, { hits, staleHits, misses }] of this.models) {
      const reads = hits + staleHits + misses
      out[model] = { hits, staleHits, misses, hitRatio: reads === 0 ? 0 : (hits + staleHits) / reads }
    }
    return out
  }
}
