import { setImmediate, setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { TTL_TEXT } from '../config.js'
import { prepareDatabase } from '../db/schema.js'
import type { Chart, ScenarioReport, Table } from '../report/types.js'
import { seededRandom } from '../runner/random.js'
import { KV_SUBJECTS, kvSubject, ORM_SUBJECTS, ormSubject } from '../subjects/registry.js'
import { requireServices } from '../subjects/requirements.js'
import { StalenessChecker } from './staleness-checker.js'
import { HOT_TEAMS, hotUsers, ITEMS, kvTarget, ormTarget, type Target } from './staleness-targets.js'
import type { Scenario, ScenarioContext } from './types.js'

/** Two cache instances per library sharing one store: two application processes. */
const NODES = 2
const READERS = 16
const WRITERS = 4
/** Longer than ormcache's bounded maxStaleness (1 s), far shorter than the TTL. */
const SETTLE_MS = 1_500
const settleFor = (ctx: ScenarioContext): number => (ctx.quick ? 1_100 : SETTLE_MS)

const KV_IDS = [
  'ioredis-floor',
  'ormcache-redis',
  'ormcache-memcached',
  'ormcache-l1-bounded',
  'ormcache-l1-strict',
  'bentocache-redis',
  'bentocache-tiered',
  'cache-manager-redis',
]
const ORM_IDS = [
  'prisma-ormcache-redis',
  'prisma-ormcache-redis-members',
  'prisma-extension-redis',
  'typeorm-ormcache-redis',
  'typeorm-ormcache-redis-members',
  'typeorm-builtin',
]

interface Row {
  id: string
  label: string
  library: string
  level: 'kv' | 'orm'
  reads: number
  staleReads: number
  worstLag: number
  writes: number
  checked: number
  stillStale: number
}

export const stalenessScenario: Scenario = {
  id: 'staleness',
  title: '5. Staleness under concurrent reads and writes',
  async run(ctx) {
    const kv = KV_IDS.map((id) => KV_SUBJECTS.find((f) => f.id === id)!)
    const orm = ORM_IDS.map((id) => ORM_SUBJECTS.find((f) => f.id === id)!)
    await requireServices(['postgres', ...kv.flatMap((f) => f.needs), ...orm.flatMap((f) => f.needs)])
    const durationMs = ctx.quick ? 1_000 : 10_000
    const settleMs = settleFor(ctx)
    const database = await prepareDatabase()
    const admin = new pg.Client({ connectionString: database.url })
    await admin.connect()
    const rows: Row[] = []
    const failures: string[] = []
    const measureLibrary = async (id: string, level: 'kv' | 'orm', prefix: string): Promise<Row> => {
      const nodes = async <T>(create: () => Promise<T>): Promise<T[]> => {
        const created: T[] = []
        for (let i = 0; i < NODES; i++) created.push(await create())
        return created
      }
      const target =
        level === 'kv'
          ? await kvTarget(await nodes(() => kvSubject(id).create(prefix)), database.url, admin)
          : await ormTarget(await nodes(() => ormSubject(id).create(prefix, database.url)), admin)
      try {
        const checker = await runWorkload(target, durationMs)
        await sleep(settleMs)
        const after = await target.stillStale()
        const factory = level === 'kv' ? kvSubject(id) : ormSubject(id)
        return {
          id,
          label: factory.label,
          library: factory.library,
          level,
          reads: checker.reads,
          staleReads: checker.staleReads,
          worstLag: checker.worstLag,
          writes: checker.writes,
          checked: after.checked,
          stillStale: after.stale,
        }
      } finally {
        await target.close()
      }
    }
    try {
      const subjects = [
        ...kv.map((f) => ({ factory: f, level: 'kv' as const })),
        ...orm.map((f) => ({ factory: f, level: 'orm' as const })),
      ]
      for (const { factory, level } of subjects) {
        try {
          const row = await measureLibrary(factory.id, level, `${ctx.prefix}.stale.${factory.id}`)
          rows.push(row)
          ctx.progress.step(
            `${factory.label}: ${row.staleReads} stale of ${row.reads} reads, ${row.stillStale} of ${row.checked} entries stale after writes stopped`,
          )
        } catch (error) {
          // One library failing must not discard the others' rows: record it and go on.
          const failure = error instanceof Error ? error.message : String(error)
          failures.push(`${factory.label}: ${failure}`)
          ctx.progress.step(`${factory.label} FAILED: ${failure}`)
        }
      }
    } finally {
      await admin.end()
      await database.release()
    }
    return { ...report(rows, durationMs, ctx), errors: failures }
  },
}

async function runWorkload(target: Target, durationMs: number): Promise<StalenessChecker> {
  const checker = new StalenessChecker()
  const deadline = performance.now() + durationMs
  const loop = async (seed: number, op: 'read' | 'write'): Promise<void> => {
    const random = seededRandom(seed)
    while (performance.now() < deadline) {
      const node = Math.floor(random() * NODES)
      if (op === 'read') {
        await target.read(node, random, checker)
        // A request boundary: readers served from an in-process tier would otherwise starve
        // the event loop, and with it the writers and the invalidation bus.
        await setImmediate()
      } else {
        await target.write(node, random, checker)
        await sleep(Math.floor(random() * 21))
      }
    }
  }
  await Promise.all([
    ...Array.from({ length: READERS }, (_, i) => loop(1_000 + i, 'read')),
    ...Array.from({ length: WRITERS }, (_, i) => loop(2_000 + i, 'write')),
  ])
  return checker
}

function report(rows: Row[], durationMs: number, ctx: ScenarioContext): ScenarioReport {
  const table = (level: 'kv' | 'orm', title: string): Table => ({
    title,
    columns: [
      'library',
      'reads',
      'stale reads',
      'stale %',
      'worst lag (versions)',
      'writes',
      'stale entries after writes stopped',
    ],
    rows: rows
      .filter((r) => r.level === level)
      .map((r) => [
        r.label,
        r.reads.toLocaleString('en-US'),
        r.staleReads.toLocaleString('en-US'),
        `${((100 * r.staleReads) / Math.max(1, r.reads)).toFixed(2)} %`,
        String(r.worstLag),
        r.writes.toLocaleString('en-US'),
        `${r.stillStale} of ${r.checked}`,
      ]),
  })
  const chart: Chart = {
    title: 'Staleness: share of reads that returned data older than a finished write (lower is better)',
    unit: '% stale',
    scale: 'linear',
    groups: [
      { label: 'Core level (bench_item rows)', level: 'kv' as const },
      { label: 'Through the ORM (users, posts, team lists)', level: 'orm' as const },
    ].map((g) => ({
      label: g.label,
      bars: rows
        .filter((r) => r.level === g.level)
        .map((r) => ({
          label: r.label,
          value: (100 * r.staleReads) / Math.max(1, r.reads),
          library: r.library,
        })),
    })),
  }
  return {
    id: 'staleness',
    title: '5. Staleness under concurrent reads and writes',
    method:
      `Each library runs as ${NODES} instances sharing one store (two application processes), with ${READERS} ` +
      `readers and ${WRITERS} writers (each pausing 0–20 ms between writes) for ${durationMs / 1000} s, every worker ` +
      'on a fixed random seed, so each library ' +
      'gets the same sequence of operations; readers yield to the event loop after each read (a request boundary). ' +
      'A write is `UPDATE … SET version = version + 1 RETURNING version` ' +
      "followed by the library's invalidation. A read is stale if it returns a version older than the last write " +
      'to that row that had finished (promise resolved, invalidation included) before the read began; a team read ' +
      'counts as stale if any of its 10 users or 50 posts is. After the writers stop and ' +
      `${settleFor(ctx) / 1000} s pass, every key is read through every instance and compared with Postgres.`,
    tables: [
      table(
        'kv',
        `Core level: ${ITEMS} hot rows, cache-aside with a 0–2 ms pause between the database read and the fill`,
      ),
      table(
        'orm',
        `Through the ORM: ${HOT_TEAMS} hot teams (${hotUsers} users, ${hotUsers * 5} posts), reads half by id, half team lists`,
      ),
    ],
    chart,
    notes: [
      'Invalidation after a write: ormcache `invalidateTags` (its ORM adapters do this themselves); bentocache ' +
        '`deleteByTag`; cache-manager and the floor delete the key; prisma-extension-redis `invalidateOnWrite` purges ' +
        "the written model's auto-cached keys (SCAN + UNLINK); TypeORM's built-in cache removes the cache ids the " +
        'application knows are affected (`queryResultCache.remove`), since TypeORM invalidates nothing by itself.',
      'prisma-extension-redis documents that cached results of other models embedding the written model via ' +
        'include/select are not invalidated: a post write leaves team lists (users include posts) stale until TTL.',
      'Each reader starts its next read when the previous one returns, so the read counts also compare ' +
        'throughput under write contention.',
      'ormcache L1 bounded may serve another instance’s pre-write value for up to `maxStaleness` (1 s) if a bus ' +
        'message is late; that is its documented contract, and such reads count as stale here.',
      `All libraries use the same ${TTL_TEXT} TTL: an entry still stale after ${settleFor(ctx) / 1000} s stays stale until it expires or its row is written again.`,
      ctx.quick
        ? 'Quick mode: 1 s of workload per library and 1.1 s to settle; rare races may not show.'
        : '',
    ].filter(Boolean),
    data: rows,
  }
}
