import crypto from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import type { CacheStore } from '../src/store/types.js'
import { gate } from './support/faulty-store.js'
import { countRedis, RoundTrips } from './support/round-trips.js'
import { connectRedis } from './support/services.js'

/** lookup-batch.ts: concurrent reads of one key in one process share a lookup not yet sent. */
const closers: (() => unknown)[] = []
afterAll(async () => {
  for (const close of closers) await close()
})
const unique = () => `lb-${crypto.randomBytes(5).toString('hex')}`

describe('shared lookups', () => {
  it('250 concurrent reads of one key send one lookup, and each gets its own copy', async () => {
    const client = await connectRedis()
    closers.push(() => client.disconnect())
    const counter = new RoundTrips()
    countRedis(client, counter)
    const namespace = unique()
    const cache = createCache({ store: redisStore({ client }), namespace, l1: false, bus: false })
    closers.push(() => cache.close())
    // Filled by another process: this one expects no hit, so its reads take the lookup.
    const filler = createCache({
      store: redisStore({ client: await connectRedis(), ownsClient: true }),
      namespace,
      l1: false,
      bus: false,
    })
    closers.push(() => filler.close())
    await filler.wrap('k', async () => ({ rows: [1, 2, 3] }), { tags: ['t'] })
    const { commands } = await counter.during(async () => {
      const reads = await Promise.all(
        Array.from({ length: 250 }, () =>
          cache.wrapWithInfo('k', async () => ({ rows: [] }), { tags: ['t'] }),
        ),
      )
      for (const read of reads)
        expect(read).toMatchObject({ value: { rows: [1, 2, 3] }, info: { source: 'hit' } })
      expect(new Set(reads.map((read) => read.value)).size).toBe(250)
    })
    expect(commands.filter((name) => name === 'evalsha')).toHaveLength(1)
  })

  it('a stampede of one process on a cold key: one lookup, one load', async () => {
    const client = await connectRedis()
    closers.push(() => client.disconnect())
    const counter = new RoundTrips()
    countRedis(client, counter)
    const cache = createCache({ store: redisStore({ client }), namespace: unique(), l1: false, bus: false })
    closers.push(() => cache.close())
    await cache.wrap('warm', async () => 1, { tags: ['t'] })
    let loads = 0
    const { commands } = await counter.during(() =>
      Promise.all(
        Array.from({ length: 100 }, () =>
          cache.wrap(
            'cold',
            async () => {
              loads += 1
              return 'v'
            },
            { tags: ['t'] },
          ),
        ),
      ),
    )
    expect(loads).toBe(1)
    expect(commands.filter((name) => name === 'evalsha')).toHaveLength(2) // the lookup and the fill
  })

  it('the callers that waited for a load get their own copies, decoded from what was stored', async () => {
    const cache = createCache({
      store: redisStore({ client: await connectRedis(), ownsClient: true }),
      namespace: unique(),
      l1: false,
      bus: false,
    })
    closers.push(() => cache.close())
    const loaded = {
      at: new Date(5),
      big: 7n,
      rows: [
        { id: 1, when: new Date(6) },
        { id: 2, when: new Date(7) },
      ],
    }
    const reads = await Promise.all(
      Array.from({ length: 50 }, () => cache.wrapWithInfo('cold', async () => loaded, { tags: ['t'] })),
    )
    expect(reads.filter((read) => read.info.source === 'miss')).toHaveLength(1)
    for (const read of reads) expect(read.value).toStrictEqual(loaded)
    const copies = reads.filter((read) => read.info.source !== 'miss').map((read) => read.value)
    expect(copies).toHaveLength(49)
    expect(new Set([loaded, ...copies]).size).toBe(50)
    expect(new Set(copies.map((copy) => copy.rows[0]!.when)).size).toBe(49)
  })

  it('a read that starts after a write finished never joins a lookup sent before it', async () => {
    const store = memoryStore()
    let hold: ReturnType<typeof gate<void>> | undefined
    // The first lookup reads the store, then its reply is held back (a slow network).
    const slow: CacheStore = new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target)
        if (property !== 'getMany') return typeof value === 'function' ? value.bind(target) : value
        return async (keys: readonly string[]) => {
          const read = await target.getMany(keys)
          const held = hold
          if (held !== undefined) await held.promise
          return read
        }
      },
    })
    const cache = createCache({ store: slow, namespace: unique(), l1: false })
    closers.push(() => cache.close())
    let value = 'v1'
    const read = () => cache.wrapWithInfo('k', async () => value, { tags: ['t'] })
    await read()
    hold = gate()
    const held = hold
    const early = read() // its lookup has read v1 and waits at the gate
    await new Promise((resolve) => setTimeout(resolve, 5))
    hold = undefined
    value = 'v2'
    await cache.invalidateTags(['t']) // the write finishes here
    const late = read()
    await new Promise((resolve) => setTimeout(resolve, 5))
    held.open()
    expect(await late).toMatchObject({ value: 'v2', info: { source: 'miss' } })
    expect((await early).value).toBe('v1') // it started before the write: the old value is allowed
  })
})
