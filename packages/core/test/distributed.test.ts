import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { connectRedis, redisUrl } from './support/services.js'

const here = dirname(fileURLToPath(import.meta.url))
const tsx = createRequire(import.meta.url).resolve('tsx')
const unique = () => `dist-${crypto.randomBytes(5).toString('hex')}`

let admin: Redis
beforeAll(async () => {
  admin = await connectRedis()
})
afterAll(() => admin?.disconnect())

/** A cache with its own Redis connection, as a separate process would have. */
function processCache(namespace: string, options: Parameters<typeof createCache>[0] = {}): Cache {
  return createCache({ store: redisStore({ url: redisUrl }), namespace, ...options })
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(10)
  }
}

describe('L1 coherence over the Redis invalidation bus', () => {
  it("evicts one process's L1 entry when another process invalidates (bounded mode)", async () => {
    const ns = unique()
    const a = processCache(ns, { l1: {}, consistency: 'bounded' })
    const b = processCache(ns, { l1: {}, consistency: 'bounded' })
    let db = 'v1'
    const read = (cache: Cache) => cache.wrapWithInfo('k', async () => db, { tags: ['t'] })
    // Wait until A's bus subscription is live (L1 refuses entries until then).
    await until(async () => {
      await read(a)
      return (await read(a)).info.tier === 'l1'
    })
    db = 'v2'
    await b.invalidateTags(['t'])
    await until(async () => (await read(a)).value === 'v2', 2_000)
    expect((await read(a)).value).toBe('v2')
    await Promise.all([a.close(), b.close()])
  })

  it('turns L1 off while the bus connection is down and back on after it reconnects', async () => {
    const ns = unique()
    const a = processCache(ns, { l1: {}, consistency: 'bounded' })
    const read = () => a.wrapWithInfo('k', async () => 'v', { tags: ['t'] })
    await until(async () => {
      await read()
      return (await read()).info.tier === 'l1'
    })
    await admin.client('KILL', 'TYPE', 'pubsub')
    await until(async () => (await read()).info.tier === 'l2', 2_000)
    await until(async () => (await read()).info.tier === 'l1', 5_000) // reconnected and re-subscribed
    await a.close()
  })
})

describe('stampede across processes', () => {
  it('4 processes × 250 concurrent wraps on one cold key run the loader once', async () => {
    const ns = unique()
    const workers = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--import', tsx, join(here, 'fixtures/stampede-worker.ts')], {
        env: { ...process.env, NAMESPACE: ns, CONCURRENCY: '250', LOAD_MS: '100', REDIS_URL: redisUrl },
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    )
    const lines = workers.map((worker) => {
      const collected: string[] = []
      let buffer = ''
      worker.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        const parts = buffer.split('\n')
        buffer = parts.pop()!
        collected.push(...parts)
      })
      return collected
    })
    await until(() => lines.every((l) => l.includes('ready')), 20_000)
    for (const worker of workers) worker.stdin!.write('go\n')
    const exits = await Promise.all(workers.map((w) => new Promise<number | null>((r) => w.once('exit', r))))
    expect(exits).toEqual([0, 0, 0, 0])
    const runs = Number(await admin.get(`${ns}:loader-runs`))
    const sources = lines.map((l) => JSON.parse(l.find((line) => line.startsWith('{'))!))
    console.log(`stampede: loader ran ${runs} time(s) for 1,000 reads in 4 processes`, sources)
    expect(runs).toBeGreaterThanOrEqual(1)
    expect(runs).toBeLessThanOrEqual(2)
    const total = sources.reduce((sum, s) => sum + Object.values<number>(s).reduce((a, b) => a + b, 0), 0)
    expect(total).toBe(1_000)
  }, 60_000)
})
