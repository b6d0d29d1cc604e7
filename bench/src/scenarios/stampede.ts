import { prepareDatabase, TEAMS } from '../db/schema.js'
import type { Chart, ScenarioReport, Table } from '../report/types.js'
import { formatMs } from '../runner/measure.js'
import { median, percentile } from '../runner/stats.js'
import { KV_SUBJECTS, ORM_SUBJECTS } from '../subjects/registry.js'
import { requireServices } from '../subjects/requirements.js'
import { WorkerPool } from '../workers/pool.js'
import type { FromWorker } from '../workers/protocol.js'
import type { Scenario, ScenarioContext } from './types.js'

const PROCESSES = 4
const READERS = 250
/** ms the core-level loader's query spends in Postgres: a cold key worth protecting. */
const QUERY_MS = 50

/** Shared-store subjects only: a per-process memory cache cannot protect the database fleet-wide. */
const KV_IDS = [
  'ioredis-floor',
  'ormcache-redis',
  'ormcache-memcached',
  'ormcache-l1-bounded',
  'bentocache-redis',
  'bentocache-tiered',
  'cache-manager-redis',
]
const ORM_IDS = [
  'prisma-uncached',
  'prisma-ormcache-redis',
  'prisma-extension-redis',
  'typeorm-uncached',
  'typeorm-ormcache-redis',
  'typeorm-builtin',
]

interface Row {
  id: string
  label: string
  library: string
  level: 'kv' | 'orm'
  /** Per round: SELECTs that reached Postgres, summed over processes. */
  queries: number[]
  latencies: number[]
  errors: number
  firstError?: string
  /** Set when the library could not be measured at all. */
  failure?: string
}

export const stampedeScenario: Scenario = {
  id: 'stampede',
  title: '4. Stampede on a cold key',
  async run(ctx) {
    const subjects = [
      ...KV_IDS.map((id) => ({ factory: KV_SUBJECTS.find((f) => f.id === id)!, level: 'kv' as const })),
      ...ORM_IDS.map((id) => ({ factory: ORM_SUBJECTS.find((f) => f.id === id)!, level: 'orm' as const })),
    ]
    await requireServices(['postgres', ...subjects.flatMap((s) => s.factory.needs)])
    const rounds = ctx.quick ? 1 : 3
    const database = await prepareDatabase()
    let pool = await WorkerPool.start(PROCESSES, ctx.prefix)
    const rows: Row[] = []
    try {
      for (const { factory, level } of subjects) {
        const row: Row = {
          id: factory.id,
          label: factory.label,
          library: factory.library,
          level,
          queries: [],
          latencies: [],
          errors: 0,
        }
        rows.push(row)
        try {
          for (let round = 0; round < rounds; round++) {
            // A fresh prefix per round makes the key cold in every process and in the store.
            const prefix = `${ctx.prefix}.st${round}.${factory.id}`
            const target = level === 'kv' ? 1 + round : TEAMS - round
            await pool.all(
              {
                type: 'prepare',
                subject: factory.id,
                level,
                prefix,
                databaseUrl: database.url,
                target,
                readers: READERS,
                queryMs: QUERY_MS,
              },
              120_000,
            )
            const replies = (await pool.all({ type: 'go' })) as Extract<FromWorker, { type: 'done' }>[]
            await pool.all({ type: 'release' })
            const queries = replies.reduce((sum, r) => sum + r.queries, 0)
            row.queries.push(queries)
            for (const r of replies) {
              row.latencies.push(...r.latencies)
              row.errors += r.errors
              row.firstError ??= r.firstError
            }
            ctx.progress.step(
              `${factory.label} round ${round + 1}/${rounds}: ${queries} database queries for ${PROCESSES * READERS} readers`,
            )
          }
        } catch (error) {
          // One library failing must not discard the others' rows: record it and go on.
          row.failure = error instanceof Error ? error.message : String(error)
          ctx.progress.step(`${factory.label} FAILED: ${row.failure}`)
          // Start over with fresh processes: a worker may have died with the failure.
          await pool.stop()
          pool = await WorkerPool.start(PROCESSES, ctx.prefix)
        }
      }
    } finally {
      await pool.stop()
      await database.release()
    }
    return report(rows, ctx)
  },
}

function report(rows: Row[], ctx: ScenarioContext): ScenarioReport {
  const table = (level: 'kv' | 'orm', title: string, unit: string): Table => ({
    title,
    columns: [
      'library',
      `DB queries (median of ${ctx.quick ? 1 : 3})`,
      'per round',
      'reader p50',
      'reader p99',
      'reader max',
      'errors',
    ],
    rows: rows
      .filter((r) => r.level === level)
      .map((r) => {
        if (r.failure !== undefined)
          return [r.label, `failed: ${r.failure.split('\n')[0]}`, '', '', '', '', '']
        const sorted = Float64Array.from(r.latencies).sort()
        return [
          r.label,
          `${median(r.queries)} ${unit}`,
          r.queries.join(', '),
          formatMs(percentile(sorted, 50)),
          formatMs(percentile(sorted, 99)),
          formatMs(sorted[sorted.length - 1] ?? Number.NaN),
          r.errors === 0 ? '0' : `${r.errors} (${r.firstError})`,
        ]
      }),
  })
  const chart: Chart = {
    title: `Stampede: database queries for ${PROCESSES} processes × ${READERS} readers of one cold key (lower is better)`,
    unit: 'queries',
    scale: 'log',
    groups: [
      { label: `Core level: one ${QUERY_MS} ms query per load`, level: 'kv' as const },
      { label: 'Through the ORM: findMany with include (Prisma: 2 SELECTs per load)', level: 'orm' as const },
    ].map((g) => ({
      label: g.label,
      bars: rows
        .filter((r) => r.level === g.level)
        .filter((r) => r.failure === undefined)
        .map((r) => ({ label: r.label, value: median(r.queries), library: r.library })),
    })),
  }
  return {
    id: 'stampede',
    title: '4. Stampede on a cold key',
    method:
      `${PROCESSES} worker processes each fire ${READERS} concurrent reads of the same cold key at the same moment ` +
      `(each process opens its connections first, then all start on one signal). Core level: the loader is a ` +
      `SELECT that spends ${QUERY_MS} ms in Postgres (pg_sleep), counted per execution. ORM level: ` +
      'findMany({ where: { teamId }, include: { posts } }) / find with relations, counted as SELECT statements ' +
      'the connection pools sent. Reader latency is from the signal to each read resolving.',
    tables: [
      table('kv', 'Core level (cache-aside around a 50 ms query)', 'loads'),
      table('orm', 'Through the ORM', 'SELECTs'),
    ],
    chart,
    notes: [
      'ormcache: single-flight per process plus a distributed lease in the store (SET NX PX / memcached add): one ' +
        'process loads, the others poll the store for its value (waiting up to 2 s by default).',
      'bentocache: in-process locking per key (async-mutex); no cross-process lock, so each process may load once.',
      'cache-manager 7: in-process coalescing of `wrap` calls per key; no cross-process coordination.',
      'prisma-extension-redis 5: in-process promise coalescing per key; TypeORM built-in cache: none.',
      'The floor (bare ioredis cache-aside) has no stampede control: every reader that misses loads.',
    ],
    // Summaries only: the raw latencies of every reader would make latest.json megabytes.
    data: rows.map(({ latencies, ...row }) => {
      const sorted = Float64Array.from(latencies).sort()
      return {
        ...row,
        readerP50: percentile(sorted, 50),
        readerP99: percentile(sorted, 99),
        readerMax: sorted[sorted.length - 1] ?? null,
      }
    }),
    errors: rows.filter((r) => r.failure !== undefined).map((r) => `${r.label}: ${r.failure}`),
  }
}
