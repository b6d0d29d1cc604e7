/** mulberry32: a small seeded PRNG, so every library gets the same sequence of operations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Draws 1..n with P(k) ∝ 1/k^s (s = 0.99 as in YCSB), by binary search over the CDF. */
export function zipf(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let k = 1; k <= n; k++) {
    sum += 1 / k ** s
    cdf[k - 1] = sum
  }
  for (let i = 0; i < n; i++) cdf[i]! /= sum
  return () => {
    const u = random()
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return lo + 1
  }
}
