import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { type Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type Cache,
  createCache,
  type OrmCacheError,
  type WriteBehind,
  type WriteBehindItem,
  writeBehind,
} from '../src/exports/index.js'
import { type RedisStreamQueue, redisStore, redisStreamQueue } from '../src/exports/redis.js'
import type { RedisStreamQueueOptions } from '../src/write-behind/redis-stream-queue.js'
import { compareIds, RecordingDatabase, seededRandom, unique } from './fixtures/write-behind-harness.js'
import { gate } from './support/faulty-store.js'
import { connectCluster, connectRedis, freePort } from './support/services.js'

const MANUAL = 3_600_000
const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/write-behind-crash.ts')

describe('write-behind on a Redis Stream', () => {
  let client: Redis
  const opened: { close(): Promise<void> | void }[] = []
  const errors: OrmCacheError[] = []

  beforeAll(async () => {
    client = await connectRedis()
  })
  afterAll(() => client?.disconnect())
  afterEach(async () => {
    for (const resource of opened.splice(0).reverse()) await resource.close()
    errors.length = 0
  })

  const database = async <T>() => {
    const db = await new RecordingDatabase<T>().open()
    opened.push(db)
    return db
  }
  const cacheOn = (redis: Redis | Cluster, namespace: string) => {
    const cache = createCache({ store: redisStore({ client: redis }), namespace })
    opened.push(cache)
    return cache
  }
  const writerOn = <T>(
    cache: Cache,
    flush: (batch: WriteBehindItem<T>[]) => Promise<void> | void,
    queue: Partial<RedisStreamQueueOptions> & Pick<RedisStreamQueueOptions, 'client'>,
    extra: {
      retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number }
      flushIntervalMs?: number
    } = {},
    /** A writer a test "crashes": its errors (a dead connection) are expected and not collected. */
    crashes = false,
  ) => {
    const w = writeBehind<T>({
      cache,
      flush,
      queue: redisStreamQueue({ namespace: cache.namespace, name: 'q', ...queue }),
      flushIntervalMs: MANUAL,
      ...extra,
    })
    if (!crashes) w.on('error', ({ error }) => errors.push(error))
    opened.push(w)
    return w
  }
  /** Flushes until nothing is left in the stream (deferred keys wait for their lock to end). */
  const drain = async (w: WriteBehind<unknown>, limitMs = 20_000) => {
    const deadline = Date.now() + limitMs
    let superseded = 0
    while ((await w.pending()) > 0) {
      if (Date.now() > deadline) throw new Error(`still ${await w.pending()} pending after ${limitMs} ms`)
      superseded += (await w.flushNow()).superseded
      await sleep(50)
    }
    return { superseded }
  }

  it('kill -9: another process claims and flushes every write the dead process acknowledged', async () => {
    const db = await database<{ key: string; n: number }>()
    const namespace = unique('wb')
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: {
        ...process.env,
        WB_NAMESPACE: namespace,
        WB_NAME: 'q',
        WB_KEYS: '50',
        WB_WRITES: '200',
        WB_LOCK_MS: '1500',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const line = await lineFrom(child, 'acked ', 60_000)
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    expect(child.signalCode).toBe('SIGKILL')
    const { inFlight, acked } = JSON.parse(line.slice('acked '.length)) as {
      inFlight: number
      acked: Record<string, { key: string; n: number }>
    }
    // 200 writes to 50 keys were read by the dead process (150 coalesced away, 50 locked and
    // pending under it), then 100 newer writes to 25 of the keys were queued and never read.
    expect(inFlight).toBe(50)
    expect(Object.keys(acked)).toHaveLength(50)

    const cache = cacheOn(client, namespace)
    const w = writerOn(cache, db.flush, { client, claimIdleMs: 300 })
    expect(await w.pending()).toBe(150)
    const { superseded } = await drain(w as WriteBehind<unknown>)
    expect(await db.values()).toEqual(acked)
    // Every key was written once, with its last acknowledged value; the 25 claimed entries
    // that newer writes replaced were skipped, never applied.
    expect([...(await db.rows()).values()].every((row) => row.writes === 1)).toBe(true)
    expect(db.items).toHaveLength(50)
    // 75 of the 100 newer writes (4 per key, the last one wins) + the 25 claimed older entries.
    expect(superseded).toBe(100)
    expect(errors).toEqual([])
    // The dead process's consumer, which owns nothing any more, has been removed from the group.
    await sleep(600)
    await w.flushNow()
    const consumers = (await client.xinfo(
      'CONSUMERS',
      `{${namespace}:wb:q}:stream`,
      'flushers',
    )) as unknown[][]
    expect(consumers.map((consumer) => consumer[1])).toEqual([(w.queue as RedisStreamQueue).consumer])
  }, 60_000)

  it('an old entry claimed from a crashed consumer never overwrites a newer flushed value', async () => {
    const db = await database<string>()
    const namespace = unique('wb')
    const crashed = await connectRedis()
    const started = gate()
    const dying = writerOn<string>(
      cacheOn(crashed, namespace),
      () => {
        started.open()
        return new Promise<void>(() => {})
      },
      { client: crashed, lockMs: 300 },
      {},
      true,
    )
    await dying.write('k', 'old')
    void dying.flushNow().catch(() => {})
    await started.promise
    crashed.disconnect() // dies mid-flush: "old" stays pending under it; its lock runs out

    const w = writerOn<string>(cacheOn(client, namespace), db.flush, { client, claimIdleMs: 200 })
    await w.write('k', 'new')
    let superseded = 0
    while (db.items.length === 0) superseded += (await w.flushNow()).superseded
    await sleep(250) // "old" is now idle long enough to be claimed
    superseded += (await drain(w as WriteBehind<unknown>)).superseded
    expect(db.items.map((item) => item.value)).toEqual(['new'])
    expect(await db.values()).toEqual({ k: 'new' })
    expect(superseded).toBe(1)
    expect(await w.pending()).toBe(0)
    opened.splice(opened.indexOf(dying), 1) // its connection is gone; closing would only report that
  })

  it('a slow flush of an old value and a flush of a newer value by another consumer never reorder', async () => {
    const db = await database<string>()
    const namespace = unique('wb')
    const history: string[] = []
    const slowStarted = gate()
    const slowRelease = gate()
    const otherClient = await connectRedis()
    opened.push({ close: () => otherClient.disconnect() })
    const slow = writerOn<string>(
      cacheOn(otherClient, namespace),
      async (batch) => {
        slowStarted.open()
        await slowRelease.promise
        await db.flush(batch)
        history.push(...batch.map((item) => item.value))
      },
      { client: otherClient },
    )
    const fast = writerOn<string>(
      cacheOn(client, namespace),
      async (batch) => {
        await db.flush(batch)
        history.push(...batch.map((item) => item.value))
      },
      { client },
    )
    await slow.write('k', 'old')
    const slowPass = slow.flushNow()
    try {
      await slowStarted.promise // "old" checked as latest and locked, its database write in progress
      await fast.write('k', 'new')
      expect(await fast.flushNow()).toMatchObject({ flushed: 0, deferred: 1 }) // the key is locked
    } finally {
      slowRelease.open()
    }
    expect(await slowPass).toMatchObject({ flushed: 1 })
    expect(await fast.flushNow()).toMatchObject({ flushed: 1, deferred: 0 })
    expect(history).toEqual(['old', 'new'])
    expect(await db.values()).toEqual({ k: 'new' })
  })

  it('falls back to a synchronous database write when Redis is down, and rejects when the database is down too', async () => {
    const db = await database<string>()
    const port = await freePort()
    const dead = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    })
    dead.on('error', () => {})
    await dead.connect().catch(() => {})
    const w = writerOn<string>(cacheOn(dead, unique('wb')), db.flush, { client: dead, timeoutMs: 500 })
    const fallbacks: string[] = []
    w.on('fallback', ({ reason }) => fallbacks.push(reason))
    expect(await w.write('k', 'v')).toEqual({ queued: false, id: undefined, direct: true })
    expect(await db.values()).toEqual({ k: 'v' })
    expect(fallbacks).toEqual(['queue-unavailable'])

    db.failWhen = () => true
    await expect(w.write('k', 'v2')).rejects.toMatchObject({
      code: 'ERR_WRITE_BEHIND',
      message: expect.stringContaining('not acknowledged'),
    })
    expect(await db.values()).toEqual({ k: 'v' })
    expect(w.stats()).toMatchObject({ writes: 1, fallbacks: 1 })
    await w.close() // nothing to drain from a dead queue: reports and returns
  })

  it('three consumers writing and flushing the same keys concurrently: no lost write, no reordering', async () => {
    const db = await database<number>()
    const namespace = unique('wb')
    const idOf = new Map<number, string>()
    const applied: { key: string; value: number }[] = []
    const rand = seededRandom(7)
    const writers = await Promise.all(
      [0, 1, 2].map(async () => {
        const own = await connectRedis()
        opened.push({ close: () => own.disconnect() })
        return writerOn<number>(
          cacheOn(own, namespace),
          async (batch) => {
            await sleep(rand(4))
            if (rand(8) === 0) throw new Error('transient database error')
            await db.flush(batch)
            applied.push(...batch)
          },
          { client: own },
          { flushIntervalMs: 5, retry: { attempts: 100, baseDelayMs: 1, maxDelayMs: 10 } },
        )
      }),
    )
    let value = 0
    await Promise.all(
      writers.map(async (w) => {
        for (let i = 0; i < 200; i++) {
          const key = `k${rand(15)}`
          const v = value++
          idOf.set(v, (await w.write(key, v)).id!)
        }
      }),
    )
    for (const w of writers) await w.close()
    // Every write went through the queue (no synchronous fallback), so the order below is the
    // queue protocol's alone.
    expect(writers.map((w) => w.stats().fallbacks)).toEqual([0, 0, 0])
    expect(errors).toEqual([])

    const newest = new Map<string, number>()
    for (const [v, id] of idOf) {
      const key = [...applied, ...db.items].find((item) => item.value === v)?.key
      if (key === undefined) continue
      const current = newest.get(key)
      if (current === undefined || compareIds(id, idOf.get(current)!) > 0) newest.set(key, v)
    }
    // The database holds, for every key, the value of the write the queue saw last…
    const rows = await db.values()
    expect(Object.keys(rows).sort()).toEqual([...newest.keys()].sort())
    for (const [key, v] of newest) expect(rows[key], key).toBe(v)
    // …and each key's database writes happened in queue order.
    for (const key of newest.keys()) {
      const ids = applied.filter((item) => item.key === key).map((item) => idOf.get(item.value)!)
      expect([...ids].sort(compareIds), key).toEqual(ids)
    }
    expect(await writers[0]!.pending()).toBe(0)
    expect(await writers[0]!.deadLetters()).toEqual([])
  }, 60_000)

  it('dead-letters a foreign stream entry instead of dropping it', async () => {
    const db = await database<string>()
    const namespace = unique('wb')
    const w = writerOn<string>(cacheOn(client, namespace), db.flush, { client })
    await w.write('k', 'v')
    await client.xadd(`{${namespace}:wb:q}:stream`, '*', 'foo', 'bar')
    expect(await w.flushNow()).toMatchObject({ flushed: 1 })
    expect(await w.deadLetters()).toEqual([
      expect.objectContaining({ key: '', value: undefined, error: 'not a write-behind stream entry' }),
    ])
    expect(await w.pending()).toBe(0)
  })

  it('recreates its consumer group when the stream was deleted', async () => {
    const db = await database<string>()
    const namespace = unique('wb')
    const w = writerOn<string>(cacheOn(client, namespace), db.flush, { client })
    await w.write('k', 'a')
    await w.flushNow()
    await client.del(`{${namespace}:wb:q}:stream`)
    await w.write('k', 'b')
    await drain(w as WriteBehind<unknown>)
    expect(await db.values()).toEqual({ k: 'b' })
  })

  it('works on a Redis Cluster, including claim, dead-letter and replay (every key shares one slot)', async () => {
    const db = await database<number>()
    const cluster = await connectCluster()
    opened.push({ close: () => cluster.disconnect() })
    const namespace = unique('wb')
    const cache = cacheOn(cluster, namespace)

    const crashed = await connectCluster()
    const started = gate()
    const dying = writerOn<number>(
      cacheOn(crashed, namespace),
      () => {
        started.open()
        return new Promise<void>(() => {})
      },
      { client: crashed, lockMs: 300 },
      {},
      true,
    )
    await dying.write('pending', -1)
    void dying.flushNow().catch(() => {})
    await started.promise
    crashed.disconnect()
    opened.splice(opened.indexOf(dying), 1)

    db.failWhen = (batch) => batch.some((item) => item.key === 'bad')
    const w = writerOn<number>(
      cache,
      db.flush,
      { client: cluster, claimIdleMs: 200 },
      { retry: { attempts: 2, baseDelayMs: 1 } },
    )
    for (let i = 0; i < 60; i++) await w.write(`k${i % 12}`, i)
    await w.write('bad', 1)
    await sleep(300)
    await drain(w as WriteBehind<unknown>)
    expect(await db.values()).toEqual({
      ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, 48 + i])),
      pending: -1,
    })
    expect((await w.deadLetters()).map((letter) => letter.key)).toEqual(['bad'])
    db.failWhen = () => false
    expect(await w.replayDeadLetters()).toEqual({ replayed: 1, superseded: 0 })
    await drain(w as WriteBehind<unknown>)
    expect((await db.values()).bad).toBe(1)
  })
})

/** The first stdout line of `child` that starts with `prefix`; fails with its stderr if it exits first. */
function lineFrom(child: ChildProcess, prefix: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no "${prefix}" line within ${timeoutMs} ms; stderr: ${err}`))
    }, timeoutMs)
    child.stderr?.on('data', (data) => {
      err += data
    })
    child.stdout?.on('data', (data) => {
      out += data
      const line = out.split('\n').find((candidate) => candidate.startsWith(prefix))
      if (line !== undefined) {
        clearTimeout(timer)
        resolve(line)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the child exited (${code}) before printing "${prefix}"; stderr: ${err}`))
    })
  })
}
