/** Percentile of an ascending-sorted sample by the nearest-rank method (p in 0..100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(sorted.length, rank) - 1]!
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Latencies in ms, recorded into a growable typed array so millions of samples stay cheap. */
export class Samples {
  private data = new Float64Array(4096)
  private size = 0

  get length(): number {
    return this.size
  }

  add(ms: number): void {
    if (this.size === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.size++] = ms
  }

  /** Sorted copy of the recorded samples. */
  sorted(): Float64Array {
    return this.data.slice(0, this.size).sort()
  }
}
