import crypto from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { columnTag, rowTag, tableTag } from '../src/exports/adapter.js'
import { type Cache, Codec, createCache, type WrapOptions } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { WAKE_INLINE_BYTES } from '../src/redis/redis-scripts.js'
import { parseWake, WAKE_CHANNEL } from '../src/redis/redis-wake.js'
import { gate } from './support/faulty-store.js'
import { connectRedis } from './support/services.js'

/**
 * A lease holder's fill announces the entry itself to waiting processes (redis-wake.ts), so a
 * waiter whose snapshot the entry was loaded under is served without another lookup, and one
 * whose snapshot is newer is not served it.
 */
describe('lease waiters woken with the entry (Redis)', () => {
  const clients: Redis[] = []
  let subscriber: Redis
  const messages: string[] = []

  beforeAll(async () => {
    subscriber = await connectRedis()
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === WAKE_CHANNEL) messages.push(message)
    })
    await subscriber.subscribe(WAKE_CHANNEL)
  })
  afterAll(() => {
    subscriber.disconnect()
    for (const client of clients) client.disconnect()
  })

  /** Two processes' caches on one Redis: separate connections, one namespace. */
  async function twoProcesses(): Promise<{ a: Cache; b: Cache; reader: Redis; namespace: string }> {
    const namespace = `wake-${crypto.randomBytes(4).toString('hex')}`
    const [one, two, reader] = await Promise.all([connectRedis(), connectRedis(), connectRedis()])
    clients.push(one, two, reader)
    const a = createCache({ store: redisStore({ client: one }), namespace, jitter: 0 })
    const b = createCache({ store: redisStore({ client: two }), namespace, jitter: 0 })
    return { a, b, reader, namespace }
  }

  /** Resolves once a second process is waiting on the lease (its lookup marked the entry). */
  async function waiterMarked(reader: Redis, namespace: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const marks = await reader.keys(`{${namespace}:e:*}:w`)
      if (marks.length > 0) return
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    throw new Error('the second process never waited on the lease')
  }

  /**
   * Resolves once the waiting process listens for wakes (its subscriber is one more than
   * `before`), then lets it settle into its wait, so the holder's wake reaches it there.
   */
  async function waiterListening(reader: Redis, before: number): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const [, count] = (await reader.pubsub('NUMSUB', WAKE_CHANNEL)) as [string, number]
      if (count > before) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    throw new Error('the waiting process never subscribed to wakes')
  }

  const subscribers = async (reader: Redis) =>
    ((await reader.pubsub('NUMSUB', WAKE_CHANNEL)) as [string, number])[1]

  async function announcementFor(namespace: string): Promise<{ key: string; entry: string | undefined }> {
    for (let i = 0; i < 500; i++) {
      const found = messages.map(parseWake).find((wake) => wake.key.startsWith(`${namespace}:e:`))
      if (found !== undefined) return found
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    throw new Error('no wake was announced')
  }

  /**
   * Process A loads `key` and holds the load until process B waits on A's lease and listens for
   * wakes; then A fills and announces. B's own loader (never expected to run) returns `other`.
   */
  async function heldThenWoken<T>(key: string, value: T, other: T, options?: WrapOptions<T>) {
    const { a, b, reader, namespace } = await twoProcesses()
    const release = gate()
    const loading = gate()
    let waiterLoads = 0
    const first = a.wrap(
      key,
      async () => {
        loading.open()
        await release.promise
        return value
      },
      options,
    )
    await loading.promise
    const before = await subscribers(reader)
    const second = b.wrap(
      key,
      async () => {
        waiterLoads++
        return other
      },
      options,
    )
    await waiterMarked(reader, namespace)
    await waiterListening(reader, before)
    release.open()
    const holder = await first
    const waiter = await second
    return { holder, waiter, waiterLoads, wake: await announcementFor(namespace), reader }
  }

  it('announces the stored entry, and the waiter gets the holder’s value without loading', async () => {
    const run = await heldThenWoken('team:1', { members: [1, 2, 3] }, { members: [0] }, { tags: ['users'] })
    expect(run.holder).toEqual({ members: [1, 2, 3] })
    expect(run.waiter).toEqual({ members: [1, 2, 3] })
    expect(run.waiterLoads).toBe(0)
    expect(run.wake.entry).toBeDefined()
    expect(run.wake.entry).toBe(await run.reader.get(run.wake.key))
  })

  it('an after-load list’s fill (the SETTLE script) announces exactly the entry it stored', async () => {
    const rows = [{ id: 1 }, { id: 2 }]
    const run = await heldThenWoken('team:1', rows, [{ id: 99 }], {
      tags: [columnTag('users', 'team_id', 1)],
      afterLoad: { tables: ['users'], tags: (value) => value.map((r) => rowTag('users', r)) },
    })
    expect(run.holder).toEqual(rows)
    expect(run.waiter).toEqual(rows)
    expect(run.waiterLoads).toBe(0)
    expect(run.wake.entry).toBe(await run.reader.get(run.wake.key))
    // The payload line is the rows as the codec writes them (a table: keys once).
    expect(run.wake.entry!.split('\n')[2]).toBe(JSON.stringify(new Codec().encode(rows).data))
    expect(run.wake.entry!.split('\n')[2]).toBe('[["id"],[1],[2]]')
  })

  it('a waiter whose snapshot is newer than the holder’s load does not take the announced entry', async () => {
    const { a, b, reader, namespace } = await twoProcesses()
    const release = gate()
    const loading = gate()
    const first = a.wrap(
      'user:7',
      async () => {
        loading.open()
        await release.promise
        return { version: 1 }
      },
      { tags: ['user:7'] },
    )
    await loading.promise
    const before = await subscribers(reader)
    // The write commits after the holder's snapshot and before the waiter's.
    await b.invalidateTags(['user:7'])
    const second = b.wrap('user:7', async () => ({ version: 2 }), { tags: ['user:7'] })
    await waiterMarked(reader, namespace)
    await waiterListening(reader, before)
    release.open()
    expect(await first).toEqual({ version: 1 })
    expect(await second).toEqual({ version: 2 })
    const wake = await announcementFor(namespace)
    expect(wake.entry).toContain('"version":1')
  })

  it('a refused after-load fill lets the lease go and wakes the waiter, which loads itself', async () => {
    const { a, b, reader, namespace } = await twoProcesses()
    const options: WrapOptions<{ id: number; v: number }[]> = {
      tags: [columnTag('users', 'team_id', 1)],
      afterLoad: { tables: ['users'], tags: (value) => value.map((r) => rowTag('users', { id: r.id })) },
    }
    const release = gate()
    const loading = gate()
    const first = a.wrap(
      'team:1',
      async () => {
        loading.open()
        await release.promise
        return [{ id: 1, v: 0 }]
      },
      options,
    )
    await loading.promise
    const before = await subscribers(reader)
    let waiterLoads = 0
    const second = b.wrap(
      'team:1',
      async () => {
        waiterLoads++
        return [{ id: 1, v: 1 }]
      },
      options,
    )
    await waiterMarked(reader, namespace)
    await waiterListening(reader, before)
    // A third process's write names the listed row while A loads: A's fill is refused.
    const writer = createCache({ store: redisStore({ client: reader }), namespace, bus: false })
    await writer.invalidateTags([tableTag('users'), rowTag('users', { id: 1 })])
    release.open()
    expect(await first).toEqual([{ id: 1, v: 0 }])
    expect(await second).toEqual([{ id: 1, v: 1 }])
    expect(waiterLoads).toBe(1)
    // The refusal's wake carries no entry: there is none to take, only a lease to try for.
    const wake = await announcementFor(namespace)
    expect(wake.entry).toBeUndefined()
    expect(a.stats().fillsSkipped).toBe(1)
  })

  it('an entry over the inline limit is announced by key only, and the waiter still gets it', async () => {
    const big = 'x'.repeat(WAKE_INLINE_BYTES + 1)
    const run = await heldThenWoken('big', big, 'b loaded')
    expect(run.holder).toBe(big)
    expect(run.waiter).toBe(big)
    expect(run.waiterLoads).toBe(0)
    expect(run.wake.entry).toBeUndefined()
  })
})

describe('parseWake', () => {
  it('reads the length-prefixed key and the entry after it', () => {
    expect(parseWake('7:ns:e:ab{ormcache/2 1 e v\n[]')).toEqual({
      key: 'ns:e:ab',
      entry: '{ormcache/2 1 e v\n[]',
    })
    expect(parseWake('9:a:\nb:c:dd')).toEqual({ key: 'a:\nb:c:dd', entry: undefined })
  })

  it('takes a message without a valid prefix (an older writer) as a bare key', () => {
    expect(parseWake('ns:e:key')).toEqual({ key: 'ns:e:key', entry: undefined })
    expect(parseWake('99:short')).toEqual({ key: '99:short', entry: undefined })
    expect(parseWake(':x')).toEqual({ key: ':x', entry: undefined })
  })
})
