import { describe, expect, it } from 'vitest'
import { bulkTag, rowTag, rowWriteTags, tableTag } from '../src/exports/adapter.js'
import { createCache, memoryStore } from '../src/exports/index.js'
import { FaultyStore, gate } from './support/faulty-store.js'

const row = (id: number) => rowTag('users', { id })
const lookupKey = (id: number) => `users:${id}`
const lookupTags = (id: number) => [row(id), bulkTag('users')]

describe('write-through', () => {
  it('stores the returned row so the next primary-key read is a hit with fresh data', async () => {
    const cache = createCache()
    let dbName = 'old'
    const read = () =>
      cache.wrapWithInfo(lookupKey(1), async () => ({ id: 1, name: dbName }), { tags: lookupTags(1) })
    await read()
    const intent = await cache.beginWrite(lookupTags(1))
    dbName = 'new' // the database write commits
    await intent.commit({
      invalidate: rowWriteTags('users', { id: 1 }),
      fill: { key: lookupKey(1), value: { id: 1, name: 'new' } },
    })
    expect(await read()).toEqual({ value: { id: 1, name: 'new' }, info: { source: 'hit', tier: 'l2' } })
  })

  it('invalidates the table tag, so list queries reload', async () => {
    const cache = createCache()
    let names = ['a']
    const list = () => cache.wrap('users:list', async () => names, { tags: [tableTag('users')] })
    await list()
    const intent = await cache.beginWrite(lookupTags(1))
    names = ['b']
    await intent.commit({
      invalidate: rowWriteTags('users', { id: 1 }),
      fill: { key: lookupKey(1), value: { id: 1 } },
    })
    expect(await list()).toEqual(['b'])
  })

  it('does not evict other rows', async () => {
    const cache = createCache()
    await cache.wrap(lookupKey(2), async () => ({ id: 2 }), { tags: lookupTags(2) })
    const intent = await cache.beginWrite(lookupTags(1))
    await intent.commit({
      invalidate: rowWriteTags('users', { id: 1 }),
      fill: { key: lookupKey(1), value: { id: 1 } },
    })
    expect(
      (await cache.wrapWithInfo(lookupKey(2), async () => ({ id: 2 }), { tags: lookupTags(2) })).info.source,
    ).toBe('hit')
  })

  it('two racing writers: whichever bump order, the older row never stays cached', async () => {
    for (const order of ['first-commits-first-bumps-last', 'first-commits-first-bumps-first'] as const) {
      const cache = createCache()
      let db = 'v0'
      const w1 = await cache.beginWrite(lookupTags(1))
      const w2 = await cache.beginWrite(lookupTags(1))
      db = 'v1' // writer 1 commits
      db = 'v2' // writer 2 commits after it
      const commit1 = () =>
        w1.commit({ invalidate: rowWriteTags('users', { id: 1 }), fill: { key: lookupKey(1), value: 'v1' } })
      const commit2 = () =>
        w2.commit({ invalidate: rowWriteTags('users', { id: 1 }), fill: { key: lookupKey(1), value: 'v2' } })
      if (order === 'first-commits-first-bumps-last') {
        await commit2()
        await commit1()
      } else {
        await commit1()
        await commit2()
      }
      const value = await cache.wrap(lookupKey(1), async () => db, { tags: lookupTags(1) })
      expect(value, order).toBe('v2')
    }
  })

  it('a bulk write between snapshot and commit makes the filled entry invalid', async () => {
    const cache = createCache()
    let db = { id: 1, active: true }
    const intent = await cache.beginWrite(lookupTags(1))
    db = { id: 1, active: true } // single-row write commits
    db = { id: 1, active: false } // then updateMany commits and bumps the bulk tag
    await cache.invalidateTags([tableTag('users'), bulkTag('users')])
    await intent.commit({
      invalidate: rowWriteTags('users', { id: 1 }),
      fill: { key: lookupKey(1), value: { id: 1, active: true } },
    })
    expect(await cache.wrap(lookupKey(1), async () => db, { tags: lookupTags(1) })).toEqual({
      id: 1,
      active: false,
    })
  })

  it('a reader paused across the write cannot overwrite the filled row with an old one', async () => {
    const cache = createCache()
    let db = 'old'
    const paused = gate()
    const loaded = gate()
    const reader = cache.wrap(
      lookupKey(1),
      async () => {
        const value = db
        loaded.open()
        await paused.promise
        return value
      },
      { tags: lookupTags(1) },
    )
    await loaded.promise
    const intent = await cache.beginWrite(lookupTags(1))
    db = 'new'
    await intent.commit({
      invalidate: rowWriteTags('users', { id: 1 }),
      fill: { key: lookupKey(1), value: 'new' },
    })
    paused.open()
    expect(await reader).toBe('old')
    expect(await cache.wrap(lookupKey(1), async () => db, { tags: lookupTags(1) })).toBe('new')
  })

  it('two writers of one row never share a bump, even while another invalidation is being applied', async () => {
    // Regression: a guarded fill was merged into the invalidator's batch, so the later writer's
    // bump of the row tag could ride on the earlier writer's token and leave its older row valid.
    const inner = memoryStore()
    const paused = gate()
    let pauseNext = true
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver)
        if (property !== 'setMany') return typeof value === 'function' ? value.bind(target) : value
        return async (...args: Parameters<typeof target.setMany>) => {
          if (pauseNext) {
            pauseNext = false
            await paused.promise
          }
          return target.setMany(...args)
        }
      },
    })
    const cache = createCache({ store })
    let db = 'v0'
    await cache.wrap(lookupKey(1), async () => db, { tags: lookupTags(1) })
    const first = await cache.beginWrite(lookupTags(1))
    const second = await cache.beginWrite(lookupTags(1))
    const unrelated = cache.invalidateTags(['elsewhere']) // stalls inside the store
    db = 'v1' // the first write commits…
    const firstDone = first.commit({
      invalidate: rowWriteTags('users', { id: 1 }),
      fill: { key: lookupKey(1), value: 'v1' },
    })
    db = 'v2' // …then the second
    const secondDone = second.commit({
      invalidate: rowWriteTags('users', { id: 1 }),
      fill: { key: lookupKey(1), value: 'v2' },
    })
    paused.open()
    await Promise.all([unrelated, firstDone, secondDone])
    expect(await cache.wrap(lookupKey(1), async () => db, { tags: lookupTags(1) })).toBe('v2')
  })

  it('falls back to plain invalidation when the store fails, and never fills', async () => {
    const store = new FaultyStore(memoryStore())
    const cache = createCache({ store, circuitBreaker: false })
    const errors: string[] = []
    cache.on('error', ({ operation }) => errors.push(operation))
    await cache.wrap(lookupKey(1), async () => 'old', { tags: lookupTags(1) })
    const intent = await cache.beginWrite(lookupTags(1))
    store.mode = 'fail-writes'
    await intent.commit({
      invalidate: rowWriteTags('users', { id: 1 }),
      fill: { key: lookupKey(1), value: 'new' },
    })
    expect(errors).toContain('write-through')
    expect(cache.stats().sets).toBe(1)
    store.mode = 'ok'
    // The pending invalidation is applied before the store is trusted again.
    expect(await cache.wrap(lookupKey(1), async () => 'fresh', { tags: lookupTags(1) })).toBe('fresh')
  })
})
