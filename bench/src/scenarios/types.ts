import type { ScenarioReport } from '../report/types.js'
import type { MeasureOptions } from '../runner/measure.js'
import type { Progress } from '../runner/progress.js'

/** Timing of measured rounds, shared by every throughput scenario of one run. */
export interface Timing {
  warmupMs: number
  roundMs: number
  rounds: number
}

export interface ScenarioContext {
  quick: boolean
  timing: Timing
  progress: Progress
  /** Unique per run; every key written to a shared store starts with it. */
  prefix: string
}

export interface Scenario {
  id: string
  title: string
  run(ctx: ScenarioContext): Promise<ScenarioReport>
}

export const measureOptions = (timing: Timing, concurrency: number, minWarmupOps = 0): MeasureOptions => ({
  concurrency,
  minWarmupOps,
  warmupMs: timing.warmupMs,
  roundMs: timing.roundMs,
  rounds: timing.rounds,
})
