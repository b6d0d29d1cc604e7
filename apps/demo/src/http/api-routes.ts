import type { Cache } from '@ormcache/core'
import type { FastifyInstance } from 'fastify'
import { ORMS, type OrmName } from '../blog/types.js'
import type { DemoMetrics } from '../metrics/demo-metrics.js'
import { DEFAULT_PLAN, type ScenarioPlan } from '../scenario/homepage.js'
import type { ScenarioRunner } from '../scenario/scenario-runner.js'
import type { ViewCounter } from '../strategies/view-counter.js'
import { scenarioBody } from './schemas.js'

export interface DemoInfo {
  database: string
  dialect: string
  store: string
  storeKind: string
  namespace: string
  startedAt: number
}

export interface ApiRouteDeps {
  info: DemoInfo
  metrics: DemoMetrics
  caches: Record<OrmName, Cache>
  views: ViewCounter
  scenario: ScenarioRunner
}

interface ScenarioRequest {
  orm?: OrmName | 'both'
  cache?: 'off' | 'on' | 'both'
  requests?: number
  concurrency?: number
}

/** Everything the dashboard shows: polled from /api/metrics, and inlined in the page's first paint. */
export async function dashboardSnapshot(deps: ApiRouteDeps) {
  return {
    ...deps.metrics.snapshot(),
    info: deps.info,
    writeBehind: await deps.views.stats(),
    scenario: deps.scenario.snapshot(),
  }
}

/** What the dashboard polls and the buttons it has. */
export function apiRoutes(deps: ApiRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get('/metrics', () => dashboardSnapshot(deps))

    app.post('/metrics/reset', async (_request, reply) => {
      deps.metrics.reset()
      return reply.status(204).send()
    })

    // A cold cache for both ORMs: they share the namespace, so one clear is enough.
    app.post('/cache/clear', async (_request, reply) => {
      await deps.caches.prisma.clear()
      return reply.status(204).send()
    })

    app.get('/scenario', async () => deps.scenario.snapshot())

    app.post('/scenario', { schema: { body: scenarioBody } }, async (request, reply) => {
      const input = (request.body ?? {}) as ScenarioRequest
      const plan: ScenarioPlan = {
        orms: input.orm === undefined || input.orm === 'both' ? [...ORMS] : [input.orm],
        modes: input.cache === undefined || input.cache === 'both' ? ['off', 'on'] : [input.cache],
        requests: input.requests ?? 2_000,
        concurrency: input.concurrency ?? DEFAULT_PLAN.concurrency,
      }
      deps.scenario.start(plan)
      return reply.status(202).send({ started: plan })
    })
  }
}
