import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { FaultyStore } from './support/faulty-store.js'
import { freePort, type OwnedServer, redisAnswers, startServer } from './support/services.js'

/**
 * Kills a real Redis (SIGKILL) while reads and writes flow, then restarts it from its
 * append-only file, so entries and tag versions written before the outage come back: the hard
 * case, where an invalidation that failed during the outage must not leave a servable entry.
 */
describe('store outage while traffic flows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ormcache-outage-'))
  let server: OwnedServer | undefined
  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  /** A Redis that writes every command to its append-only file, so a restart brings data back. */
  const startPersistentRedis = (port: number) =>
    startServer(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
      ],
      port,
      () => redisAnswers('127.0.0.1', port),
    )

  it('answers every read from the database, reports errors, recovers without a restart, and serves nothing stale', async () => {
    const port = await freePort()
    const start = () => startPersistentRedis(port)
    server = await start()
    const url = `redis://127.0.0.1:${port}`
    const resilience = {
      timeouts: { read: 150, write: 150 },
      circuitBreaker: { failureThreshold: 3, resetAfterMs: 150 },
    } as const
    const caches: Record<string, Cache> = {
      writer: createCache({ store: redisStore({ url }), namespace: 'outage', l1: {}, ...resilience }),
      bounded: createCache({
        store: redisStore({ url }),
        namespace: 'outage',
        l1: {},
        consistency: 'bounded',
        ...resilience,
      }),
      plain: createCache({ store: redisStore({ url }), namespace: 'outage', ...resilience }),
    }
    const errors = Object.fromEntries(Object.keys(caches).map((name) => [name, 0]))
    for (const [name, cache] of Object.entries(caches)) cache.on('error', () => errors[name]!++)
    let unhandled = 0
    const onUnhandled = () => unhandled++
    process.on('unhandledRejection', onUnhandled)

    const rows = 6
    const db = new Array<number>(rows).fill(0)
    const floor = new Array<number>(rows).fill(0) // newest value whose write has resolved
    const resolvedAt = new Array<number>(rows).fill(0) // when that write resolved
    let violations = 0
    let boundedLag = 0 // worst lag of a stale read in bounded mode, which allows up to maxStaleness
    let failedReads = 0
    let reads = 0
    const read = (cache: Cache, id: number) =>
      cache.wrap(`row:${id}`, async () => db[id]!, { tags: [`row:${id}`] })
    let running = true
    const worker = async (name: string, writes: boolean) => {
      const cache = caches[name]!
      while (running) {
        const id = Math.floor(Math.random() * rows)
        if (writes && Math.random() < 0.3) {
          db[id]! += 1
          const value = db[id]!
          await cache.invalidateTags([`row:${id}`])
          if (value > floor[id]!) {
            floor[id] = value
            resolvedAt[id] = performance.now()
          }
        } else {
          const before = floor[id]!
          const started = performance.now()
          try {
            const value = await read(cache, id)
            reads++
            if (value < before && name === 'bounded')
              boundedLag = Math.max(boundedLag, started - resolvedAt[id]!)
            else if (value < before) violations++
          } catch {
            failedReads++
          }
        }
        await sleep(2)
      }
    }
    const workers = [
      worker('writer', true),
      worker('bounded', false),
      worker('plain', false),
      worker('plain', false),
    ]

    await sleep(400) // healthy traffic fills the cache
    const hitsBefore = Object.values(caches).reduce((sum, c) => sum + c.stats().hits, 0)
    expect(hitsBefore).toBeGreaterThan(0)

    server.process.kill('SIGKILL')
    await sleep(1_000) // the outage: writes keep committing, invalidations fail
    const duringOutage = { ...errors }
    server = await start() // same data directory: old entries and versions are back

    // Every cache uses the store again, without a restart.
    const hitsAt = Object.fromEntries(Object.entries(caches).map(([name, c]) => [name, c.stats().hits]))
    const deadline = Date.now() + 15_000
    while (Object.entries(caches).some(([name, c]) => c.stats().hits <= hitsAt[name]!)) {
      if (Date.now() > deadline) throw new Error(`caches did not recover: ${JSON.stringify(caches, null, 0)}`)
      await sleep(50)
    }
    await sleep(300)
    running = false
    await Promise.all(workers)
    process.off('unhandledRejection', onUnhandled)

    expect(failedReads).toBe(0)
    expect(unhandled).toBe(0)
    expect(reads).toBeGreaterThan(100)
    for (const name of Object.keys(caches)) expect(duringOutage[name], name).toBeGreaterThan(0)
    expect(violations).toBe(0)
    expect(boundedLag).toBeLessThan(1_000) // the default l1.maxStaleness
    // After writes stop, every cache answers what the database holds.
    for (const cache of Object.values(caches)) {
      for (let id = 0; id < rows; id++) expect(await read(cache, id)).toBe(db[id])
    }
    console.log(
      `outage: ${reads} reads, errors reported ${JSON.stringify(duringOutage)}, stale reads ${violations}`,
    )
    await Promise.all(Object.values(caches).map((c) => c.close()))
    await server.stop()
  }, 60_000)

  it('a reader that saw the outage does not trust the store until writers replayed their invalidations', async () => {
    const port = await freePort()
    const start = () => startPersistentRedis(port)
    server = await start()
    const url = `redis://127.0.0.1:${port}`
    const options = {
      namespace: 'outage2',
      timeouts: { read: 100, write: 100 },
      circuitBreaker: { failureThreshold: 1, resetAfterMs: 100 },
      lease: false,
    } as const
    // The writer's link is held down by hand after the restart, so its replay comes strictly after
    // the reader's first successful store call.
    const writerLink = new FaultyStore(redisStore({ url }))
    const writer = createCache({ store: writerLink, ...options })
    const reader = createCache({ store: redisStore({ url }), ...options })
    let db = 'v0'
    const read = (cache: Cache) => cache.wrapWithInfo('row', async () => db, { tags: ['row'] })
    await read(writer)
    expect((await read(reader)).info.source).toBe('hit')

    server.process.kill('SIGKILL')
    writerLink.mode = 'fail'
    db = 'v1'
    await writer.invalidateTags(['row']) // fails: kept pending, retried with backoff
    expect((await read(reader)).value).toBe('v1') // the reader sees the outage: its circuit opens
    server = await start() // the old entry and the old version come back from disk
    await sleep(150) // past the reader's resetAfterMs: its next store call is the half-open probe
    const probe = await read(reader)
    expect(probe).toEqual({ value: 'v1', info: { source: 'bypass', reason: 'store-recovering' } })
    writerLink.mode = 'ok' // from now on the writer's retry can replay the invalidation

    // The reader's first successful store call (the half-open probe) must not serve what it read,
    // and nothing until the grace period is over; by then the writer has replayed.
    const seen: string[] = []
    const deadline = Date.now() + 5_000
    for (;;) {
      const { value, info } = await read(reader)
      seen.push(`${info.source}:${value}`)
      if (info.source === 'hit' || Date.now() > deadline) break
      await sleep(20)
    }
    expect(seen.filter((s) => s.endsWith(':v0'))).toEqual([])
    expect(seen.at(-1)).toBe('hit:v1')
    await Promise.all([writer.close(), reader.close()])
    await server.stop()
  }, 30_000)
})
