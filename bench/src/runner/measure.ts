import { setImmediate } from 'node:timers/promises'
import { type CpuReading, cpuSince, readCpu } from './cpu.js'
import type { Progress } from './progress.js'
import { median, percentile, Samples } from './stats.js'

/** One thing to measure: `run(i)` performs operation number i (cases cycle their keys with it). */
export interface Case {
  id: string
  label: string
  run(i: number): Promise<unknown>
  /** Read before and after each measured round; the result reports the per-operation increase. */
  counter?: () => number
}

export interface MeasureOptions {
  /** Callers issuing operations at once, each awaiting its previous operation. */
  concurrency: number
  warmupMs: number
  roundMs: number
  rounds: number
  /** Stops a round early after this many operations (keeps slow cases bounded in count too). */
  maxOpsPerRound?: number
  /** The warm-up runs at least this many operations, e.g. one pass over every key. */
  minWarmupOps?: number
  /**
   * Each caller yields to the event loop after every operation, like a server between requests.
   * Without it, callers whose operations complete without I/O (in-process cache hits) starve
   * the I/O of the others in a mixed workload.
   */
  yieldBetweenOps?: boolean
}

export interface RoundResult {
  ops: number
  ms: number
  opsPerSec: number
  p50: number
  p99: number
  /** Increase of the case's counter during the round. */
  counted: number
  /** CPU (µs) the round took in this process and in the Redis and PostgreSQL servers. */
  cpu: CpuReading
}

export interface CaseResult {
  id: string
  label: string
  concurrency: number
  /** Median over rounds. */
  opsPerSec: number
  /** ms; median over rounds of each round's percentile. */
  p50: number
  p99: number
  ops: number
  /** Counter increase per measured operation (NaN without a counter). */
  countedPerOp: number
  /** CPU µs per measured operation, over all rounds. */
  cpuPerOp: CpuReading
  rounds: RoundResult[]
}

/**
 * Measures every case with the same options, round-robin: after each case's warm-up, round r of
 * every case runs before round r + 1 of any, in an order that rotates per round. Background noise
 * on a shared machine then lands on all cases alike, so ratios between them stay meaningful.
 *
 * No forced garbage collection between rounds. A `gc()` before each round made that whole round
 * slower for every case: in the TypeORM Zipf loop, 4,000 operations after it cost ~360 µs of
 * process CPU each instead of ~210 (uncached and cached alike, and still ~300 after 400 unmeasured
 * operations), a state no long-running server is in, and one that compressed every ratio towards
 * 1. Garbage a case leaves is collected during the rounds that follow it, and the rotating order
 * spreads that over every case.
 */
export async function measureInterleaved(
  cases: readonly Case[],
  options: MeasureOptions,
  progress: Progress,
): Promise<CaseResult[]> {
  for (const c of cases) {
    progress.step(`warm-up ${c.label} (c=${options.concurrency})`)
    await runRound(c, options, options.warmupMs, undefined, { next: 0 }, options.minWarmupOps)
  }
  const rounds = new Map<string, RoundResult[]>(cases.map((c) => [c.id, []]))
  const counters = new Map(cases.map((c) => [c.id, { next: 0 }]))
  for (let r = 0; r < options.rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + r) % cases.length]!
      const result = await runRound(c, options, options.roundMs, options.maxOpsPerRound, counters.get(c.id)!)
      rounds.get(c.id)!.push(result)
      progress.step(
        `round ${r + 1}/${options.rounds} ${c.label} c=${options.concurrency}: ${formatRate(result.opsPerSec)} ops/s, p50 ${formatMs(result.p50)}, p99 ${formatMs(result.p99)}`,
      )
    }
  }
  return cases.map((c) => summarize(c, options.concurrency, rounds.get(c.id)!))
}

/**
 * How many times faster `subject` ran than `base`, as the median over rounds of each round's
 * ratio. With rounds capped at a number of operations, round r of every case runs the same slice
 * of the sequence, back to back in the rotating order: each ratio compares the same work under
 * nearly the same conditions. A ratio of the cases' median rounds could pair different slices and
 * different moments (one case's slow round against another's fast one).
 */
export function pairedSpeedUp(subject: CaseResult, base: CaseResult): number {
  const n = Math.min(subject.rounds.length, base.rounds.length)
  const ratios: number[] = []
  for (let r = 0; r < n; r++) ratios.push(subject.rounds[r]!.opsPerSec / base.rounds[r]!.opsPerSec)
  return median(ratios)
}

function summarize(c: Case, concurrency: number, rounds: RoundResult[]): CaseResult {
  const ops = rounds.reduce((sum, r) => sum + r.ops, 0)
  return {
    id: c.id,
    label: c.label,
    concurrency,
    opsPerSec: median(rounds.map((r) => r.opsPerSec)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    ops,
    countedPerOp: c.counter === undefined ? Number.NaN : rounds.reduce((sum, r) => sum + r.counted, 0) / ops,
    cpuPerOp: {
      client: rounds.reduce((sum, r) => sum + r.cpu.client, 0) / ops,
      redis: rounds.reduce((sum, r) => sum + r.cpu.redis, 0) / ops,
      postgres: rounds.reduce((sum, r) => sum + r.cpu.postgres, 0) / ops,
    },
    rounds,
  }
}

async function runRound(
  c: Case,
  { concurrency, yieldBetweenOps }: MeasureOptions,
  durationMs: number,
  maxOps: number | undefined,
  counter: { next: number },
  minOps = 0,
): Promise<RoundResult> {
  const samples = new Samples()
  const limit = maxOps ?? Number.POSITIVE_INFINITY
  let done = 0
  let begun = 0
  let failure: unknown
  const countedBefore = c.counter?.() ?? 0
  const cpuBefore = readCpu()
  const started = performance.now()
  const deadline = started + durationMs
  const worker = async (): Promise<void> => {
    // Counting operations begun (not finished) keeps a capped round at exactly `maxOps`.
    while (failure === undefined && begun < limit && (performance.now() < deadline || begun < minOps)) {
      begun++
      const i = counter.next++
      const t0 = performance.now()
      try {
        await c.run(i)
      } catch (error) {
        failure ??= error
        return
      }
      samples.add(performance.now() - t0)
      done++
      if (yieldBetweenOps) await setImmediate()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  if (failure !== undefined) {
    throw new Error(`${c.label}: operation failed: ${describe(failure)}`, { cause: failure })
  }
  const ms = performance.now() - started
  const cpu = cpuSince(cpuBefore)
  const sorted = samples.sorted()
  return {
    ops: done,
    ms,
    opsPerSec: done / (ms / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    counted: (c.counter?.() ?? 0) - countedBefore,
    cpu,
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export function formatRate(opsPerSec: number): string {
  if (!Number.isFinite(opsPerSec)) return '–'
  return Math.round(opsPerSec).toLocaleString('en-US')
}

/** ms → "3.2 µs", "0.41 ms", "12 ms". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–'
  if (ms < 0.1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 1)} µs`
  if (ms < 10) return `${ms.toFixed(2)} ms`
  return `${ms.toFixed(0)} ms`
}
