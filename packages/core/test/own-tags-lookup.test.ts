import crypto from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { columnTag, rowTag } from '../src/exports/adapter.js'
import { createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { KeySpace } from '../src/query-key.js'
import type { CacheStore, LookupReply, LookupRequest } from '../src/store/types.js'
import { connectRedis, removeKeysUnder } from './support/services.js'

/**
 * The single-node Redis LOOKUP judges an entry stored under other tags than its readers ask for
 * (an afterLoad list) by the entry's own tags, read inside the same script: a hit sends only the
 * asked tags, whatever number of rows the list depends on, and a write to any of those rows is
 * still seen by a process that never read the list before.
 */
type Row = { id: number; v: number }
const PIN = [columnTag('users', 'team_id', 7)]
const afterLoad = {
  tables: ['users'],
  tags: (rows: Row[]) => rows.map((r) => rowTag('users', { id: r.id })),
}

interface Seen {
  keys: number
  reply: LookupReply
}

/** A Redis store whose lookups are recorded (the request's key count and the reply). */
function recorded(client: Redis, seen: Seen[]): CacheStore {
  const store = redisStore({ client })
  const lookup = store.lookup!.bind(store)
  store.lookup = async (request: LookupRequest) => {
    const reply = await lookup(request)
    seen.push({ keys: request.keys.length, reply })
    return reply
  }
  return store
}

let client: Redis
const closers: (() => Promise<unknown>)[] = []
beforeAll(async () => {
  client = await connectRedis()
})
/** Every namespace of this run starts with it, so the run removes its keys when done. */
const RUN = `owntags-${crypto.randomBytes(4).toString('hex')}`
afterAll(async () => {
  for (const close of closers) await close()
  client.disconnect()
  await removeKeysUnder(RUN)
})

const namespace = () => `${RUN}-${crypto.randomBytes(5).toString('hex')}`

function open(ns: string, seen: Seen[] = []) {
  const cache = createCache({ store: recorded(client, seen), namespace: ns, l1: false })
  closers.push(() => cache.close())
  return cache
}

describe('Redis lookup judges an entry by its own tags', () => {
  it('a hit on a 50-row list sends only the asked tags, even in a process that never read it', async () => {
    const ns = namespace()
    const rows: Row[] = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, v: 0 }))
    const writer = open(ns)
    await writer.wrap('team:7', async () => rows.map((r) => ({ ...r })), { tags: PIN, afterLoad })

    const seen: Seen[] = []
    const reader = open(ns, seen)
    const read = await reader.wrapWithInfo('team:7', async () => [] as Row[], { tags: PIN, afterLoad })
    expect(read.info.source).toBe('hit')
    expect(read.value).toEqual(rows)
    // The namespace epoch, the pin and the table tag that guards the after-load tags; not the 50 row tags.
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ keys: 3, reply: { ownCurrent: true } })
  })

  it('a write to one loaded row is a miss for a reader that never saw the list', async () => {
    const ns = namespace()
    let rows: Row[] = [
      { id: 1, v: 0 },
      { id: 2, v: 0 },
    ]
    const load = async () => rows.map((r) => ({ ...r }))
    const writer = open(ns)
    await writer.wrap('team:7', load, { tags: PIN, afterLoad })
    rows = [
      { id: 1, v: 0 },
      { id: 2, v: 1 },
    ]
    await writer.invalidateTags([rowTag('users', { id: 2 })])

    const seen: Seen[] = []
    const reader = open(ns, seen)
    const read = await reader.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })
    expect(read).toMatchObject({ value: rows, info: { source: 'miss', reason: 'invalidated' } })
    expect(seen[0]!.reply.ownCurrent).toBe(false)
    // The dead entry came back as its head only: its payload never crossed the network.
    expect(seen[0]!.reply.entry!.split('\n')).toHaveLength(2)
    expect((await reader.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })).info.source).toBe('hit')
  })

  it.each([
    50,
    // 1,000 row tags: the head alone is ~25 KB, past the start of the entry the script reads first.
    1_000,
  ])(
    'a list (%i rows) this process wrote a row of is looked up with its asked tags only, head only, and reloaded',
    async (count) => {
      const ns = namespace()
      const rows: Row[] = Array.from({ length: count }, (_, i) => ({ id: i + 1, v: 0 }))
      const seen: Seen[] = []
      const cache = open(ns, seen)
      const load = async () => rows.map((r) => ({ ...r }))
      await cache.wrap('team:7', load, { tags: PIN, afterLoad })
      const stored = (await client.get(new KeySpace(ns).entry('team:7').storeKey))!
      const head = stored.split('\n').slice(0, 2).join('\n')
      expect(head.length > 8192).toBe(count === 1_000)
      rows[9] = { id: 10, v: 1 }
      await cache.invalidateTags([rowTag('users', { id: 10 })])
      seen.length = 0
      expect(await cache.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })).toMatchObject({
        value: rows,
        info: { source: 'miss', reason: 'invalidated' },
      })
      // The epoch, the pin and the guard, not the row tags; exactly the dead entry's head.
      expect(seen[0]!.keys).toBe(3)
      expect(seen[0]!.reply.entry).toBe(head)
      // Its own fill makes the next read a plain hit (no lookup).
      seen.length = 0
      expect(await cache.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })).toMatchObject({
        value: rows,
        info: { source: 'hit' },
      })
      expect(seen).toEqual([])
    },
  )

  it("a list another process refilled after this process's write is reloaded once, fresh, then hits", async () => {
    const ns = namespace()
    const rows: Row[] = [
      { id: 1, v: 0 },
      { id: 2, v: 0 },
    ]
    let loads = 0
    const load = async () => {
      loads += 1
      return rows.map((r) => ({ ...r }))
    }
    const writer = open(ns)
    const other = open(ns)
    await writer.wrap('team:7', load, { tags: PIN, afterLoad })
    rows[1] = { id: 2, v: 1 }
    await writer.invalidateTags([rowTag('users', { id: 2 })])
    expect((await other.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })).value).toEqual(rows)
    loads = 0
    expect(await writer.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })).toMatchObject({
      value: rows,
      info: { source: 'miss' },
    })
    expect(loads).toBe(1)
    expect(await writer.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })).toMatchObject({
      value: rows,
      info: { source: 'hit' },
    })
    expect(loads).toBe(1)
  })

  it('an evicted version of an own tag is a miss', async () => {
    const ns = namespace()
    const rows: Row[] = [{ id: 3, v: 0 }]
    const cache = open(ns)
    await cache.wrap('team:7', async () => rows, { tags: PIN, afterLoad })
    await client.del(new KeySpace(ns).tag(rowTag('users', { id: 3 })))
    const read = await cache.wrapWithInfo('team:7', async () => rows, { tags: PIN, afterLoad })
    expect(read.info).toMatchObject({ source: 'miss', reason: 'invalidated' })
  })

  it('the script reads exactly the tags KeySpace stores directly, and leaves hashed ones to the caller', async () => {
    const ns = namespace()
    const keys = new KeySpace(ns)
    // Row tags of table t (after-load tags must be fine tags of a guarded table) with every
    // character KeySpace keeps readable, and with ones it hashes; 160 and 161 characters long.
    const suffixes = [
      'abcXYZ019._:-/|@#=+,',
      'x'.repeat(156),
      'x'.repeat(157),
      'with space',
      'caf\u00e9',
      'semi;colon',
      'star*',
      'percent%',
      'quote"',
      'new\nline',
    ]
    const cases = suffixes.map((suffix) => `r:t:${suffix}`)
    for (const own of cases) {
      const seen: Seen[] = []
      const cache = open(ns)
      // Another process reads it: the filler's own next read is a plain read, with no lookup.
      const reader = open(ns, seen)
      const key = `k:${crypto.randomBytes(4).toString('hex')}`
      const tagged = { tables: ['t'], tags: () => [own] }
      await cache.wrap(key, async () => 1, { tags: ['pin'], afterLoad: tagged })
      const hit = await reader.wrapWithInfo(key, async () => 2, { tags: ['pin'], afterLoad: tagged })
      expect({ own, ...hit }).toMatchObject({ own, value: 1, info: { source: 'hit' } })
      const direct = keys.tag(own) === `${keys.tagPrefix}${own}`
      expect({ own, judged: seen[0]!.reply.ownCurrent !== undefined }).toEqual({ own, judged: direct })
      // Judged here or by the caller, a write to the tag is seen.
      await cache.invalidateTags([own])
      expect((await cache.wrapWithInfo(key, async () => 2, { tags: ['pin'], afterLoad: tagged })).value).toBe(
        2,
      )
    }
  })
})
