import { setImmediate } from 'node:timers/promises'
import { removeRunKeys } from '../cleanup.js'
import { shortNamespace } from '../config.js'
import { postsOf, prepareDatabase, teamOf, USERS } from '../db/schema.js'
import type { Chart, ScenarioReport, Table } from '../report/types.js'
import {
  type Case,
  type CaseResult,
  formatMs,
  formatRate,
  measureInterleaved,
  pairedSpeedUp,
} from '../runner/measure.js'
import { seededRandom, zipf } from '../runner/random.js'
import type { OrmSubject, OrmSubjectFactory } from '../subjects/orm.js'
import { PRISMA_SUBJECTS } from '../subjects/prisma.js'
import { requireServices } from '../subjects/requirements.js'
import { TYPEORM_SUBJECTS } from '../subjects/typeorm.js'
import { teamRows, teamVersions } from './rows.js'
import { StalenessChecker } from './staleness-checker.js'
import type { Scenario, ScenarioContext } from './types.js'

const CONCURRENCY = 16
const ZIPF_S = 0.99
/** The read-heavy mix, and a write-heavy one that shows precision under frequent writes. */
const MIXES = [
  { id: 'read-heavy', readShare: 0.95 },
  { id: 'write-heavy', readShare: 0.8 },
] as const
type Mix = (typeof MIXES)[number]

type Op =
  | { kind: 'find-user'; id: number }
  | { kind: 'find-team'; id: number }
  | { kind: 'update-user'; id: number }
  | { kind: 'update-post'; id: number }

/** `readShare` reads (70 % by id, 30 % team lists), the rest writes (half users, half posts), Zipf over users. */
function operations(seed: number, count: number, readShare: number): Op[] {
  const random = seededRandom(seed)
  const user = zipf(USERS, ZIPF_S, random)
  return Array.from({ length: count }, (): Op => {
    const read = random() < readShare
    const u = user()
    const pick = random()
    if (read) return pick < 0.7 ? { kind: 'find-user', id: u } : { kind: 'find-team', id: teamOf(u) }
    if (pick < 0.5) return { kind: 'update-user', id: u }
    const posts = postsOf(u)
    return { kind: 'update-post', id: posts[Math.floor(random() * posts.length)]! }
  })
}

async function execute(subject: OrmSubject, op: Op, checker: StalenessChecker): Promise<void> {
  switch (op.kind) {
    case 'find-user': {
      const rows = [`user:${op.id}`]
      const required = checker.required(rows)
      const user = await subject.findUser(op.id)
      if (user === null) throw new Error(`${subject.label}: user ${op.id} not found`)
      checker.check(rows, required, [user.version])
      return
    }
    case 'find-team': {
      const rows = teamRows(op.id)
      const required = checker.required(rows)
      checker.check(rows, required, teamVersions(op.id, await subject.findTeam(op.id)))
      return
    }
    case 'update-user':
      checker.finishedWrite(`user:${op.id}`, await subject.updateUser(op.id))
      return
    case 'update-post':
      checker.finishedWrite(`post:${op.id}`, await subject.updatePost(op.id))
  }
}

interface Measured {
  subject: OrmSubject
  result: CaseResult
  checker: StalenessChecker
}

async function runOrm(
  factories: readonly OrmSubjectFactory[],
  databaseUrl: string,
  ctx: ScenarioContext,
  sizes: { warmup: number; perRound: number; rounds: number },
  mix: Mix,
): Promise<Measured[]> {
  const subjects: OrmSubject[] = []
  try {
    for (const factory of factories) {
      ctx.progress.step(`connect ${factory.label} (${mix.id})`)
      subjects.push(await factory.create(shortNamespace(ctx.prefix), databaseUrl))
    }
    const warmup = operations(7, sizes.warmup, mix.readShare)
    const measured = operations(42, sizes.perRound * sizes.rounds, mix.readShare)
    const checkers = new Map(subjects.map((s) => [s.id, new StalenessChecker()]))
    for (const subject of subjects) {
      ctx.progress.step(`warm-up ${subject.label}: ${warmup.length} operations`)
      const checker = new StalenessChecker()
      let next = 0
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < warmup.length) {
            await execute(subject, warmup[next++]!, checker)
            await setImmediate()
          }
        }),
      )
    }
    const cases: Case[] = subjects.map((subject) => ({
      id: subject.id,
      label: subject.label,
      run: (i) => execute(subject, measured[i % measured.length]!, checkers.get(subject.id)!),
      counter: () => subject.queries.reads,
    }))
    const results = await measureInterleaved(
      cases,
      {
        concurrency: CONCURRENCY,
        warmupMs: 0,
        roundMs: 300_000,
        rounds: sizes.rounds,
        maxOpsPerRound: sizes.perRound,
        yieldBetweenOps: true,
      },
      ctx.progress,
    )
    return subjects.map((subject) => ({
      subject,
      result: results.find((r) => r.id === subject.id)!,
      checker: checkers.get(subject.id)!,
    }))
  } finally {
    for (const subject of subjects) await subject.close().catch(() => {})
  }
}

export const zipfScenario: Scenario = {
  id: 'zipf',
  title: '6. Zipf workload through each ORM, read-heavy and write-heavy',
  async run(ctx) {
    const factories = [...PRISMA_SUBJECTS, ...TYPEORM_SUBJECTS]
    await requireServices(['postgres', ...factories.flatMap((f) => f.needs)])
    const sizes = ctx.quick
      ? { warmup: 300, perRound: 400, rounds: 2 }
      : { warmup: 3_000, perRound: 2_000, rounds: 6 }
    const results: MixResult[] = []
    for (const mix of MIXES) {
      // A fresh database per mix: the write-heavy run starts from the same rows.
      const database = await prepareDatabase()
      try {
        const prisma = await runOrm(PRISMA_SUBJECTS, database.url, ctx, sizes, mix)
        // Every group starts on a Redis holding none of the previous group's keys (main.ts).
        await removeRunKeys(ctx.prefix)
        const typeorm = await runOrm(TYPEORM_SUBJECTS, database.url, ctx, sizes, mix)
        await removeRunKeys(ctx.prefix)
        results.push({ mix, prisma, typeorm })
      } finally {
        await database.release()
      }
    }
    return report(results, sizes)
  },
}

interface MixResult {
  mix: Mix
  prisma: Measured[]
  typeorm: Measured[]
}

/** App, Redis and PostgreSQL CPU per operation (µs): what the box spends, whoever spends it. */
const totalCpu = (m: Measured): number =>
  m.result.cpuPerOp.client + m.result.cpuPerOp.redis + m.result.cpuPerOp.postgres

const percent = (share: number): string => `${Math.round(share * 100)}`
const mixLabel = (mix: Mix): string => `${percent(mix.readShare)}/${percent(1 - mix.readShare)}`

function report(
  results: MixResult[],
  sizes: { warmup: number; perRound: number; rounds: number },
): ScenarioReport {
  const table = (title: string, measured: Measured[]): Table => {
    const uncached = measured.find((m) => m.subject.library === 'uncached')!
    return {
      title,
      columns: [
        'library',
        'ops/s',
        'p50',
        'p99',
        'DB reads/op',
        'DB reads saved',
        'stale reads',
        'speed-up',
        'CPU µs/op: app · Redis · PG',
        'CPU/op vs uncached',
      ],
      rows: measured.map((m) => {
        const cpu = m.result.cpuPerOp
        return [
          m.subject.label,
          formatRate(m.result.opsPerSec),
          formatMs(m.result.p50),
          formatMs(m.result.p99),
          m.result.countedPerOp.toFixed(3),
          `${(100 * (1 - m.result.countedPerOp / uncached.result.countedPerOp)).toFixed(1)} %`,
          `${m.checker.staleReads} of ${m.checker.reads.toLocaleString('en-US')}`,
          `${pairedSpeedUp(m.result, uncached.result).toFixed(2)}×`,
          `${Math.round(cpu.client)} · ${Math.round(cpu.redis)} · ${Math.round(cpu.postgres)}`,
          `${(totalCpu(m) / totalCpu(uncached)).toFixed(2)}×`,
        ]
      }),
    }
  }
  const saved = (m: Measured, all: Measured[]): number => {
    const uncached = all.find((x) => x.subject.library === 'uncached')!
    return 100 * (1 - m.result.countedPerOp / uncached.result.countedPerOp)
  }
  const chart: Chart = {
    title: 'Zipf: share of database reads saved vs uncached (higher is better)',
    unit: '% saved',
    scale: 'linear',
    groups: results
      .flatMap((r) => [
        { label: `Prisma ${mixLabel(r.mix)}`, all: r.prisma },
        { label: `TypeORM ${mixLabel(r.mix)}`, all: r.typeorm },
      ])
      .map((g) => ({
        label: g.label,
        bars: g.all
          .filter((m) => m.subject.library !== 'uncached')
          .map((m) => ({ label: m.subject.label, value: saved(m, g.all), library: m.subject.library })),
      })),
  }
  return {
    id: 'zipf',
    title: '6. Zipf workload through each ORM, read-heavy and write-heavy',
    method:
      'One fixed sequence of operations (seeded) for every library, in two mixes: 95 % reads and 5 % writes ' +
      '(read-heavy), and 80 % reads and 20 % writes (write-heavy, where precise invalidation matters most). Reads ' +
      'are 70 % findUnique / findOneBy by id and 30 % the team list with posts; writes are half `version + 1` on a ' +
      'user, half on a post; ' +
      `users drawn from a Zipf distribution (s = ${ZIPF_S}) over 1,000 users. ${CONCURRENCY} concurrent callers; ` +
      `${sizes.warmup.toLocaleString('en-US')} warm-up operations from another sequence, then ${sizes.rounds} rounds ` +
      `of ${sizes.perRound.toLocaleString('en-US')} operations; round r of every library runs the same slice of ` +
      'the sequence, in an order that rotates per round. "ops/s", p50 and p99 are medians over rounds; ' +
      `"speed-up" is the median over rounds of the ratio to the uncached client's same round. "DB reads saved" ` +
      'compares SELECTs per operation with ' +
      'the uncached client of the same ORM on the same sequence; "stale reads" applies the staleness definition of ' +
      'scenario 5 to every read (the uncached rows show the check itself reports none). Each caller yields to the ' +
      'event loop between operations, as a server does between requests.',
    tables: results.flatMap((r) => [
      table(`Prisma, ${mixLabel(r.mix)} reads/writes`, r.prisma),
      table(`TypeORM, ${mixLabel(r.mix)} reads/writes`, r.typeorm),
    ]),
    chart,
    notes: [
      'Configurations as in scenarios 2 and 3. ormcache (memory store) is a single-process cache: its numbers are ' +
        'what one process sees; the Redis rows are what a fleet shares.',
      'Prisma batches concurrent findUnique calls into one query, so its uncached client sends fewer SELECTs than ' +
        'it serves reads; savings are measured against that.',
      'CPU µs/op: CPU time per operation of the bench process (every client of the run; the idle ones cost ' +
        'nearly nothing), of all redis-server processes and of all postgres processes, summed over the measured ' +
        'rounds (/proc, 10 ms ticks). On this 2-core box ops/s moves by up to ±30 % between runs; CPU per ' +
        'operation moves much less and is the steadier measure of what each library costs. "CPU/op vs uncached" ' +
        "is the sum of the three over the uncached client's (lower is cheaper).",
    ],
    data: Object.fromEntries(
      results.map((r) => [r.mix.id, { prisma: r.prisma.map(serialize), typeorm: r.typeorm.map(serialize) }]),
    ),
  }
}

function serialize(m: Measured) {
  return {
    id: m.subject.id,
    result: m.result,
    reads: m.checker.reads,
    staleReads: m.checker.staleReads,
    worstLag: m.checker.worstLag,
    writes: m.checker.writes,
  }
}
