import { afterEach, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { Deadlines, storeDeadlines } from '../src/store/deadlines.js'
import { type OwnedServer, startOwnRedis, stopProcess } from './support/services.js'

/**
 * Store-call timeouts run on one shared timer (store/deadlines.ts) instead of a timer per call.
 * On a redis-server of this file's own, SIGSTOPped (connections stay open, nothing answers),
 * hits that take the plain hit read (per-tick batch) must still come back within the operation
 * budget, through the loader, and leave no deadline behind.
 */
const TIMEOUTS = { read: 100, write: 150, operation: 150 } as const
/** Absorbs a busy shared machine's timer lag; far below a stall that is never timed out (∞). */
const MARGIN_MS = 350

let server: OwnedServer | undefined
let cache: Cache | undefined
afterEach(async () => {
  if (server?.process.pid !== undefined && server.process.exitCode === null) server.process.kill('SIGCONT')
  await cache?.close().catch(() => {})
  cache = undefined
  await server?.stop()
  server = undefined
})

describe('shared deadlines', () => {
  it('fires each deadline at its own time, earliest first, and forgets cancelled ones', async () => {
    const deadlines = new Deadlines()
    const fired: string[] = []
    const started = performance.now()
    const at: Record<string, number> = {}
    const add = (name: string, ms: number) =>
      deadlines.add(ms, () => {
        fired.push(name)
        at[name] = performance.now() - started
      })
    add('late', 120)
    const cancelled = add('cancelled', 10)
    add('early', 30)
    add('middle', 60)
    deadlines.cancel(cancelled)
    deadlines.cancel(cancelled)
    expect(deadlines.size).toBe(3)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(fired).toEqual(['early', 'middle', 'late'])
    expect(at.early!).toBeGreaterThanOrEqual(29)
    expect(at.middle!).toBeGreaterThanOrEqual(59)
    expect(at.late!).toBeGreaterThanOrEqual(119)
    expect(deadlines.size).toBe(0)
  })
})

describe('a hit on a stalled Redis', () => {
  it('returns within the operation budget through the loader', async () => {
    const own = await startOwnRedis()
    server = own.server
    cache = createCache({
      store: redisStore({ url: own.url }),
      namespace: `stalled-hit-${process.pid}`,
      ttl: 60_000,
      timeouts: TIMEOUTS,
      circuitBreaker: { failureThreshold: 1_000, resetAfterMs: 60_000 },
    })
    const c = cache
    const tags = (id: number) => [`row:${id}`, 'table']
    for (let id = 0; id < 16; id++)
      await c.wrap(`k${id}`, async () => ({ id, cached: true }), { tags: tags(id) })
    // Twice more: the key is then expected to hit, so reads take the plain hit read.
    for (let round = 0; round < 2; round++)
      for (let id = 0; id < 16; id++) {
        const { info } = await c.wrapWithInfo(`k${id}`, async () => ({ id, cached: false }), {
          tags: tags(id),
        })
        expect(info).toMatchObject({ source: 'hit', tier: 'l2' })
      }

    await stopProcess(server.process.pid!)
    const started = performance.now()
    const reads = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const id = i % 16
        const { value, info } = await c.wrapWithInfo(`k${id}`, async () => ({ id, cached: false }), {
          tags: tags(id),
        })
        return { value, info, ms: performance.now() - started }
      }),
    )
    for (const read of reads) {
      expect(read.value.cached).toBe(false)
      expect(read.info.source).toBe('bypass')
      expect(read.ms).toBeLessThan(TIMEOUTS.operation + MARGIN_MS)
    }
    // Every timed-out call's deadline fired and left; nothing accumulates.
    expect(storeDeadlines.size).toBe(0)
  }, 20_000)
})
