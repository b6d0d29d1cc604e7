import { shortNamespace } from '../config.js'
import { postsOf, prepareDatabase, USERS_PER_TEAM } from '../db/schema.js'
import type { Chart, ScenarioReport, Table } from '../report/types.js'
import { type Case, type CaseResult, formatMs, formatRate, measureInterleaved } from '../runner/measure.js'
import type { OrmSubject, OrmSubjectFactory } from '../subjects/orm.js'
import { requireServices } from '../subjects/requirements.js'
import { measureOptions, type ScenarioContext } from './types.js'

const KEYS = 100
export const AFTER_UPDATE =
  '"read after a concurrent update": the read is cached, then a write that changes its result runs ' +
  'concurrently with another read of it; the column says whether a read made after both finished returns the ' +
  'write (by id: the user row itself; the list: a post inside the included relation).'

/** A team (and its first user) the throughput loop also reads: its entries are warm. */
const PROBE_TEAM = 7
const CONCURRENCY = [1, 32] as const

interface Operation {
  id: string
  label: string
  run(subject: OrmSubject, i: number): Promise<unknown>
  /**
   * Caches the read, runs a write that changes its result concurrently with another read, then
   * reads once more after both finished: 'fresh' if that last read shows the write.
   */
  afterUpdate(subject: OrmSubject): Promise<'fresh' | 'stale'>
}

export interface OrmThroughputSpec {
  id: string
  title: string
  factories: readonly OrmSubjectFactory[]
  operations: readonly Operation[]
  method: string
  notes: string[]
}

export const findUserOperation = (label: string): Operation => ({
  id: 'find-user',
  label,
  run: (subject, i) => subject.findUser((i % KEYS) + 1),
  async afterUpdate(subject) {
    const id = PROBE_TEAM * USERS_PER_TEAM
    await subject.findUser(id)
    const [version] = await Promise.all([subject.updateUser(id), subject.findUser(id)])
    return (await subject.findUser(id))?.version === version ? 'fresh' : 'stale'
  },
})

/** The write changes a post that the team list includes (a relation), not the listed users. */
export const findTeamOperation = (label: string): Operation => ({
  id: 'find-team',
  label,
  run: (subject, i) => subject.findTeam((i % KEYS) + 1),
  async afterUpdate(subject) {
    const post = postsOf((PROBE_TEAM - 1) * USERS_PER_TEAM + 1)[0]!
    await subject.findTeam(PROBE_TEAM)
    const [version] = await Promise.all([subject.updatePost(post), subject.findTeam(PROBE_TEAM)])
    const after = (await subject.findTeam(PROBE_TEAM)).flatMap((u) => u.posts).find((p) => p.id === post)
    return after?.version === version ? 'fresh' : 'stale'
  },
})

/**
 * Cached reads through an ORM against uncached ones: each operation reads 100 different rows (or
 * team lists) in turn, so after the warm-up every cached library answers from its cache and the
 * uncached client from Postgres. "DB reads/op" shows whether a cache really answered.
 */
export async function runOrmThroughput(
  spec: OrmThroughputSpec,
  ctx: ScenarioContext,
): Promise<ScenarioReport> {
  await requireServices(['postgres', ...spec.factories.flatMap((f) => f.needs)])
  const database = await prepareDatabase()
  const subjects: OrmSubject[] = []
  try {
    for (const factory of spec.factories) {
      ctx.progress.step(`connect ${factory.label}`)
      subjects.push(await factory.create(shortNamespace(ctx.prefix), database.url))
    }
    const results = new Map<string, CaseResult[]>()
    for (const operation of spec.operations) {
      for (const concurrency of CONCURRENCY) {
        const cases: Case[] = subjects.map((subject) => ({
          id: subject.id,
          label: `${subject.label} ${operation.id}`,
          run: (i) => operation.run(subject, i),
          counter: () => subject.queries.reads,
        }))
        ctx.progress.step(`${operation.label}, ${concurrency} caller(s)`)
        results.set(
          `${operation.id}/${concurrency}`,
          await measureInterleaved(cases, measureOptions(ctx.timing, concurrency, KEYS), ctx.progress),
        )
      }
    }
    const verdicts = new Map<string, 'fresh' | 'stale'>()
    for (const operation of spec.operations) {
      for (const subject of subjects) {
        verdicts.set(`${operation.id}/${subject.id}`, await operation.afterUpdate(subject))
      }
    }
    return report(spec, subjects, results, verdicts)
  } finally {
    for (const subject of subjects) await subject.close().catch(() => {})
    await database.release()
  }
}

function report(
  spec: OrmThroughputSpec,
  subjects: OrmSubject[],
  results: Map<string, CaseResult[]>,
  verdicts: Map<string, 'fresh' | 'stale'>,
): ScenarioReport {
  const get = (operation: string, concurrency: number, id: string): CaseResult =>
    results.get(`${operation}/${concurrency}`)!.find((r) => r.id === id)!
  const uncached = subjects.find((s) => s.library === 'uncached')!
  const tables: Table[] = spec.operations.map((operation) => ({
    title: operation.label,
    columns: [
      'library',
      '1 caller ops/s',
      'p50',
      'p99',
      `${CONCURRENCY[1]} callers ops/s`,
      'p50',
      'p99',
      'speed-up (1)',
      `speed-up (${CONCURRENCY[1]})`,
      'DB reads/op',
      'read after a concurrent update',
    ],
    rows: subjects.map((s) => {
      const one = get(operation.id, 1, s.id)
      const many = get(operation.id, CONCURRENCY[1], s.id)
      const base1 = get(operation.id, 1, uncached.id)
      const baseMany = get(operation.id, CONCURRENCY[1], uncached.id)
      return [
        s.label,
        formatRate(one.opsPerSec),
        formatMs(one.p50),
        formatMs(one.p99),
        formatRate(many.opsPerSec),
        formatMs(many.p50),
        formatMs(many.p99),
        `${(one.opsPerSec / base1.opsPerSec).toFixed(1)}×`,
        `${(many.opsPerSec / baseMany.opsPerSec).toFixed(1)}×`,
        ((one.countedPerOp + many.countedPerOp) / 2).toFixed(2),
        verdicts.get(`${operation.id}/${s.id}`) === 'fresh' ? 'fresh' : '**stale**',
      ]
    }),
  }))
  const chart: Chart = {
    title: `${spec.title}: ops/s at ${CONCURRENCY[1]} callers (higher is better)`,
    unit: 'ops/s',
    scale: 'log',
    groups: spec.operations.map((operation) => ({
      label: operation.label,
      bars: subjects.map((s) => ({
        label: s.label,
        value: get(operation.id, CONCURRENCY[1], s.id).opsPerSec,
        library: s.library,
      })),
    })),
  }
  return {
    id: spec.id,
    title: spec.title,
    method: spec.method,
    tables,
    chart,
    notes: spec.notes,
    data: { results: Object.fromEntries(results), afterUpdate: Object.fromEntries(verdicts) },
  }
}
