import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunReport } from '../src/report/types.js'
import { runBench } from './support/run-bench.js'

/**
 * Runs the real CLI (`--quick --only store` with tiny rounds) against the real Redis and
 * Memcached, so the suite cannot rot unnoticed: every library connects, primes, is measured,
 * and the result files come out with sane numbers. It asserts nothing about speed.
 */
describe('npm run bench -- --quick --only store', () => {
  let out: string
  let exit: { code: number | null; output: string }

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'ormcache-bench-'))
    exit = await runBench([
      '--quick',
      '--only',
      'store',
      '--rounds',
      '2',
      '--round-ms',
      '40',
      '--warmup-ms',
      '20',
      '--out',
      out,
    ])
  }, 120_000)

  afterAll(async () => {
    await rm(out, { recursive: true, force: true })
  })

  it('exits 0 and shows progress', () => {
    expect(exit.output).toContain('== 1. Store hit path')
    expect(exit.output).toMatch(/round 2\/2 ormcache \(Redis\) c=64/)
    expect(exit.code, exit.output).toBe(0)
  })

  it('writes latest.json with a finite, positive measurement for every library and both concurrencies', async () => {
    const run = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as RunReport
    expect(run.failures).toEqual([])
    expect(run.mode).toBe('quick')
    const store = run.scenarios.find((s) => s.id === 'store')!
    const data = store.data as Record<
      string,
      { id: string; opsPerSec: number; p50: number; p99: number; rounds: unknown[] }[]
    >
    expect(Object.keys(data).sort()).toEqual(['concurrency1', 'concurrency64'])
    for (const results of Object.values(data)) {
      expect(results.map((r) => r.id)).toEqual(
        expect.arrayContaining([
          'ioredis-floor',
          'memjs-floor',
          'ormcache-redis',
          'ormcache-memcached',
          'ormcache-l1-bounded',
          'ormcache-l1-strict',
          'bentocache-redis',
          'bentocache-tiered',
          'cache-manager-redis',
        ]),
      )
      for (const r of results) {
        expect(r.rounds).toHaveLength(2)
        expect(Number.isFinite(r.opsPerSec) && r.opsPerSec > 0, `${r.id} ops/s`).toBe(true)
        expect(r.p50, `${r.id} p50`).toBeGreaterThan(0)
        expect(r.p99, `${r.id} p99 ≥ p50`).toBeGreaterThanOrEqual(r.p50)
      }
    }
    // Every case measured hits only: a miss during measurement means a library was misconfigured.
    const table = store.tables[0]!
    const loaderRuns = table.columns.indexOf('loader runs')
    for (const row of table.rows) expect(row[loaderRuns], row[0]).toBe('0')
    expect(store.targets?.map((t) => t.name)).toHaveLength(4) // Redis at 1 and 64 callers, Memcached at 64, bounded L1
  })

  it('writes latest.md with the table and an SVG chart it links to', async () => {
    const markdown = await readFile(join(out, 'latest.md'), 'utf8')
    expect(markdown).toContain('## 1. Store hit path')
    expect(markdown).toContain('| ormcache (Redis) |')
    expect(markdown).toContain('![1. Store hit path](store.svg)')
    const svg = await readFile(join(out, 'store.svg'), 'utf8')
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('bentocache (Redis)')
    expect(svg.match(/<rect /g)?.length).toBeGreaterThan(20)
  })
})
