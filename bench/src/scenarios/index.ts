import { prismaScenario } from './prisma.js'
import { roundTripsScenario } from './round-trips.js'
import { stalenessScenario } from './staleness.js'
import { stampedeScenario } from './stampede.js'
import { storeHit } from './store-hit.js'
import { streamLagScenario } from './stream-lag.js'
import { tracingScenario } from './tracing.js'
import { typeormScenario } from './typeorm.js'
import type { Scenario } from './types.js'
import { zipfScenario } from './zipf.js'

/** In run order. */
export const SCENARIOS: readonly Scenario[] = [
  storeHit,
  prismaScenario,
  typeormScenario,
  stampedeScenario,
  stalenessScenario,
  zipfScenario,
  roundTripsScenario,
  tracingScenario,
  streamLagScenario,
]
