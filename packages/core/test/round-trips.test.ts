import crypto from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type memjs from 'memjs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { columnTag, rowTag } from '../src/exports/adapter.js'
import { type Cache, type CacheStore, createCache } from '../src/exports/index.js'
import { memcachedStore } from '../src/exports/memcached.js'
import { redisStore } from '../src/exports/redis.js'
import { countMemjs, countRedis, RoundTrips } from './support/round-trips.js'
import {
  connectCluster,
  connectRedis,
  memcachedServers,
  redisUrl,
  requireMemcached,
} from './support/services.js'

/**
 * Store round trips per operation, counted at the client (never timed): the costs issue 12 set.
 * Each case runs once on another key first, so scripts are loaded and tag tokens exist, as in
 * a warm process.
 */
interface Backend {
  name: string
  counter: RoundTrips
  store: () => CacheStore
  /** Allowed counts: one value where the count is exact. */
  expected: {
    hit: number[]
    coldMiss: number[]
    deadMiss: number[]
    write: number[]
    /** A write-through of a row whose versions this process saw recently (seen-versions.ts). */
    writeSeen: number[]
  }
  close: () => Promise<void> | void
}

const tags = ['users', 'user:1']
const unique = () => `rt-${crypto.randomBytes(5).toString('hex')}`

const backends: Array<() => Promise<Backend>> = [
  async () => {
    const counter = new RoundTrips()
    const client: Redis = await connectRedis()
    countRedis(client, counter)
    return {
      name: 'Redis',
      counter,
      store: () => redisStore({ client }),
      expected: { hit: [1], coldMiss: [2], deadMiss: [2], write: [2], writeSeen: [1] },
      close: () => client.disconnect(),
    }
  },
  async () => {
    const counter = new RoundTrips()
    const client: Cluster = await connectCluster()
    countRedis(client, counter)
    return {
      name: 'Redis Cluster',
      counter,
      store: () => redisStore({ client }),
      // The entry's slot cannot see the versions: a dead entry takes the lease in a trip of its
      // own (and re-reads the entry once if that lease came more than 2 ms after the lookup,
      // fill.ts), and write-through compares and stores in two. A shard may roll a version back,
      // so versions seen earlier are never a write's snapshot here.
      expected: { hit: [1], coldMiss: [2], deadMiss: [3, 4], write: [3], writeSeen: [3] },
      close: () => client.disconnect(),
    }
  },
  async () => {
    await requireMemcached()
    const counter = new RoundTrips()
    const store = memcachedStore({ servers: memcachedServers })
    const nodes = (store as unknown as { nodes: Map<string, { client: memjs.Client }> }).nodes
    for (const node of nodes.values()) countMemjs(node.client, counter)
    return {
      name: 'Memcached',
      counter,
      store: () => store,
      // No scripts: the lease is an add of its own, the release (get, then delete with CAS)
      // goes with the fill's set (same server: the lease key's hash tag), and write-through's
      // compare-and-set is a get, then a CAS set.
      // A lease won more than 2 ms after the lookup re-reads the entry once (fill.ts), and the
      // two tags' get-then-CAS chains share one connection, so a CAS can leave while the other
      // get's reply is still on its way: one trip either way is allowed there.
      expected: { hit: [1], coldMiss: [4, 5], deadMiss: [4, 5], write: [3, 4], writeSeen: [2, 3] },
      close: () => {},
    }
  },
]

describe.each(backends.map((make, i) => [i, make] as const))('round trips (backend %i)', (_, make) => {
  let backend: Backend
  let cache: Cache
  const namespace = unique()
  beforeAll(async () => {
    backend = await make()
    // bus: false here; the bus's own cost is the publish (skipped while nobody listens).
    cache = createCache({ store: backend.store(), namespace, bus: false, l1: false })
    await cache.wrap('warm', async () => 'w', { tags })
    await cache.invalidateTags(tags)
    await cache.wrap('warm', async () => 'w', { tags })
    const intent = await cache.beginWrite(tags)
    await intent.commit({ invalidate: tags, fill: { key: 'warm', value: 'w2' } })
  })
  afterAll(async () => {
    await cache?.close()
    await backend?.close()
  })

  it('a hit is one round trip', async () => {
    await cache.wrap('hit', async () => 'v', { tags })
    const { trips } = await backend.counter.during(async () => {
      expect(await cache.wrapWithInfo('hit', async () => 'never', { tags })).toMatchObject({
        value: 'v',
        info: { source: 'hit' },
      })
    })
    expectTrips(backend, trips, backend.expected.hit)
  })

  it('a cold miss: lookup (with the lease), then fill and release together', async () => {
    const key = unique()
    const { trips } = await backend.counter.during(async () => {
      expect((await cache.wrapWithInfo(key, async () => 'v', { tags })).info.source).toBe('miss')
    })
    expectTrips(backend, trips, backend.expected.coldMiss)
    expect((await cache.wrapWithInfo(key, async () => 'never', { tags })).info.source).toBe('hit')
  })

  it('a miss on an invalidated entry costs the same, and reads the fresh value', async () => {
    const key = unique()
    await cache.wrap(key, async () => 'old', { tags: ['dead', 'other'] })
    await cache.invalidateTags(['dead'])
    const { trips } = await backend.counter.during(async () => {
      expect(await cache.wrapWithInfo(key, async () => 'new', { tags: ['dead', 'other'] })).toEqual({
        value: 'new',
        info: { source: 'miss', reason: 'invalidated' },
      })
    })
    expectTrips(backend, trips, backend.expected.deadMiss)
  })

  it('a hit on a precise list (stored under its rows, afterLoad) is one round trip once its tags are known', async () => {
    const key = unique()
    const rows = [{ id: 1 }, { id: 2 }]
    const policy = {
      tags: [columnTag('users', 'team_id', 2)],
      afterLoad: {
        tables: ['users'],
        tags: (value: { id: number }[]) => value.map((r) => rowTag('users', { id: r.id })),
      },
    }
    const read = () => cache.wrapWithInfo(key, async () => rows.map((r) => ({ ...r })), policy)
    expect((await read()).info.source).toBe('miss')
    // The first hit learns the entry's own tags (a second read of their versions).
    expect((await read()).info.source).toBe('hit')
    const { trips } = await backend.counter.during(async () => {
      expect(await read()).toMatchObject({ value: rows, info: { source: 'hit' } })
    })
    expectTrips(backend, trips, backend.expected.hit)
    // A write to a listed row is seen in that same trip: the row's version was read with the entry.
    rows[1] = { id: 2, v: 1 } as { id: number }
    await cache.invalidateTags([rowTag('users', { id: 2 })])
    expect(await read()).toMatchObject({ value: rows, info: { source: 'miss', reason: 'invalidated' } })
  })

  it('a single-row write with write-through: snapshot before, one bump-and-fill after', async () => {
    const key = unique()
    // A row whose versions exist (another process wrote it) but which this process has not seen.
    const rowTags = ['users', `user:${unique()}`]
    // Not closed: on Memcached it shares the store object the suite closes at the end.
    const other = createCache({ store: backend.store(), namespace, bus: false, l1: false })
    await other.invalidateTags(rowTags)
    const { trips } = await backend.counter.during(async () => {
      const intent = await cache.beginWrite(rowTags)
      expect(await intent.commit({ invalidate: rowTags, fill: { key, value: 'row' } })).toBe('filled')
    })
    expectTrips(backend, trips, backend.expected.write, 'first write')
    const next = await backend.counter.during(async () => {
      expect((await cache.wrapWithInfo(key, async () => 'never', { tags: rowTags })).info.source).toBe('hit')
    })
    // The filled row is expected to hit: on Redis its first read is the plain read, no script.
    if (backend.name === 'Redis') expect(next.commands).toEqual(['getex', 'mget'])
    // Its versions were just seen: the next write of it needs no snapshot read before the write.
    const again = await backend.counter.during(async () => {
      const intent = await cache.beginWrite(rowTags)
      expect(await intent.commit({ invalidate: rowTags, fill: { key, value: 'row 2' } })).toBe('filled')
    })
    expectTrips(backend, again.trips, backend.expected.writeSeen, 'write of a seen row')
    expect((await cache.wrapWithInfo(key, async () => 'never', { tags: rowTags })).value).toBe('row 2')
  })
})

function expectTrips(backend: Backend, trips: number, allowed: number[], what = ''): void {
  expect(allowed, `${backend.name} ${what}: ${trips} trips`).toContain(trips)
}

describe('the invalidation bus costs no round trip while nobody listens', () => {
  it('publishes once to probe, then skips PUBLISH until a listener may exist', async () => {
    const counter = new RoundTrips()
    const client = await connectRedis()
    countRedis(client, counter)
    const cache = createCache({ store: redisStore({ client }), namespace: unique(), l1: false })
    try {
      await cache.invalidateTags(['probe']) // nobody subscribed to this namespace's bus
      const { trips, commands } = await counter.during(() => cache.invalidateTags(['t']))
      expect(commands).not.toContain('publish')
      expect(trips).toBe(1)
    } finally {
      await cache.close()
      client.disconnect()
    }
  })

  it('a process whose own L1 is the only listener skips PUBLISH too; a second listener gets them again', async () => {
    const counter = new RoundTrips()
    const client = await connectRedis()
    countRedis(client, counter)
    const namespace = unique()
    const l1 = { l1: {}, consistency: 'strict' as const }
    const cache = createCache({ store: redisStore({ client }), namespace, ...l1 })
    let other: Cache | undefined
    try {
      const channel = `${namespace}:bus`
      await vi.waitFor(async () => expect(await client.pubsub('NUMSUB', channel)).toEqual([channel, 1]))
      // Once its own subscriber is live, a publish reaches only itself and the next ones are skipped.
      await vi.waitFor(async () => {
        await cache.invalidateTags(['probe'])
        const alone = await counter.during(() => cache.invalidateTags(['t']))
        expect(alone.commands).not.toContain('publish')
      })

      // Another process with an L1 listens: once the writer probes again, every write reaches it.
      other = createCache({ store: redisStore({ url: redisUrl }), namespace, ...l1 })
      await vi.waitFor(async () => expect(await client.pubsub('NUMSUB', channel)).toEqual([channel, 2]))
      await vi.waitFor(
        async () =>
          expect((await counter.during(() => cache.invalidateTags(['k']))).commands).toContain('publish'),
        { timeout: 3_000, interval: 200 },
      )
      expect((await counter.during(() => cache.invalidateTags(['k']))).commands).toContain('publish')
    } finally {
      await other?.close()
      await cache.close()
      client.disconnect()
    }
  })
})
