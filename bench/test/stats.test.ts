import { describe, expect, it } from 'vitest'
import { parseArgs, UsageError } from '../src/cli.js'
import { type CaseResult, pairedSpeedUp } from '../src/runner/measure.js'
import { seededRandom, zipf } from '../src/runner/random.js'
import { median, percentile, Samples } from '../src/runner/stats.js'

describe('pairedSpeedUp', () => {
  const result = (rates: number[]): CaseResult =>
    ({ rounds: rates.map((opsPerSec) => ({ opsPerSec })) }) as unknown as CaseResult

  it('takes the median of the per-round ratios, not the ratio of the medians', () => {
    // Rounds 1 and 2 ran 1.5x faster; the subject's third round met a background spike.
    const base = result([100, 300, 200])
    const subject = result([150, 450, 100])
    expect(pairedSpeedUp(subject, base)).toBe(1.5)
    expect(median([150, 450, 100]) / median([100, 300, 200])).toBe(0.75)
  })

  it('pairs only rounds both ran', () => {
    expect(pairedSpeedUp(result([200, 200]), result([100, 100, 1]))).toBe(2)
  })
})

describe('percentile and median', () => {
  it('uses the nearest rank', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(sorted, 50)).toBe(50)
    expect(percentile(sorted, 99)).toBe(99)
    expect(percentile(sorted, 100)).toBe(100)
    expect(percentile(Float64Array.of(7), 99)).toBe(7)
    expect(percentile(new Float64Array(0), 50)).toBeNaN()
  })

  it('takes the middle, or the mean of the two middles', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNaN()
  })

  it('keeps every sample when it grows', () => {
    const samples = new Samples()
    for (let i = 10_000; i > 0; i--) samples.add(i)
    const sorted = samples.sorted()
    expect(sorted.length).toBe(10_000)
    expect(sorted[0]).toBe(1)
    expect(sorted[9_999]).toBe(10_000)
  })
})

describe('seeded workload', () => {
  it('repeats the same sequence for the same seed', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    const c = seededRandom(43)
    const first = Array.from({ length: 5 }, a)
    expect(Array.from({ length: 5 }, b)).toEqual(first)
    expect(Array.from({ length: 5 }, c)).not.toEqual(first)
  })

  it('draws Zipf ranks in 1..n with rank 1 the most frequent', () => {
    const draw = zipf(1000, 0.99, seededRandom(1))
    const counts = new Map<number, number>()
    for (let i = 0; i < 20_000; i++) {
      const k = draw()
      counts.set(k, (counts.get(k) ?? 0) + 1)
    }
    expect(Math.min(...counts.keys())).toBeGreaterThanOrEqual(1)
    expect(Math.max(...counts.keys())).toBeLessThanOrEqual(1000)
    expect([...counts.keys()].every(Number.isInteger)).toBe(true)
    const top = counts.get(1)!
    expect(top).toBeGreaterThan(counts.get(2)!)
    expect(top).toBeGreaterThan(counts.get(100) ?? 0)
    // With s = 0.99 over 1,000 ranks, rank 1 takes roughly 13 % of draws.
    expect(top / 20_000).toBeGreaterThan(0.09)
    expect(top / 20_000).toBeLessThan(0.18)
  })
})

describe('command line', () => {
  it('parses the documented flags', () => {
    expect(parseArgs(['--quick', '--only', 'store,zipf', '--out=/tmp/x', '--rounds', '2'])).toMatchObject({
      quick: true,
      only: ['store', 'zipf'],
      out: '/tmp/x',
      rounds: 2,
    })
  })

  it('refuses unknown flags and bad numbers', () => {
    expect(() => parseArgs(['--fast'])).toThrow(UsageError)
    expect(() => parseArgs(['--rounds', '0'])).toThrow(UsageError)
    expect(() => parseArgs(['--only'])).toThrow(UsageError)
  })
})
