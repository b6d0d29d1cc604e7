import type { OrmName } from '../blog/types.js'
import type { MetricsSnapshot } from '../metrics/demo-metrics.js'
import { sendLoad } from './load.js'

export type CacheSwitch = 'off' | 'on'

export interface ScenarioPlan {
  orms: OrmName[]
  modes: CacheSwitch[]
  requests: number
  concurrency: number
}

/** One row of the scenario's table. */
export interface ScenarioRun {
  orm: OrmName
  cache: CacheSwitch
  requests: number
  concurrency: number
  ok: number
  failed: number
  /** Statements the database executed during the run (from the app's own counters). */
  dbQueries: number
  cacheHits: number
  cacheMisses: number
  hitRatio: number
  seconds: number
  rps: number
  p50: number
  p99: number
}

export interface ScenarioProgress {
  run: number
  runs: number
  orm: OrmName
  cache: CacheSwitch
  done: number
  total: number
}

/**
 * 2,000 requests per run: four runs finish in about a minute on two cores (the cache-off runs
 * dominate), and each run stays far inside the cache TTL, so the counts repeat run to run.
 */
export const DEFAULT_PLAN: ScenarioPlan = {
  orms: ['prisma', 'typeorm'],
  modes: ['off', 'on'],
  requests: 2_000,
  concurrency: 50,
}

/** Only this machine: the scenario is a load generator and must never aim anywhere else. */
export function assertLoopback(baseUrl: string): void {
  const host = new URL(baseUrl).hostname
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    throw new Error(`the load scenario only targets this machine (127.0.0.1 / localhost / ::1), not ${host}`)
  }
}

/**
 * "2,000 users open the homepage": for each ORM, the same burst of homepage requests with the
 * cache off, then on. Before a cache-on run the cache is cleared, so it starts cold and
 * stampede protection is what keeps the database at one load per distinct query. Everything
 * goes over HTTP, so this runs the same against an in-process app or a running `npm run demo`.
 */
export async function runHomepageScenario(
  baseUrl: string,
  plan: ScenarioPlan,
  onProgress: (progress: ScenarioProgress) => void = () => {},
): Promise<ScenarioRun[]> {
  assertLoopback(baseUrl)
  const runs: ScenarioRun[] = []
  const total = plan.orms.length * plan.modes.length
  for (const orm of plan.orms) {
    for (const cache of plan.modes) {
      const position = { run: runs.length + 1, runs: total, orm, cache, total: plan.requests }
      if (cache === 'on') await post(baseUrl, '/api/cache/clear')
      const before = await metrics(baseUrl)
      onProgress({ ...position, done: 0 })
      const result = await sendLoad(`${baseUrl}/${orm}/home`, {
        requests: plan.requests,
        concurrency: plan.concurrency,
        headers: { 'x-ormcache': cache },
        onResponse: (done) => onProgress({ ...position, done }),
      })
      const after = await metrics(baseUrl)
      const delta = (field: 'dbQueries' | 'cacheHits' | 'cacheMisses') =>
        after.orms[orm][field] - before.orms[orm][field]
      const hits = delta('cacheHits')
      const misses = delta('cacheMisses')
      runs.push({
        orm,
        cache,
        requests: plan.requests,
        concurrency: plan.concurrency,
        ok: result.ok,
        failed: result.failed,
        dbQueries: delta('dbQueries'),
        cacheHits: hits,
        cacheMisses: misses,
        hitRatio: hits + misses === 0 ? 0 : hits / (hits + misses),
        seconds: result.seconds,
        rps: result.seconds === 0 ? 0 : plan.requests / result.seconds,
        p50: result.latency.percentile(50),
        p99: result.latency.percentile(99),
      })
    }
  }
  return runs
}

async function metrics(baseUrl: string): Promise<MetricsSnapshot> {
  const response = await fetch(`${baseUrl}/api/metrics`)
  if (!response.ok) throw new Error(`GET /api/metrics answered ${response.status}`)
  return (await response.json()) as MetricsSnapshot
}

async function post(baseUrl: string, path: string): Promise<void> {
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST' })
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}`)
}
