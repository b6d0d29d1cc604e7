import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type Cache,
  type CacheStore,
  createCache,
  memoryQueue,
  memoryStore,
  type OrmCacheError,
  type WriteBehind,
  type WriteBehindOptions,
  writeBehind,
} from '../src/exports/index.js'
import {
  type Backend,
  compareIds,
  memoryBackend,
  next,
  RecordingDatabase,
  redisBackend,
  seededRandom,
} from './fixtures/write-behind-harness.js'
import { FaultyStore } from './support/faulty-store.js'

const MANUAL = 3_600_000 // flush interval long enough that only flushNow()/close() flush

for (const makeBackend of [memoryBackend, redisBackend]) {
  const backend: Backend = makeBackend()
  describe(`writeBehind: ${backend.name}`, () => {
    let db: RecordingDatabase<unknown>
    let cache: Cache
    const writers: WriteBehind<unknown>[] = []
    const errors: OrmCacheError[] = []

    const writer = <T = unknown>(options: Partial<WriteBehindOptions<T>> = {}, queue = backend.queue()) => {
      const created = writeBehind<T>({
        cache,
        queue,
        flush: db.flush as (batch: unknown[]) => Promise<void>,
        flushIntervalMs: MANUAL,
        ...options,
      } as WriteBehindOptions<T>)
      created.on('error', ({ error }) => errors.push(error))
      writers.push(created as WriteBehind<unknown>)
      return created
    }

    beforeAll(async () => {
      // Fails loudly (naming the service and `npm run services`) if Redis or PostgreSQL is down.
      await backend.cache()
    })
    afterAll(() => backend.close())
    afterEach(async () => {
      for (const w of writers.splice(0)) await w.close()
      await db?.close()
      await cache?.close()
      errors.length = 0
    })
    const setup = async (wrapStore?: (store: CacheStore) => CacheStore) => {
      db = await new RecordingDatabase<unknown>().open()
      cache = await backend.cache(wrapStore)
    }

    it('serves the written value from the cache until the flush, then from the database', async () => {
      await setup()
      const w = writer({ tags: (key) => ['users', key] })
      expect(await w.write('user:1', { id: 1, name: 'Ada' })).toMatchObject({ queued: true, direct: false })
      expect(await cache.get('user:1')).toEqual({ id: 1, name: 'Ada' })
      expect(await db.values()).toEqual({})
      // A cached ORM-style read of the table, computed before the flush.
      const list = () => cache.wrapWithInfo('users:all', () => db.values(), { tags: ['users'] })
      expect((await list()).value).toEqual({})

      expect(await w.flushNow()).toEqual({ flushed: 1, superseded: 0, deadLettered: 0, deferred: 0 })
      expect(await db.values()).toEqual({ 'user:1': { id: 1, name: 'Ada' } })
      // The flush invalidated the key's tags: the table read reloads and sees the new row…
      expect(await list()).toMatchObject({
        value: { 'user:1': { id: 1, name: 'Ada' } },
        info: { source: 'miss' },
      })
      // …and the key's own entry is retired, so reads of it go to the database from now on.
      expect(await cache.get('user:1')).toBeUndefined()
      expect(await w.pending()).toBe(0)
      expect(errors).toEqual([])
    })

    it('coalesces 1,000 writes to one key inside a flush window into one database write of the last value', async () => {
      await setup()
      const w = writer()
      for (let i = 0; i < 1000; i++) await w.write('counter', i)
      expect(await cache.get('counter')).toBe(999)
      const report = await w.flushNow()
      expect(db.calls).toEqual([[{ key: 'counter', value: 999, writtenAt: expect.any(Number) }]])
      expect(report).toEqual({ flushed: 1, superseded: 999, deadLettered: 0, deferred: 0 })
      expect(await db.rows()).toEqual(new Map([['counter', { value: 999, writes: 1 }]]))
      expect(w.stats()).toMatchObject({ writes: 1000, flushes: 1, flushedItems: 1, superseded: 999 })
      expect(await w.pending()).toBe(0)
    })

    it('flushes many keys as one item per key with each key’s last value, in batches of maxBatch', async () => {
      await setup()
      const w = writer({ maxBatch: 20 })
      const last = new Map<string, number>()
      for (let i = 0; i < 200; i++) {
        const key = `k${i % 50}`
        await w.write(key, i)
        last.set(key, i)
      }
      await w.flushNow()
      expect(db.items).toHaveLength(50)
      for (const call of db.calls) {
        expect(call.length).toBeLessThanOrEqual(20)
        expect(new Set(call.map((item) => item.key)).size).toBe(call.length)
      }
      expect(await db.values()).toEqual(Object.fromEntries(last))
      expect([...(await db.rows()).values()].every((row) => row.writes === 1)).toBe(true)
    })

    it('retries a failed flush with exponential backoff', async () => {
      await setup()
      db.failWhen = (_, call) => call <= 2
      const w = writer({ retry: { attempts: 5, baseDelayMs: 5, maxDelayMs: 1_000 } })
      const retries: { attempt: number; delayMs: number }[] = []
      w.on('retry', ({ attempt, delayMs }) => retries.push({ attempt, delayMs }))
      const flushed = next<{ attempt: number }>((fn) => w.on('flush', fn))
      await w.write('k', 'v')
      expect(await w.flushNow()).toMatchObject({ flushed: 1, deadLettered: 0 })
      expect(retries).toEqual([
        { attempt: 1, delayMs: 5 },
        { attempt: 2, delayMs: 10 },
      ])
      expect((await flushed).attempt).toBe(3)
      expect(await db.values()).toEqual({ k: 'v' })
      expect(w.stats()).toMatchObject({ retries: 2, deadLettered: 0, flushes: 1 })
      expect(await w.deadLetters()).toEqual([])
    })

    it('dead-letters a batch after the last attempt, with events, and replays it', async () => {
      await setup()
      db.failWhen = () => true
      const w = writer({ retry: { attempts: 5, baseDelayMs: 10, maxDelayMs: 25 } })
      const delays: number[] = []
      w.on('retry', ({ delayMs }) => delays.push(delayMs))
      const buried = next<{ keys: readonly string[]; attempts: number; error: OrmCacheError }>((fn) =>
        w.on('dead-letter', fn),
      )
      const at = new Date('2024-01-02T03:04:05Z')
      await w.write('order:7', { total: 12, at })
      expect(await w.flushNow()).toMatchObject({ flushed: 0, deadLettered: 1 })
      expect(delays).toEqual([10, 20, 25, 25])
      const event = await buried
      expect(event.keys).toEqual(['order:7'])
      expect(event.attempts).toBe(5)
      expect(event.error.code).toBe('ERR_WRITE_BEHIND')
      expect(event.error.cause).toBeInstanceOf(Error)
      expect(errors.map((e) => e.code)).toEqual(['ERR_WRITE_BEHIND'])
      expect(await w.deadLetters()).toEqual([
        {
          id: expect.any(String),
          key: 'order:7',
          value: { total: 12, at },
          writtenAt: expect.any(Number),
          failedAt: expect.any(Number),
          attempts: 5,
          error: 'database is down',
        },
      ])
      expect(await w.pending()).toBe(0)
      expect(w.stats()).toMatchObject({ deadLettered: 1, retries: 4 })

      db.failWhen = () => false
      expect(await w.replayDeadLetters()).toEqual({ replayed: 1, superseded: 0 })
      expect(await w.deadLetters()).toEqual([])
      expect(await w.flushNow()).toMatchObject({ flushed: 1 })
      expect(db.calls.at(-1)).toEqual([
        { key: 'order:7', value: { total: 12, at }, writtenAt: expect.any(Number) },
      ])
    })

    it('a poison item is dead-lettered alone: the rest of its batch is flushed item by item', async () => {
      await setup()
      db.failWhen = (batch) => batch.some((item) => item.value === 'poison')
      const w = writer({ retry: { attempts: 2, baseDelayMs: 1 } })
      const buried: (readonly string[])[] = []
      w.on('dead-letter', ({ keys }) => buried.push(keys))
      await w.write('a', 'fine')
      await w.write('b', 'poison')
      await w.write('c', 'fine too')
      expect(await w.flushNow()).toMatchObject({ flushed: 2, deadLettered: 1 })
      expect(db.calls.map((call) => call.map((item) => item.key))).toEqual([
        ['a', 'b', 'c'],
        ['a', 'b', 'c'],
        ['a'],
        ['b'],
        ['c'],
      ])
      expect(buried).toEqual([['b']])
      expect(await db.values()).toEqual({ a: 'fine', c: 'fine too' })
      expect((await w.deadLetters()).map((letter) => [letter.key, letter.attempts])).toEqual([['b', 3]])
    })

    it('does not replay a dead letter that a newer write to its key superseded', async () => {
      await setup()
      db.failWhen = (batch) => batch.some((item) => item.value === 'v1')
      const w = writer({ retry: { attempts: 1, baseDelayMs: 0 } })
      await w.write('k', 'v1')
      expect(await w.flushNow()).toMatchObject({ deadLettered: 1 })
      await w.write('k', 'v2')
      expect(await w.flushNow()).toMatchObject({ flushed: 1 })
      expect(await w.replayDeadLetters()).toEqual({ replayed: 0, superseded: 1 })
      expect(await w.deadLetters()).toEqual([])
      expect(await w.flushNow()).toMatchObject({ flushed: 0 })
      expect(await db.values()).toEqual({ k: 'v2' })
    })

    it('drops a failing item from the retry when a newer write to its key arrives meanwhile', async () => {
      await setup()
      let w!: WriteBehind<unknown>
      db.failWhen = async (batch) => {
        if (!batch.some((item) => item.value === 'poison')) return false
        // A newer write to the key lands before the failed batch is retried.
        await w.write('k', 'fixed')
        return true
      }
      w = writer({ retry: { attempts: 3, baseDelayMs: 20 } })
      await w.write('k', 'poison')
      await w.write('other', 'fine')
      // The retry carries only "fine"; the same pass then reads and flushes the newer "fixed".
      expect(await w.flushNow()).toMatchObject({ flushed: 2, superseded: 1, deadLettered: 0 })
      expect(db.calls.map((call) => call.map((item) => item.value))).toEqual([
        ['poison', 'fine'],
        ['fine'],
        ['fixed'],
      ])
      expect(await db.values()).toEqual({ k: 'fixed', other: 'fine' })
      expect(await w.deadLetters()).toEqual([])
    })

    it('close() waits for in-flight writes, drains the queue, then refuses writes', async () => {
      await setup()
      const w = writer()
      const acks = Array.from({ length: 30 }, (_, i) => w.write(`k${i % 10}`, i))
      await w.close()
      await Promise.all(acks)
      expect(await db.values()).toEqual(
        Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 20 + i])),
      )
      expect(await w.pending()).toBe(0)
      await expect(w.write('k0', 1)).rejects.toMatchObject({ code: 'ERR_WRITE_BEHIND' })
    })

    it('flushes on its own every flushIntervalMs', async () => {
      await setup()
      const w = writer({ flushIntervalMs: 20 })
      const flushed = next<{ keys: readonly string[] }>((fn) => w.on('flush', fn))
      await w.write('k', 'v')
      expect((await flushed).keys).toEqual(['k'])
      expect(await db.values()).toEqual({ k: 'v' })
    })

    it('round-trips Dates, BigInts and bytes through the queue to flush()', async () => {
      await setup()
      const seen: unknown[] = []
      const w = writer({ flush: (batch) => void seen.push(...batch.map((item) => item.value)) })
      const value = { at: new Date(0), big: 2n ** 70n, bytes: new Uint8Array([1, 2, 3]), none: undefined }
      await w.write('k', value)
      expect(await cache.get('k')).toEqual(value)
      await w.flushNow()
      expect(seen).toEqual([value])
      expect(seen[0]).not.toBe(value)
    })

    it('rejects bad input with typed errors before anything is queued', async () => {
      await setup()
      const w = writer<unknown>({ tags: (key) => (key === 'bad-tags' ? [''] : []) })
      await expect(w.write('', 1)).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
      await expect(w.write('k', () => 1)).rejects.toMatchObject({ code: 'ERR_NOT_SERIALIZABLE' })
      await expect(w.write('bad-tags', 1)).rejects.toMatchObject({ code: 'ERR_INVALID_TAG' })
      expect(await w.pending()).toBe(0)
      expect(w.stats().writes).toBe(0)
      const flush = async () => {}
      expect(() => writeBehind({ cache, flush: 1 } as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'flush' }),
      )
      expect(() => writeBehind({ cache, flush, queue: memoryQueue(), flushInterval: 5 } as never)).toThrow(
        expect.objectContaining({ option: 'flushInterval' }),
      )
      expect(() => writeBehind({ cache, flush, queue: memoryQueue(), retry: { attempts: 0 } })).toThrow(
        expect.objectContaining({ option: 'retry.attempts' }),
      )
      expect(() => writeBehind({ cache: {} as Cache, flush })).toThrow(
        expect.objectContaining({ option: 'cache' }),
      )
      const queue = backend.queue()
      writer({}, queue)
      expect(() => writer({}, queue)).toThrow(expect.objectContaining({ code: 'ERR_WRITE_BEHIND' }))
    })

    it('writes through to the database synchronously when the cache store fails at write time', async () => {
      let faulty!: FaultyStore
      await setup((store) => {
        faulty = new FaultyStore(store)
        return faulty
      })
      const w = writer()
      const fallbacks: string[] = []
      w.on('fallback', ({ reason }) => fallbacks.push(reason))
      faulty.mode = 'fail'
      expect(await w.write('k', 'v')).toMatchObject({ queued: true, direct: true })
      expect(await db.values()).toEqual({ k: 'v' })
      expect(fallbacks).toEqual(['store-unavailable'])
      expect(w.stats()).toMatchObject({ writes: 1, fallbacks: 1 })
      // The queued copy is flushed too: the same value again, never an older one.
      faulty.mode = 'ok'
      await w.flushNow()
      expect(await db.rows()).toEqual(new Map([['k', { value: 'v', writes: 2 }]]))
    })

    it('rejects the write when the cache store and the database both fail', async () => {
      let faulty!: FaultyStore
      await setup((store) => {
        faulty = new FaultyStore(store)
        return faulty
      })
      const w = writer()
      faulty.mode = 'fail'
      db.failWhen = () => true
      // The cache cannot hold it and the database refused it, but the queue has it: still acknowledged,
      // with an error event, and flushed once the database is back.
      expect(await w.write('k', 'v')).toMatchObject({ queued: true, direct: false })
      expect(errors.some((e) => e.code === 'ERR_WRITE_BEHIND')).toBe(true)
      faulty.mode = 'ok'
      db.failWhen = () => false
      await w.flushNow()
      expect(await db.values()).toEqual({ k: 'v' })
    })

    it('concurrent writes to the same keys: the cache never serves an older value and the database ends with the newest', async () => {
      await setup()
      const rand = seededRandom(42)
      db.failWhen = () => rand(10) === 0
      const w = writer({ flushIntervalMs: 5, retry: { attempts: 50, baseDelayMs: 1, maxDelayMs: 5 } })
      const newest = new Map<string, { id: string; value: number }>()
      for (let round = 0; round < 8; round++) {
        const acks = await Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const key = `k${rand(10)}`
            const value = round * 1000 + i
            return { key, value, ack: await w.write(key, value) }
          }),
        )
        for (const { key, value, ack } of acks) {
          const seen = newest.get(key)
          if (seen === undefined || compareIds(ack.id!, seen.id) > 0) newest.set(key, { id: ack.id!, value })
        }
        // Once its write resolved, a key's cache entry holds the newest value or nothing (flushed,
        // or retired by a racing write); never an older one.
        for (const [key, { value }] of newest) expect([undefined, value]).toContain(await cache.get(key))
      }
      await w.close()
      expect(await db.values()).toEqual(
        Object.fromEntries([...newest].map(([key, { value }]) => [key, value])),
      )
      expect(await w.deadLetters()).toEqual([])
    })
  })
}

describe('writeBehind options', () => {
  it('needs an explicit queue when the cache store is shared by several processes', async () => {
    const shared = memoryStore()
    const store: CacheStore = Object.create(shared, {
      capabilities: { value: { shared: true } },
      name: { value: 'redis' },
    })
    const cache = createCache({ store })
    expect(() => writeBehind({ cache, flush: async () => {} })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'queue' }),
    )
    const w = writeBehind({ cache, flush: async () => {}, queue: memoryQueue() })
    await w.close()
    await cache.close()
  })
})
