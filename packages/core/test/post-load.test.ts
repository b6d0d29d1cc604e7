import { afterAll, describe, expect, it } from 'vitest'
import { columnTag, rowTag, tableTag } from '../src/exports/adapter.js'
import { createCache, memoryStore } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import type { CacheStore } from '../src/store/types.js'
import { gate } from './support/faulty-store.js'
import { connectCluster, connectRedis, removeKeysUnder } from './support/services.js'

/** A list of rows pinned to team 2; each row is { id, team, v }. */
type Row = { id: number; team: number; v: number }
const PINS = [columnTag('users', 'team_id', 2), tableTag('x-unrelated')]
const afterLoad = {
  tables: ['users'],
  tags: (rows: Row[]) => rows.map((r) => rowTag('users', { id: r.id })),
}

const closers: (() => Promise<unknown>)[] = []
/** Every namespace of this run starts with it, so the run removes its keys when done. */
const RUN = `postload-${Math.random().toString(36).slice(2)}`
afterAll(async () => {
  for (const close of closers) await close()
  await removeKeysUnder(RUN)
})

const shared = memoryStore()
const backends: [string, () => Promise<CacheStore>][] = [
  // Both caches of a test share this one store, as two processes share Redis.
  ['memory', async () => unclosable(shared)],
  ['redis', async () => redisStore({ client: await connectRedis(), ownsClient: true })],
  [
    'redis cluster (unordered batches)',
    async () => redisStore({ client: await connectCluster(), ownsClient: true }),
  ],
]

describe.each(backends)('dependencies known after the load (%s)', (_name, makeStore) => {
  const open = async (namespace = `${RUN}-${Math.random().toString(36).slice(2)}`) => {
    const cache = createCache({ store: await makeStore(), namespace })
    closers.push(() => cache.close())
    return cache
  }

  it('stores the list under its rows, so writes to other rows of the table leave it cached', async () => {
    const cache = await open()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    let loads = 0
    const read = () =>
      cache.wrapWithInfo(
        'team:2',
        () => {
          loads += 1
          return rows.map((r) => ({ ...r }))
        },
        { tags: PINS, afterLoad },
      )
    await read()
    // A write to row 9 (another team): table tag and its own row tag.
    await cache.invalidateTags([tableTag('users'), rowTag('users', { id: 9 })])
    expect((await read()).info.source).toBe('hit')
    // A write to row 1 (in the list) evicts it.
    rows[0]!.v = 1
    await cache.invalidateTags([tableTag('users'), rowTag('users', { id: 1 })])
    const after = await read()
    expect(after.info.source).toBe('miss')
    expect(after.value[0]!.v).toBe(1)
    expect(loads).toBe(2)
  })

  it('a write that lands during the load makes the fill skip (never stale, counted)', async () => {
    const namespace = `${RUN}-${Math.random().toString(36).slice(2)}`
    const cache = await open(namespace)
    const writer = await open(namespace) // another process
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    const loaded = gate()
    const resume = gate()
    const slow = cache.wrap(
      'team:2',
      async () => {
        const snapshot = rows.map((r) => ({ ...r }))
        loaded.open()
        await resume.promise
        return snapshot
      },
      { tags: PINS, afterLoad },
    )
    await loaded.promise
    rows[0]!.v = 1 // commits after the load read row 1
    await writer.invalidateTags([tableTag('users'), rowTag('users', { id: 1 })])
    resume.open()
    expect((await slow)[0]!.v).toBe(0)
    expect(cache.stats().fillsSkipped).toBe(1)
    const next = await cache.wrapWithInfo('team:2', () => rows.map((r) => ({ ...r })), {
      tags: PINS,
      afterLoad,
    })
    expect(next.info.source).toBe('miss')
    expect(next.value[0]!.v).toBe(1)
  })

  it('a membership change (a row moves into the pinned value) evicts the list', async () => {
    const cache = await open()
    const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
    const read = () =>
      cache.wrapWithInfo('team:2', () => rows.filter((r) => r.team === 2), { tags: PINS, afterLoad })
    await read()
    rows.push({ id: 5, team: 2, v: 0 }) // row 5 moves from team 1 to team 2
    await cache.invalidateTags([
      tableTag('users'),
      rowTag('users', { id: 5 }),
      columnTag('users', 'team_id', 2),
    ])
    const after = await read()
    expect(after.info.source).toBe('miss')
    expect(after.value.map((r) => r.id)).toEqual([1, 5])
  })

  it('a list of more rows than one Lua unpack holds is stored, and a write to its last row evicts it', async () => {
    const cache = await open()
    const rows: Row[] = Array.from({ length: 9_000 }, (_, i) => ({ id: i + 1, team: 2, v: 0 }))
    const read = () =>
      cache.wrapWithInfo('team:2', () => rows.map((r) => ({ ...r })), { tags: PINS, afterLoad })
    expect((await read()).info.source).toBe('miss')
    expect((await read()).info.source).toBe('hit')
    // Another process, with no hint, reads it by the lookup and then by its learned head tags.
    const other = createCache({ store: await makeStore(), namespace: cache.namespace })
    closers.push(() => other.close())
    const errors: unknown[] = []
    other.on('error', (event) => errors.push(event))
    for (let i = 0; i < 3; i++) {
      const seen = await other.wrapWithInfo('team:2', async () => [], { tags: PINS, afterLoad })
      expect({ source: seen.info.source, rows: seen.value.length }).toEqual({ source: 'hit', rows: 9_000 })
    }
    expect(errors).toEqual([])
    rows[8_999] = { id: 9_000, team: 2, v: 1 }
    await cache.invalidateTags([tableTag('users'), rowTag('users', { id: 9_000 })])
    const after = await read()
    expect(after.info.source).toBe('miss')
    expect(after.value[8_999]).toEqual({ id: 9_000, team: 2, v: 1 })
  })
})

describe('column-value tags', () => {
  it('normalize values the way both ORMs and a row image produce them', () => {
    expect(columnTag('public.Users', 'teamId', 2)).toBe(columnTag('users', 'TEAMID', 2n))
    expect(columnTag('users', 'team', '2')).toBe(columnTag('users', 'team', 2))
    expect(columnTag('users', 'on', true)).toBe(columnTag('users', 'on', 1))
    expect(columnTag('users', 'team', null)).not.toBe(columnTag('users', 'team', 'null'))
    expect(columnTag('t', 'at', new Date('2024-01-01T00:00:00Z'))).toBe(
      columnTag('t', 'at', new Date('2024-01-01T02:00:00+02:00')),
    )
  })
})

function unclosable(store: CacheStore): CacheStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'close') return async () => {}
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
