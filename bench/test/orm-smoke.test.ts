import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunReport, ScenarioReport } from '../src/report/types.js'
import { runBench } from './support/run-bench.js'

/**
 * The ORM scenarios with tiny rounds, through the real adapters, Prisma, TypeORM, Postgres and
 * Redis: every library connects, answers from its cache after the warm-up, and the ormcache
 * rows read fresh data after a concurrent update. Nothing about speed is asserted.
 */
describe('npm run bench -- --quick --only prisma,typeorm', () => {
  let out: string
  let exit: { code: number | null; output: string }
  let run: RunReport

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'ormcache-bench-orm-'))
    exit = await runBench([
      '--quick',
      '--only',
      'prisma,typeorm',
      '--rounds',
      '1',
      '--round-ms',
      '30',
      '--warmup-ms',
      '10',
      '--out',
      out,
    ])
    run = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as RunReport
  }, 120_000)

  afterAll(async () => {
    await rm(out, { recursive: true, force: true })
  })

  it('exits 0 with both scenarios measured', () => {
    expect(run.failures, exit.output).toEqual([])
    expect(exit.code, exit.output).toBe(0)
    expect(run.scenarios.map((s) => s.id)).toEqual(['prisma', 'typeorm'])
  })

  for (const id of ['prisma', 'typeorm']) {
    it(`${id}: cached libraries send no SELECT after warm-up, the uncached one does`, () => {
      for (const table of scenario(id).tables) {
        const reads = table.columns.indexOf('DB reads/op')
        for (const row of table.rows) {
          const perOp = Number(row[reads])
          if (row[0]!.includes('uncached')) expect(perOp, `${table.title}: ${row[0]}`).toBeGreaterThan(0)
          else expect(perOp, `${table.title}: ${row[0]}`).toBe(0)
        }
      }
    })

    it(`${id}: ormcache reads fresh data after a concurrent update`, () => {
      for (const table of scenario(id).tables) {
        const verdict = table.columns.indexOf('read after a concurrent update')
        const rows = table.rows.filter((row) => row[0]!.includes('ormcache') || row[0]!.includes('uncached'))
        // uncached, memory store, Redis, Redis with member tags, strict L1 + Redis
        expect(rows).toHaveLength(5)
        for (const row of rows) expect(row[verdict], `${table.title}: ${row[0]}`).toBe('fresh')
      }
    })
  }

  it('writes one chart per scenario', async () => {
    for (const id of ['prisma', 'typeorm']) {
      expect((await readFile(join(out, `${id}.svg`), 'utf8')).startsWith('<svg')).toBe(true)
    }
  })

  function scenario(id: string): ScenarioReport {
    const found = run.scenarios.find((s) => s.id === id)
    if (found === undefined) throw new Error(`scenario ${id} missing from latest.json:\n${exit.output}`)
    return found
  }
})
