import crypto from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { HitHints } from '../src/read-path/hit-hints.js'
import { gate } from './support/faulty-store.js'
import { countRedis, RoundTrips } from './support/round-trips.js'
import { connectRedis, freePort, type OwnedServer, redisAnswers, startServer } from './support/services.js'

/**
 * The hit read (plain-hit.ts, docs/design.md "The hit read"): a key expected to hit is read with
 * a plain MGET on a single Redis node; anything but a fresh current hit falls back to the full
 * lookup. Two caches on one Redis stand in for two processes, so the writer's invalidations are
 * invisible to the reader's hints, which is the case where a hint is wrong.
 */
const tags = ['users', 'user:1']
const unique = () => `ph-${crypto.randomBytes(5).toString('hex')}`

describe('plain hit read on Redis', () => {
  let readerClient: Redis
  let writerClient: Redis
  let counter: RoundTrips
  let reader: Cache
  let writer: Cache
  let reader2: Cache

  beforeAll(async () => {
    const namespace = unique()
    readerClient = await connectRedis()
    writerClient = await connectRedis()
    counter = new RoundTrips()
    countRedis(readerClient, counter)
    const options = { namespace, bus: false, l1: false } as const
    reader = createCache({ ...options, store: redisStore({ client: readerClient }) })
    writer = createCache({ ...options, store: redisStore({ client: writerClient }) })
    reader2 = createCache({
      ...options,
      store: redisStore({ client: await connectRedis(), ownsClient: true }),
    })
    // Warm: scripts loaded, tag tokens created.
    await reader.wrap('warm', async () => 'w', { tags })
    await reader2.wrap('warm', async () => 'w', { tags })
  })
  afterAll(async () => {
    await reader?.close()
    await writer?.close()
    await reader2?.close()
    readerClient?.disconnect()
    writerClient?.disconnect()
  })

  it('a key that hit before is read with GETEX + MGET in one round trip and no script', async () => {
    const key = unique()
    await reader.wrap(key, async () => 'v', { tags })
    expect((await reader.wrapWithInfo(key, async () => 'never', { tags })).info.source).toBe('hit')
    const { trips, commands } = await counter.during(async () => {
      expect(await reader.wrapWithInfo(key, async () => 'never', { tags })).toEqual({
        value: 'v',
        info: { source: 'hit', tier: 'l2' },
      })
    })
    expect({ trips, commands }).toEqual({ trips: 1, commands: ['getex', 'mget'] })
  })

  it('the hits of one tick share one GETEX and one MGET, each read getting its own entry', async () => {
    const keys = Array.from({ length: 16 }, () => unique())
    for (const [i, key] of keys.entries()) await reader.wrap(key, async () => `v${i}`, { tags })
    for (const key of keys) await reader.wrap(key, async () => 'never', { tags }) // hinted now
    const { trips, commands } = await counter.during(async () => {
      const read = await Promise.all(
        keys.map((key) => reader.wrapWithInfo(key, async () => 'never', { tags })),
      )
      expect(read.map((r) => r.value)).toEqual(keys.map((_, i) => `v${i}`))
      expect(read.every((r) => r.info.source === 'hit')).toBe(true)
    })
    expect({ trips, commands }).toEqual({ trips: 1, commands: ['getex', 'mget'] })
  })

  it("another process's invalidation is seen by the plain read: a miss that loads the new value", async () => {
    const key = unique()
    let row = 'old'
    await reader.wrap(key, async () => row, { tags })
    expect((await reader.wrapWithInfo(key, async () => row, { tags })).info.source).toBe('hit')
    row = 'new'
    await writer.invalidateTags(['user:1'])
    const { trips, commands } = await counter.during(async () => {
      expect(await reader.wrapWithInfo(key, async () => row, { tags })).toEqual({
        value: 'new',
        info: { source: 'miss', reason: 'invalidated' },
      })
    })
    // The wrong hint costs one round trip: plain read, full lookup (lease), fill.
    expect({ trips, commands }).toEqual({ trips: 3, commands: ['getex', 'mget', 'evalsha', 'evalsha'] })
    // The miss dropped the hint; its own fill set it again: the next read is a plain hit.
    const next = await counter.during(async () => {
      expect((await reader.wrapWithInfo(key, async () => 'never', { tags })).value).toBe('new')
    })
    expect(next.commands).toEqual(['getex', 'mget'])
  })

  it('a fill made while this process wrote one of its tags sets no hint: the next read takes the lookup', async () => {
    const key = unique()
    const loaded = gate()
    const paused = gate()
    const slow = reader.wrapWithInfo(
      key,
      async () => {
        loaded.open()
        await paused.promise
        return 'old'
      },
      { tags },
    )
    await loaded.promise
    await reader.invalidateTags(['user:1'])
    paused.open()
    expect((await slow).value).toBe('old')
    const { commands } = await counter.during(async () => {
      expect(await reader.wrapWithInfo(key, async () => 'new', { tags })).toEqual({
        value: 'new',
        info: { source: 'miss', reason: 'absent' },
      })
    })
    expect(commands).toEqual(['evalsha', 'evalsha'])
  })

  it('a local invalidation voids the hint at once: the miss keeps its two round trips', async () => {
    const key = unique()
    await reader.wrap(key, async () => 'old', { tags })
    expect((await reader.wrapWithInfo(key, async () => 'never', { tags })).info.source).toBe('hit')
    await reader.invalidateTags(['users'])
    const { trips, commands } = await counter.during(async () => {
      expect((await reader.wrapWithInfo(key, async () => 'new', { tags })).value).toBe('new')
    })
    expect({ trips, commands }).toEqual({ trips: 2, commands: ['evalsha', 'evalsha'] })
  })

  it('a hinted key invalidated elsewhere, paused between snapshot and fill while it is written again, leaves no stale entry', async () => {
    const key = unique()
    let row = 1
    await reader.wrap(key, async () => row, { tags })
    expect((await reader.wrapWithInfo(key, async () => row, { tags })).info.source).toBe('hit')
    row = 2
    await writer.invalidateTags(['user:1'])
    const loaded = gate()
    const paused = gate()
    // The plain read misses, the full lookup snapshots, the loader reads row 2 and stalls.
    const slow = reader.wrapWithInfo(
      key,
      async () => {
        const value = row
        loaded.open()
        await paused.promise
        return value
      },
      { tags },
    )
    await loaded.promise
    row = 3
    await writer.invalidateTags(['user:1']) // committed and invalidated while the loader stalls
    paused.open()
    expect(await slow).toEqual({ value: 2, info: { source: 'miss', reason: 'invalidated' } })
    // What the slow reader stored carries the snapshot from before the write: never served.
    expect(await reader.wrapWithInfo(key, async () => row, { tags })).toEqual({
      value: 3,
      info: { source: 'miss', reason: 'invalidated' },
    })
    expect(await writer.wrap(key, async () => -1, { tags })).toBe(3)
  })

  it('two processes expecting a hit on a key invalidated elsewhere still load it once (the lease)', async () => {
    const key = unique()
    let loads = 0
    const load = async () => {
      loads += 1
      await new Promise((resolve) => setTimeout(resolve, 50))
      return `v${loads}`
    }
    await reader.wrap(key, load, { tags })
    for (const cache of [reader, reader2])
      expect((await cache.wrapWithInfo(key, load, { tags })).info.source).toBe('hit')
    await writer.invalidateTags(['users'])
    loads = 0
    const reads = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? reader : reader2).wrap(key, load, { tags })),
    )
    expect(loads).toBe(1)
    expect(new Set(reads)).toEqual(new Set(['v1']))
  })
})

describe('plain hit read on a Redis without GETEX (< 6.2)', () => {
  let server: OwnedServer | undefined
  afterAll(async () => {
    await server?.stop()
  })

  it('falls back to the lookup script for good, with no error and no stale read', async () => {
    const port = await freePort()
    server = await startServer(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--rename-command',
        'GETEX',
        '',
      ],
      port,
      () => redisAnswers('127.0.0.1', port),
    )
    const client = new Redis(`redis://127.0.0.1:${port}`)
    const counter = new RoundTrips()
    countRedis(client, counter)
    const cache = createCache({ store: redisStore({ client }), namespace: unique(), bus: false, l1: false })
    const errors: unknown[] = []
    cache.on('error', ({ error }) => errors.push(error))
    try {
      let row = 'old'
      // The fill makes the next read of the key a plain read.
      await cache.wrap('k', async () => row, { tags })
      // The first plain read finds GETEX missing: the script answers that read.
      const first = await counter.during(async () => {
        expect(await cache.wrapWithInfo('k', async () => row, { tags })).toMatchObject({
          value: 'old',
          info: { source: 'hit' },
        })
      })
      expect(first.commands).toEqual(['getex', 'mget', 'evalsha'])
      const later = await counter.during(async () => {
        expect((await cache.wrapWithInfo('k', async () => row, { tags })).value).toBe('old')
      })
      expect(later.commands).toEqual(['evalsha'])
      row = 'new'
      await cache.invalidateTags(['users'])
      expect((await cache.wrapWithInfo('k', async () => row, { tags })).value).toBe('new')
      expect(errors).toEqual([])
    } finally {
      await cache.close()
      client.disconnect()
    }
  })
})

describe('HitHints', () => {
  it('expects a hit only for a key that hit, until a tag it was read with is invalidated here', () => {
    const hints = new HitHints()
    expect(hints.expects('k', ['a', 'b'])).toBe(false)
    hints.hit('k', hints.now())
    expect(hints.expects('k', ['a', 'b'])).toBe(true)
    hints.invalidated(['c'], false)
    expect(hints.expects('k', ['a', 'b'])).toBe(true)
    hints.invalidated(['b'], false)
    expect(hints.expects('k', ['a', 'b'])).toBe(false)
    hints.hit('k', hints.now())
    expect(hints.expects('k', ['a', 'b'])).toBe(true)
    hints.missed('k')
    expect(hints.expects('k', ['a', 'b'])).toBe(false)
  })

  it('a hit whose lookup started before an invalidation of its tags is no hint', () => {
    const hints = new HitHints()
    const since = hints.now()
    hints.invalidated(['a'], false) // lands while that lookup is in flight
    hints.hit('k', since)
    expect(hints.expects('k', ['a'])).toBe(false)
  })

  it('answers list checks from the recent invalidations exactly as the per-tag record would', () => {
    // A reference model: every invalidation kept, a check scans all of them.
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const pool = Array.from({ length: 120 }, (_, i) => `t${i}`)
    const lists = Array.from({ length: 12 }, (_, l) =>
      pool.filter(() => random() < (l % 3 === 0 ? 0.05 : 0.6)),
    )
    const hints = new HitHints()
    const log: { tags: string[]; everything: boolean }[] = []
    const hinted = new Map<string, number>()
    let checks = 0
    for (let step = 0; step < 4000; step++) {
      const pick = random()
      const l = Math.floor(random() * lists.length)
      const key = `k${l}`
      if (pick < 0.35) {
        const everything = random() < 0.01
        const count = random() < 0.1 ? 60 + Math.floor(random() * 100) : Math.floor(random() * 6)
        const tags = Array.from({ length: count }, () => pool[Math.floor(random() * pool.length)]!)
        hints.invalidated(tags, everything)
        log.push({ tags, everything })
      } else if (pick < 0.55) {
        hints.hit(key, hints.now())
        hinted.set(key, log.length)
      } else {
        const at = hinted.get(key)
        const tags = lists[l]!
        const since = at === undefined ? [] : log.slice(at)
        const everything = since.some((record) => record.everything)
        const named = since.some((record) => record.tags.some((tag) => tags.includes(tag)))
        expect(hints.expects(key, tags)).toBe(at !== undefined && !everything && !named)
        // Voided: the hint stands (nothing cleared everything since) but a tag of it moved.
        expect(hints.voided(key, tags)).toBe(at !== undefined && !everything && named)
        checks++
      }
    }
    expect(checks).toBeGreaterThan(1000)
  })

  it('a tags array changed in place after a check is judged by what it holds now', () => {
    const hints = new HitHints()
    const tags = Array.from({ length: 20 }, (_, i) => `t${i}`)
    hints.hit('k', hints.now())
    hints.invalidated(['other'], false)
    expect(hints.expects('k', tags)).toBe(true)
    tags[3] = 'other'
    expect(hints.expects('k', tags)).toBe(false)
  })

  it('invalidating everything voids every hint taken before', () => {
    const hints = new HitHints()
    hints.hit('k', hints.now())
    hints.invalidated([], true)
    expect(hints.expects('k', ['a'])).toBe(false)
    hints.hit('k', hints.now())
    expect(hints.expects('k', ['a'])).toBe(true)
  })

  it('drops a hint when its plain read missed, and takes it again on the next hit', () => {
    const hints = new HitHints()
    const tags = ['t:user', 'r:user:1']
    hints.hit('k', hints.now())
    hints.missed('k')
    expect(hints.expects('k', tags)).toBe(false)
    expect(hints.voided('k', tags)).toBe(false)
    hints.missed('never-hit')
    expect(hints.expects('never-hit', tags)).toBe(false)
    hints.hit('k', hints.now())
    expect(hints.expects('k', tags)).toBe(true)
  })

  it('keeps at most 10,000 keys, dropping the oldest first, missed ones included', () => {
    const hints = new HitHints()
    const tags = ['t:user']
    for (let i = 0; i < 10_000; i++) hints.hit(`k${i}`, hints.now())
    hints.missed('k1')
    hints.hit('k1', hints.now()) // set in place: still the second oldest
    for (let i = 0; i < 3; i++) hints.hit(`new${i}`, hints.now())
    expect([0, 1, 2, 3].map((i) => hints.expects(`k${i}`, tags))).toEqual([false, false, false, true])
    expect(hints.expects('new2', tags)).toBe(true)
    expect(hints.expects('k9999', tags)).toBe(true)
  })

  it('a skipped load ends a proven-dead mark and leaves a hint alone', () => {
    const hints = new HitHints()
    const tags = ['t:user']
    hints.hit('dead', hints.now())
    hints.missed('dead', true)
    expect(hints.voided('dead', tags)).toBe(true)
    hints.loadSkipped('dead')
    expect(hints.voided('dead', tags)).toBe(false)
    expect(hints.expects('dead', tags)).toBe(false)
    hints.hit('hinted', hints.now())
    hints.loadSkipped('hinted')
    expect(hints.expects('hinted', tags)).toBe(true)
  })
})
