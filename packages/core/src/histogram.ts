/**
 * Fixed-memory latency histogram with logarithmic buckets (about 4% relative error), so
 * percentiles stay cheap no matter how many samples are recorded.
 */
const BUCKETS_PER_DOUBLING = 16
const MIN_MS = 0.0001
const BUCKET_COUNT = 16 * 40

export interface LatencySummary {
  count: number
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

export class Histogram {
  private readonly buckets = new Float64Array(BUCKET_COUNT)
  private count = 0
  private sum = 0
  private max = 0

  get size(): number {
    return this.count
  }

  record(ms: number): void {
    if (!(ms >= 0)) return
    const index =
      ms <= MIN_MS ? 0 : Math.min(BUCKET_COUNT - 1, Math.ceil(Math.log2(ms / MIN_MS) * BUCKETS_PER_DOUBLING))
    this.buckets[index]! += 1
    this.count += 1
    this.sum += ms
    if (ms > this.max) this.max = ms
  }

  percentile(p: number): number {
    if (this.count === 0) return 0
    const rank = Math.ceil((p / 100) * this.count)
    let seen = 0
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.buckets[i]!
      if (seen >= rank) return Math.min(this.max, MIN_MS * 2 ** (i / BUCKETS_PER_DOUBLING))
    }
    return this.max
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      mean: this.count === 0 ? 0 : this.sum / this.count,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.max,
    }
  }

  reset(): void {
    this.buckets.fill(0)
    this.count = 0
    this.sum = 0
    this.max = 0
  }
}
