import { afterAll, describe, expect, it } from 'vitest'
import { bulkWriteTags, columnTag, rowTag, tableTag } from '../src/exports/adapter.js'
import { type Cache, createCache, memoryStore } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { KeySpace } from '../src/query-key.js'
import { keySlot } from '../src/redis/redis-slot.js'
import type { CacheStore } from '../src/store/types.js'
import { LOG_LENGTH } from '../src/tags/write-log.js'
import { gate } from './support/faulty-store.js'
import { countRedis, RoundTrips } from './support/round-trips.js'
import { connectCluster, connectRedis, removeKeysUnder } from './support/services.js'

/**
 * The per-table write log (docs/design.md, "The write log"): a list whose rows are known only
 * after its load keeps its fill when a write to another row of the table lands during the load,
 * and skips it when the write names one of its rows, cannot name its rows, or fell off the log.
 */
type Row = { id: number; team: number; v: number }
const PINS = [columnTag('wl_users', 'team_id', 2)]
const afterLoad = {
  tables: ['wl_users'],
  tags: (rows: Row[]) => rows.map((r) => rowTag('wl_users', { id: r.id })),
}
const rowWrite = (id: number) => [tableTag('wl_users'), rowTag('wl_users', { id })]

const closers: (() => Promise<unknown>)[] = []
/** Every namespace of this run starts with it, so the run removes its keys when done. */
const RUN = `wlog-${Math.random().toString(36).slice(2, 10)}`
afterAll(async () => {
  for (const close of closers) await close()
  await removeKeysUnder(RUN)
})

const shared = memoryStore()
const backends: [string, () => Promise<CacheStore>][] = [
  ['memory', async () => unclosable(shared)],
  ['redis', async () => redisStore({ client: await connectRedis(), ownsClient: true })],
  ['redis cluster', async () => redisStore({ client: await connectCluster(), ownsClient: true })],
]

describe.each(backends)('write log (%s)', (_name, makeStore) => {
  const open = async (namespace: string) => {
    const cache = createCache({ store: await makeStore(), namespace, l1: false, bus: false })
    closers.push(() => cache.close())
    return cache
  }
  const pair = async () => {
    const namespace = `${RUN}-${Math.random().toString(36).slice(2)}`
    return { reader: await open(namespace), writer: await open(namespace) }
  }

  /** Runs a read of team 2 whose loader pauses after reading; `during` runs in the pause. */
  const pausedRead = async (reader: Cache, rows: Row[], during: () => Promise<unknown>) => {
    const loaded = gate()
    const resume = gate()
    const slow = reader.wrap(
      'team:2',
      async () => {
        const copy = rows.filter((r) => r.team === 2).map((r) => ({ ...r }))
        loaded.open()
        await resume.promise
        return copy
      },
      { tags: PINS, afterLoad },
    )
    await loaded.promise
    await during()
    resume.open()
    return slow
  }
  it('a write to another row of the table during the load: the list is stored and served', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [
      { id: 1, team: 2, v: 0 },
      { id: 9, team: 1, v: 0 },
    ]
    await pausedRead(reader, rows, async () => {
      rows[1]!.v = 1
      await writer.invalidateTags(rowWrite(9))
    })
    expect(reader.stats().fillsSkipped).toBe(0)
    const next = await read(reader, rows)
    expect(next.info.source).toBe('hit')
    expect(next.value).toEqual([{ id: 1, team: 2, v: 0 }])
  })

  it('the same process writing another row during the load keeps the list; a listed row skips it', async () => {
    const { reader } = await pair()
    const rows: Row[] = [
      { id: 1, team: 2, v: 0 },
      { id: 9, team: 1, v: 0 },
    ]
    await pausedRead(reader, rows, async () => {
      rows[1]!.v = 1
      await reader.invalidateTags(rowWrite(9))
    })
    expect((await read(reader, rows)).info.source).toBe('hit')
    await reader.invalidateTags(rowWrite(1)) // evicts the list
    await pausedRead(reader, rows, async () => {
      rows[0]!.v = 1
      await reader.invalidateTags(rowWrite(1))
    })
    const next = await read(reader, rows)
    expect(next.info.source).toBe('miss')
    expect(next.value[0]!.v).toBe(1)
  })

  it('a write to a row of the list during the load: skipped, never stale', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    const slow = await pausedRead(reader, rows, async () => {
      rows[0]!.v = 1 // commits after the load read row 1
      await writer.invalidateTags(rowWrite(1))
    })
    expect(slow[0]!.v).toBe(0)
    expect(reader.stats().fillsSkipped).toBe(1)
    const next = await read(reader, rows)
    expect(next.info.source).toBe('miss')
    expect(next.value[0]!.v).toBe(1)
  })

  it('a row moving into the pinned value during the load: skipped, never served', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    await pausedRead(reader, rows, async () => {
      rows.push({ id: 5, team: 2, v: 0 })
      await writer.invalidateTags([...rowWrite(5), columnTag('wl_users', 'team_id', 2)])
    })
    // The pin was taken before the load: its logged bump skips the fill rather than store it dead.
    expect(reader.stats().fillsSkipped).toBe(1)
    const next = await read(reader, rows)
    expect(next.info.source).toBe('miss')
    expect(next.value.map((r) => r.id)).toEqual([1, 5])
  })

  it('a write that cannot name its rows (bulk) during the load: skipped', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    await pausedRead(reader, rows, async () => {
      rows[0]!.v = 1
      await writer.invalidateTags(bulkWriteTags('wl_users'))
    })
    expect(reader.stats().fillsSkipped).toBe(1)
    expect((await read(reader, rows)).value[0]!.v).toBe(1)
  })

  it('a table tag bumped alone is a write to unknown rows: skipped', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    await pausedRead(reader, rows, () => writer.invalidateTags([tableTag('wl_users')]))
    expect(reader.stats().fillsSkipped).toBe(1)
  })

  it('a row tag bumped without its table tag is still logged', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    await pausedRead(reader, rows, async () => {
      rows[0]!.v = 1
      await writer.invalidateTags([rowTag('wl_users', { id: 1 })])
    })
    expect(reader.stats().fillsSkipped).toBe(1)
    expect((await read(reader, rows)).value[0]!.v).toBe(1)
  })

  it('when the log no longer reaches back to the snapshot: skipped', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    await pausedRead(reader, rows, async () => {
      for (let i = 0; i <= LOG_LENGTH; i++) await writer.invalidateTags(rowWrite(1000 + i))
    })
    expect(reader.stats().fillsSkipped).toBe(1)
  })

  // The Redis check reads the newest records first and older ones only when it needs them.
  // The memory store keeps each log parsed as it wrote it: a log gone from the store (evicted,
  // expired) must never be answered from that copy.
  it('the log removed from the store during the load: skipped', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    await pausedRead(reader, rows, async () => {
      await writer.invalidateTags(rowWrite(4000))
      const keys = new KeySpace(writer.namespace)
      const store = await makeStore()
      await store.delete(keys.log(keys.tag(tableTag('wl_users'))))
      await store.close()
    })
    expect(reader.stats().fillsSkipped).toBe(1)
  })

  it('40 writes to other rows during the load (past the newest records): stored and served', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    await pausedRead(reader, rows, async () => {
      for (let i = 0; i < 40; i++) await writer.invalidateTags(rowWrite(2000 + i))
    })
    expect(reader.stats().fillsSkipped).toBe(0)
    expect((await read(reader, rows)).info.source).toBe('hit')
  })

  it('a listed row written first, then 39 other rows during the load: skipped, never stale', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    const slow = await pausedRead(reader, rows, async () => {
      rows[0]!.v = 1
      await writer.invalidateTags(rowWrite(1)) // the oldest record since the snapshot
      for (let i = 0; i < 39; i++) await writer.invalidateTags(rowWrite(3000 + i))
    })
    expect(slow[0]!.v).toBe(0)
    expect(reader.stats().fillsSkipped).toBe(1)
    const next = await read(reader, rows)
    expect(next.info.source).toBe('miss')
    expect(next.value[0]!.v).toBe(1)
  })

  // The memory store appends to a log and trims it only at twice its length: a check must see
  // the newest LOG_LENGTH records on either side of that trim.
  it('writes that cross the log trim during the load: other rows stored, a listed row skipped', async () => {
    for (const listed of [false, true]) {
      const { reader, writer } = await pair()
      const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
      for (let i = 0; i < 2 * LOG_LENGTH - 3; i++) await writer.invalidateTags(rowWrite(5000 + i))
      await pausedRead(reader, rows, async () => {
        if (listed) {
          rows[0]!.v = 1
          await writer.invalidateTags(rowWrite(1))
        }
        for (let i = 0; i < 5; i++) await writer.invalidateTags(rowWrite(6000 + i))
      })
      expect(reader.stats().fillsSkipped).toBe(listed ? 1 : 0)
      const next = await read(reader, rows)
      expect(next.info.source).toBe(listed ? 'miss' : 'hit')
      expect(next.value[0]!.v).toBe(listed ? 1 : 0)
    }
  })

  it('clear() during the load: skipped', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    await pausedRead(reader, rows, async () => {
      rows[0]!.v = 1
      await writer.clear()
    })
    const next = await read(reader, rows)
    expect(next.info.source).toBe('miss')
    expect(next.value[0]!.v).toBe(1)
  })

  it('write-through of another row during the load keeps the list, of a listed row skips it', async () => {
    const { reader, writer } = await pair()
    const rows: Row[] = [
      { id: 1, team: 2, v: 0 },
      { id: 9, team: 1, v: 0 },
    ]
    await pausedRead(reader, rows, async () => {
      const intent = await writer.beginWrite(rowWrite(9))
      rows[1]!.v = 1
      await intent.commit({ invalidate: rowWrite(9), fill: { key: 'row:9', value: rows[1] } })
    })
    expect(reader.stats().fillsSkipped).toBe(0)
    expect((await read(reader, rows)).info.source).toBe('hit')
    const second = await pair()
    await pausedRead(second.reader, rows, async () => {
      const intent = await second.writer.beginWrite(rowWrite(1))
      rows[0]!.v = 1
      await intent.commit({ invalidate: rowWrite(1), fill: { key: 'row:1', value: rows[0] } })
    })
    expect(second.reader.stats().fillsSkipped).toBe(1)
    expect((await read(second.reader, rows)).value[0]!.v).toBe(1)
  })
})

describe('write log keys', () => {
  it('a table tag and its log share a Redis Cluster slot', () => {
    const keys = new KeySpace('ns')
    for (const table of ['users', 'a_very_long_table_name'.repeat(10), 'Ünïcode']) {
      const tagKey = keys.tag(tableTag(table))
      expect(keySlot(keys.log(tagKey))).toBe(keySlot(tagKey))
    }
  })
})

describe('round trips of a precise-list miss', () => {
  it('one Redis node: the lookup, then one script that checks the log and stores', async () => {
    const counter = new RoundTrips()
    const client = await connectRedis()
    countRedis(client, counter)
    const cache = createCache({
      store: redisStore({ client }),
      namespace: `${RUN}-rt-${Math.random().toString(36).slice(2)}`,
      l1: false,
      bus: false,
    })
    try {
      const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
      await read(cache, rows, 'warm') // loads the scripts, creates the tags
      await cache.invalidateTags(rowWrite(9)) // the table tag has moved, its log holds a record
      const { trips, commands } = await counter.during(async () => {
        expect((await read(cache, rows)).info.source).toBe('miss')
      })
      expect({ trips, commands }).toEqual({ trips: 2, commands: ['evalsha', 'evalsha'] })
      expect((await read(cache, rows)).info.source).toBe('hit')
    } finally {
      await cache.close()
      client.disconnect()
    }
  })
})

describe('a refused precise-list fill (one Redis node)', () => {
  it('lets its lease go in the settle script: no release of its own, no lease left behind', async () => {
    const counter = new RoundTrips()
    const [client, reader] = await Promise.all([connectRedis(), connectRedis()])
    countRedis(client, counter)
    const namespace = `${RUN}-refuse-${Math.random().toString(36).slice(2)}`
    const cache = createCache({ store: redisStore({ client }), namespace, l1: false, bus: false })
    const writer = createCache({ store: redisStore({ client: reader }), namespace, l1: false, bus: false })
    try {
      const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
      await read(cache, rows, 'warm') // loads the scripts, creates the tags
      const loaded = gate()
      const resume = gate()
      const slow = cache.wrapWithInfo(
        'team:2',
        async () => {
          const copy = rows.map((r) => ({ ...r }))
          loaded.open()
          await resume.promise
          return copy
        },
        { tags: PINS, afterLoad },
      )
      await loaded.promise
      expect(await reader.keys(`${namespace}:l:*`)).toHaveLength(1)
      rows[0]!.v = 1
      // Another process's write names the listed row: the fill must be refused.
      await writer.invalidateTags(rowWrite(1))
      const { commands } = await counter.during(async () => {
        resume.open()
        expect((await slow).value[0]!.v).toBe(0)
      })
      expect(cache.stats().fillsSkipped).toBe(1)
      // Only the settle: before, a refusal sent a DELETE_IF_EQUALS of the lease after it.
      expect(commands).toEqual(['evalsha'])
      expect(await reader.keys(`${namespace}:l:*`)).toEqual([])
      expect((await read(cache, rows)).value[0]!.v).toBe(1)
    } finally {
      await cache.close()
      await writer.close()
      client.disconnect()
      reader.disconnect()
    }
  })
})

function read(cache: Cache, rows: Row[], key = 'team:2') {
  return cache.wrapWithInfo(key, () => rows.filter((r) => r.team === 2).map((r) => ({ ...r })), {
    tags: PINS,
    afterLoad,
  })
}

function unclosable(store: CacheStore): CacheStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'close') return async () => {}
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
