import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ORMS, type OrmName } from '../src/blog/types.js'
import { parseLoadArgs, UsageError } from '../src/load/args.js'
import { demoProcessEnv, LOAD_RUN_TTL_MS } from '../src/load/demo-process.js'
import {
  estimateLine,
  estimateWindow,
  finishedLine,
  progressLine,
  refinedEstimateLine,
  resultTable,
  summary,
} from '../src/load/report.js'
import { assertLoopback, runHomepageScenario, type ScenarioRun } from '../src/scenario/homepage.js'
import { removeTempDirs, startTestDemo, type TestDemo } from './support/demo.js'

let demo: TestDemo
let baseUrl: string
const perHomepage: Partial<Record<OrmName, number>> = {}
/**
 * Cached ORM reads per homepage: 5 queries, though TypeORM's paginated join is two statements, each
 * cached. A cold homepage counts more: Prisma assembles a missed include from a parent and a child
 * read, each counted as its own read.
 */
const readsPerHomepage: Partial<Record<OrmName, { cold: number; warm: number }>> = {}

beforeAll(async () => {
  demo = await startTestDemo()
  baseUrl = await demo.listen()
  for (const orm of ORMS) {
    perHomepage[orm] = (await demo.get(`/${orm}/home?cache=off`)).dbQueries
    const reads = async () => {
      const before = demo.metrics.orms[orm].counters()
      await demo.get(`/${orm}/home`)
      const after = demo.metrics.orms[orm].counters()
      return after.cacheHits + after.cacheMisses - before.cacheHits - before.cacheMisses
    }
    readsPerHomepage[orm] = { cold: await reads(), warm: await reads() }
  }
})

afterAll(async () => {
  await demo?.close()
  removeTempDirs()
})

describe('the homepage scenario at small scale (300 requests, concurrency 25)', () => {
  let runs: ScenarioRun[]
  const progress: { run: number; done: number }[] = []

  beforeAll(async () => {
    runs = await runHomepageScenario(
      baseUrl,
      { orms: [...ORMS], modes: ['off', 'on'], requests: 300, concurrency: 25 },
      (p) => progress.push({ run: p.run, done: p.done }),
    )
  })

  it('runs every ORM with the cache off, then on, and every request succeeds', () => {
    expect(runs.map((r) => `${r.orm}/${r.cache}`)).toEqual([
      'prisma/off',
      'prisma/on',
      'typeorm/off',
      'typeorm/on',
    ])
    for (const run of runs) expect(run).toMatchObject({ requests: 300, ok: 300, failed: 0, concurrency: 25 })
  })

  it.each(ORMS)('%s, cache off: every homepage goes to the database', (orm) => {
    const off = runs.find((r) => r.orm === orm && r.cache === 'off')!
    expect(off.dbQueries).toBe(300 * perHomepage[orm]!)
    expect(off.cacheHits).toBe(0)
    expect(off.hitRatio).toBe(0)
  })

  it.each(ORMS)('%s, cache on: starting cold, the database sees one homepage worth of queries', (orm) => {
    const on = runs.find((r) => r.orm === orm && r.cache === 'on')!
    expect(on.dbQueries).toBe(perHomepage[orm])
    expect(on.cacheHits).toBeGreaterThan(0)
    // The cold reads that waited on the first load count as misses; only the one load that ran
    // counts the parts it was assembled from.
    const { cold, warm } = readsPerHomepage[orm]!
    expect(on.cacheHits + on.cacheMisses).toBe(cold + 299 * warm)
    expect(on.hitRatio).toBeGreaterThan(0.8)
  })

  it('repeats its database query counts run after run (issue 14: 14 and 12 instead of 7 and 6)', async () => {
    const again = await runHomepageScenario(baseUrl, {
      orms: [...ORMS],
      modes: ['off', 'on'],
      requests: 300,
      concurrency: 25,
    })
    const counts = (rows: ScenarioRun[]) => rows.map((r) => `${r.orm}/${r.cache}: ${r.dbQueries}`)
    expect(counts(again)).toEqual(counts(runs))
    expect(again.every((r) => r.failed === 0)).toBe(true)
  })

  it('reports latency percentiles and throughput for each run', () => {
    for (const run of runs) {
      expect(run.p50).toBeGreaterThan(0)
      expect(run.p99).toBeGreaterThanOrEqual(run.p50)
      expect(run.rps).toBeGreaterThan(0)
      expect(run.seconds).toBeGreaterThan(0)
    }
  })

  it('reports progress from 0 to the end of each run', () => {
    for (let run = 1; run <= 4; run++) {
      const mine = progress.filter((p) => p.run === run).map((p) => p.done)
      expect(mine[0]).toBe(0)
      expect(mine.at(-1)).toBe(300)
      expect([...mine].sort((a, b) => a - b)).toEqual(mine)
    }
  })

  it('prints a table and a summary with the database queries off vs on', () => {
    const table = resultTable(runs).split('\n')
    expect(table[0]).toMatch(
      /^ORM\s+cache\s+requests\s+DB queries\s+hit ratio\s+req\/s\s+p50 ms\s+p99 ms\s+failed$/,
    )
    expect(table).toHaveLength(2 + runs.length)
    expect(table[2]).toMatch(
      new RegExp(`^prisma\\s+off\\s+300\\s+${(300 * perHomepage.prisma!).toLocaleString('en-US')}\\s+0\\.0%`),
    )
    expect(summary(runs)).toEqual([
      `prisma: 300 homepages cost the database ${perHomepage.prisma} queries with the cache on, ${(300 * perHomepage.prisma!).toLocaleString('en-US')} without (300x fewer).`,
      `typeorm: 300 homepages cost the database ${perHomepage.typeorm} queries with the cache on, ${(300 * perHomepage.typeorm!).toLocaleString('en-US')} without (300x fewer).`,
    ])
  })
})

describe('the dashboard scenario endpoint', () => {
  it('runs in the background, shows progress, and refuses a second run meanwhile', async () => {
    const started = await demo.call('POST', '/api/scenario', {
      orm: 'typeorm',
      cache: 'both',
      requests: 120,
      concurrency: 10,
    })
    expect(started.status).toBe(202)
    expect(started.json.started).toEqual({
      orms: ['typeorm'],
      modes: ['off', 'on'],
      requests: 120,
      concurrency: 10,
    })
    const second = await demo.call('POST', '/api/scenario', {})
    expect(second.status).toBe(409)
    expect(second.json.error.code).toBe('CONFLICT')

    await demo.scenario.idle()
    const state = (await demo.get('/api/metrics')).json.scenario
    expect(state.running).toBe(false)
    expect(state.error).toBeUndefined()
    expect(state.results.map((r: ScenarioRun) => [r.orm, r.cache, r.ok])).toEqual([
      ['typeorm', 'off', 120],
      ['typeorm', 'on', 120],
    ])
    expect(state.results[0].dbQueries).toBe(120 * perHomepage.typeorm!)
    expect(state.results[1].dbQueries).toBe(perHomepage.typeorm)
  })

  it.each([
    [{ requests: 0 }, 'body/requests must be >= 1'],
    [{ requests: 10_001 }, 'body/requests must be <= 10000'],
    [{ orm: 'sequelize' }, 'body/orm must be equal to one of the allowed values'],
    [{ concurrency: 2.5 }, 'body/concurrency must be integer'],
  ])('refuses %j: %s', async (body, message) => {
    const reply = await demo.call('POST', '/api/scenario', body)
    expect(reply.status).toBe(400)
    expect(reply.json.error.message).toBe(message)
  })

  it('the live timeline samples requests, database queries and cache hits per ORM', async () => {
    demo.metrics.reset()
    await demo.get('/prisma/home?cache=off')
    for (let i = 0; i < 3; i++) await demo.get('/typeorm/home')
    demo.metrics.sample()
    const metrics = (await demo.get('/api/metrics')).json
    const point = metrics.timeline.at(-1)
    expect(point.orms.prisma).toMatchObject({ requests: 1, dbQueries: perHomepage.prisma, cacheHits: 0 })
    expect(point.orms.typeorm.requests).toBe(3)
    expect(point.orms.typeorm.cacheHits).toBeGreaterThanOrEqual(10)
    expect(metrics.total.requests).toBe(4)
    expect(metrics.info).toMatchObject({ dialect: 'sqlite', storeKind: 'memory' })
    await sleep(0)
  })
})

describe('the demo:load command line', () => {
  it('parses its options', () => {
    expect(parseLoadArgs([])).toEqual({
      plan: { orms: ['prisma', 'typeorm'], modes: ['off', 'on'], requests: 2_000, concurrency: 50 },
      url: undefined,
    })
    expect(
      parseLoadArgs([
        '--requests',
        '500',
        '--concurrency=8',
        '--orm',
        'typeorm',
        '--cache',
        'on',
        '--url',
        'http://127.0.0.1:3000/',
      ]),
    ).toEqual({
      plan: { orms: ['typeorm'], modes: ['on'], requests: 500, concurrency: 8 },
      url: 'http://127.0.0.1:3000',
    })
  })

  it.each([
    [['--requests', '0'], '--requests must be an integer from 1 to 100000, not "0"'],
    [['--orm', 'drizzle'], '--orm must be prisma, typeorm or both, not "drizzle"'],
    [['--fast'], 'unknown argument "--fast"'],
    [['--requests'], '--requests needs a value'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseLoadArgs(argv)).toThrow(new UsageError(message))
  })

  it('gives the demo it starts a TTL longer than any run, unless one was chosen', () => {
    const env = demoProcessEnv({ DATABASE_URL: 'file:x.db', PORT: '3000' })
    expect(env).toMatchObject({ CACHE_TTL_MS: String(LOAD_RUN_TTL_MS), DATABASE_URL: 'file:x.db', PORT: '0' })
    // Entries are filled at the start of a cache-on run (the cache is cleared before it), so the
    // TTL must outlast one cache-on run: the largest (100,000 requests) at the slowest cache-on
    // pace in the README (286 req/s) takes ~6 min.
    expect(LOAD_RUN_TTL_MS).toBeGreaterThan((100_000 / 286) * 1000)
    expect(demoProcessEnv({ CACHE_TTL_MS: '5000' }).CACHE_TTL_MS).toBe('5000')
  })

  it('only ever targets this machine', () => {
    expect(() => assertLoopback('http://example.com:3000')).toThrow(/only targets this machine/)
    expect(() => assertLoopback('http://10.0.0.5:3000')).toThrow(/only targets this machine/)
    expect(() => assertLoopback('http://127.0.0.1:3000')).not.toThrow()
    expect(() => assertLoopback('http://localhost:3000')).not.toThrow()
  })

  it('draws a progress bar', () => {
    expect(
      progressLine({ run: 2, runs: 4, orm: 'prisma', cache: 'on', done: 5_000, total: 10_000 }, 10),
    ).toBe('[█████░░░░░]  50%  run 2/4 prisma, cache on  5,000/10,000')
  })

  it("prints an estimate from the first run's pace, bounding the whole scenario", () => {
    expect(estimateLine(100, 7_600, 4, 4)).toBe(
      'estimate: at most ~80 s for 4 runs (100 req/s with the cache off)',
    )
    expect(estimateLine(50, 7_800, 4, 4)).toBe(
      'estimate: at most ~2.7 min for 4 runs (50 req/s with the cache off)',
    )
    expect(estimateLine(200, 400, 0.5, 1, 'on')).toBe(
      'estimate: ~3 s for 1 run (200 req/s with the cache on)',
    )
  })

  it('measures the pace for the estimate past the cold start of the first run', () => {
    // The default 2,000 requests: from the 500th (25 %) to the 1,000th (50 %).
    expect(estimateWindow(2_000)).toEqual({ from: 500, to: 1_000 })
    expect(estimateWindow(200)).toEqual({ from: 50, to: 150 })
    // Too short to skip a cold start: the whole run.
    expect(estimateWindow(40)).toEqual({ from: 0, to: 40 })
    expect(refinedEstimateLine(4.52, 2)).toBe("estimate: ~10 s in all (the first ORM's runs took 4.5 s)")
    expect(finishedLine(16.43)).toBe('finished in 16.4 s')
    expect(finishedLine(150)).toBe('finished in 2.5 min')
  })
})
