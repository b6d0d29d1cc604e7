import { afterAll, describe, expect, it } from 'vitest'
import { columnTag, rowTag } from '../src/exports/adapter.js'
import { createCache, memoryStore } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import type { CacheStore } from '../src/store/types.js'
import { connectCluster, connectRedis } from './support/services.js'

/**
 * read-path.ts remembers the tags of an entry stored under other tags than its readers ask for
 * (afterLoad lists), and reads their versions with the entry. The memory is only a hint: when the
 * entry changed its tags since, the read must still judge it by its own tags.
 */
type Row = { id: number; v: number }
const PIN = [columnTag('users', 'team_id', 7)]
const afterLoad = {
  tables: ['users'],
  tags: (rows: Row[]) => rows.map((r) => rowTag('users', { id: r.id })),
}

const closers: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const close of closers) await close()
})

const shared = memoryStore()
const backends: [string, () => Promise<CacheStore>][] = [
  // Both caches of a test share this one store, as two processes share Redis.
  ['memory', async () => unclosable(shared)],
  ['redis', async () => redisStore({ client: await connectRedis(), ownsClient: true })],
  ['redis cluster', async () => redisStore({ client: await connectCluster(), ownsClient: true })],
]

describe.each(backends)('remembered entry tags (%s)', (_name, makeStore) => {
  it('an entry whose tags changed since they were remembered is judged by its new tags', async () => {
    const namespace = `headtags-${Math.random().toString(36).slice(2)}`
    const open = async () => {
      const cache = createCache({ store: await makeStore(), namespace, l1: false })
      closers.push(() => cache.close())
      return cache
    }
    const a = await open()
    const b = await open()
    let rows: Row[] = [
      { id: 1, v: 0 },
      { id: 2, v: 0 },
    ]
    const load = async () => rows.map((r) => ({ ...r }))
    const read = (cache: typeof a) => cache.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })
    await read(a)
    expect((await read(a)).info.source).toBe('hit') // a now remembers rows 1 and 2
    // The list changes to rows 1 and 3 (its pin tag moves); b refills it under the new rows.
    rows = [
      { id: 1, v: 0 },
      { id: 3, v: 0 },
    ]
    await b.invalidateTags(PIN)
    expect((await read(b)).info.source).toBe('miss')
    // A write to row 3, which a's memory does not know.
    rows = [
      { id: 1, v: 0 },
      { id: 3, v: 1 },
    ]
    await b.invalidateTags([rowTag('users', { id: 3 })])
    expect(await read(a)).toMatchObject({ value: rows, info: { source: 'miss', reason: 'invalidated' } })
    expect(await read(a)).toMatchObject({ value: rows, info: { source: 'hit' } })
  })

  it('a plain get of an entry stored under tags it was not asked for still sees their writes', async () => {
    const cache = await (async () => {
      const c = createCache({ store: await makeStore(), namespace: `headtags-${Math.random()}`, l1: false })
      closers.push(() => c.close())
      return c
    })()
    await cache.wrap('k', async () => 'v1', { tags: ['x', 'y'] })
    expect(await cache.get('k')).toBe('v1')
    expect(await cache.get('k')).toBe('v1') // tags remembered: read with the entry
    await cache.invalidateTags(['y'])
    expect(await cache.get('k')).toBeUndefined()
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

describe('after-load read tags kept per asked array (memory)', () => {
  it('an asked array changed between reads is read with its new contents', async () => {
    const cache = createCache({ namespace: `guards-${Math.random().toString(36).slice(2)}`, l1: false })
    closers.push(() => cache.close())
    const tags = [...PIN]
    const rule = { tables: ['users'], tags: (rows: Row[]) => rows.map((r) => rowTag('users', { id: r.id })) }
    let loads = 0
    const read = () =>
      cache.wrapWithInfo('team:7', async () => [{ id: 1, v: ++loads }], { tags, afterLoad: rule })
    await read()
    expect((await read()).info.source).toBe('hit')
    // The same array, now also naming 'extra': the read depends on it from here on.
    tags.push('extra')
    expect((await read()).info.source).toBe('miss')
    await cache.invalidateTags(['extra'])
    expect(await read()).toMatchObject({ info: { source: 'miss' }, value: [{ v: 3 }] })
  })
})
