import { afterAll, describe, expect, it } from 'vitest'
import { columnTag, rowTag } from '../src/exports/adapter.js'
import { type Cache, createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import type { CacheStore, LookupRequest } from '../src/store/types.js'
import { connectRedis, removeKeysUnder } from './support/services.js'

/**
 * Issue 12: a list cached under after-load fine tags (its rows) is read on a hit with the plain
 * read of its own tags (plain-hit.ts), not with the lookup script, which parsed the head and read
 * every row tag's version on the server for each hit. The plain read must judge it exactly as
 * the full lookup does: by its own tags, and only for reads whose asked tags it depends on.
 */
type Row = { id: number; v: number }
const PIN = [columnTag('users', 'team_id', 7)]
const afterLoad = {
  tables: ['users'],
  tags: (rows: Row[]) => rows.map((r) => rowTag('users', { id: r.id })),
}

/** Every namespace of this run starts with it: removed from Redis when the file is done. */
const RUN = `alplain-${Math.random().toString(36).slice(2, 10)}`
const closers: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const close of closers) await close()
  await removeKeysUnder(RUN)
})

/** The real Redis store, with its lookups and plain reads counted and its lookups kept. */
async function countedStore(): Promise<{
  store: CacheStore
  calls: { lookup: number; readHit: number }
  lookups: LookupRequest[]
}> {
  const inner = redisStore({ client: await connectRedis(), ownsClient: true })
  const calls = { lookup: 0, readHit: 0 }
  const lookups: LookupRequest[] = []
  const store = Object.create(inner) as CacheStore
  store.lookup = (request) => {
    calls.lookup++
    lookups.push(request)
    return inner.lookup!(request)
  }
  store.readHit = (entryKey, keys) => {
    calls.readHit++
    return inner.readHit!(entryKey, keys)
  }
  return { store, calls, lookups }
}

/**
 * Two caches on one Redis namespace, as two processes (`a`'s lookups and plain reads counted),
 * and a read of team 7's list of `team.rows` through either.
 */
async function twoCaches() {
  const namespace = `${RUN}-${Math.random().toString(36).slice(2)}`
  const { store, calls, lookups } = await countedStore()
  const a = createCache({ store, namespace, l1: false })
  const b = createCache({
    store: redisStore({ client: await connectRedis(), ownsClient: true }),
    namespace,
  })
  closers.push(
    () => a.close(),
    () => b.close(),
  )
  const team = {
    rows: [
      { id: 1, v: 0 },
      { id: 2, v: 0 },
    ] as Row[],
  }
  const load = async () => team.rows.map((r) => ({ ...r }))
  const read = (cache: Cache) => cache.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })
  return { a, b, calls, lookups, team, read }
}

describe('after-load entries on the plain hit read (Redis)', () => {
  it('hits without the script, and still sees writes to its rows from another process', async () => {
    const { a, b, calls, team, read } = await twoCaches()
    expect((await read(a)).info.source).toBe('miss')
    // The fill remembered the entry's own tags: the first read after it is already a plain read.
    const before = { ...calls }
    for (let i = 0; i < 3; i++)
      expect(await read(a)).toMatchObject({ value: team.rows, info: { source: 'hit' } })
    expect(calls.lookup).toBe(before.lookup)
    expect(calls.readHit).toBe(before.readHit + 3)

    // Another process writes row 2: the plain read sees its version move, and the read loads.
    team.rows = [
      { id: 1, v: 0 },
      { id: 2, v: 1 },
    ]
    await b.invalidateTags([rowTag('users', { id: 2 })])
    expect(await read(a)).toMatchObject({ value: team.rows, info: { source: 'miss', reason: 'invalidated' } })
    const refilled = { ...calls }
    expect(await read(a)).toMatchObject({ value: team.rows, info: { source: 'hit' } })
    expect(calls).toEqual({ lookup: refilled.lookup, readHit: refilled.readHit + 1 })
  })

  it('after another process refills the list under other rows, the next hits are plain reads of the new rows', async () => {
    const { a, b, calls, team, read } = await twoCaches()
    expect((await read(a)).info.source).toBe('miss') // a remembers rows 1 and 2
    team.rows = [
      { id: 1, v: 0 },
      { id: 3, v: 0 },
    ]
    await b.invalidateTags(PIN)
    expect((await read(b)).info.source).toBe('miss') // stored under rows 1 and 3
    // a's plain read of rows 1 and 2 does not match the new head: the full lookup judges the
    // entry by its own tags, serves it, and a remembers rows 1 and 3 from its head.
    expect(await read(a)).toMatchObject({ value: team.rows, info: { source: 'hit' } })
    const after = { ...calls }
    for (let i = 0; i < 2; i++)
      expect(await read(a)).toMatchObject({ value: team.rows, info: { source: 'hit' } })
    expect(calls).toEqual({ lookup: after.lookup, readHit: after.readHit + 2 })
  })

  it('does not answer a read that asks for a tag the entry does not depend on', async () => {
    const namespace = `${RUN}-${Math.random().toString(36).slice(2)}`
    const { store } = await countedStore()
    const a = createCache({ store, namespace, l1: false })
    closers.push(() => a.close())
    const load = async () => [{ id: 1, v: 0 }]
    await a.wrap('team:7', load, { tags: PIN, afterLoad })
    expect((await a.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })).info.source).toBe('hit')
    // Same key, with a caller tag: the entry would never be evicted by invalidating 'feed'.
    const tagged = await a.wrapWithInfo('team:7', load, { tags: [...PIN, 'feed'], afterLoad })
    expect(tagged.info.source).toBe('miss')
    await a.invalidateTags(['feed'])
    expect((await a.wrapWithInfo('team:7', load, { tags: [...PIN, 'feed'], afterLoad })).info.source).toBe(
      'miss',
    )
  })

  it('a list the plain read found dead is not judged again: the lookup reads only the asked tags', async () => {
    const { a, b, calls, lookups, team, read } = await twoCaches()
    expect((await read(a)).info.source).toBe('miss')
    const asked = lookups[0]!.keys.length // epoch, the pin and the guard: no row tags yet
    expect((await read(a)).info.source).toBe('hit')
    team.rows = [
      { id: 1, v: 0 },
      { id: 2, v: 2 },
    ]
    // Another process moves row 2: this process has no local record of it, so it still expects
    // a hit, and its plain read finds the entry stored under exactly those rows, one moved.
    await b.invalidateTags([rowTag('users', { id: 2 })])
    const before = { ...calls }
    expect(await read(a)).toMatchObject({ value: team.rows, info: { source: 'miss', reason: 'invalidated' } })
    expect(calls).toEqual({ lookup: before.lookup + 1, readHit: before.readHit + 1 })
    const last = lookups.at(-1)!
    expect(last.presumeDead).toBe(true)
    expect(last.keys.length).toBe(asked)
    expect(await read(a)).toMatchObject({ value: team.rows, info: { source: 'hit' } })
  })

  it('an expired list found by the plain read is still served stale, not presumed dead', async () => {
    const namespace = `${RUN}-${Math.random().toString(36).slice(2)}`
    const { store, lookups } = await countedStore()
    const a = createCache({ store, namespace, l1: false })
    closers.push(() => a.close())
    let version = 0
    const load = async () => [{ id: 1, v: version }]
    const read = () =>
      a.wrapWithInfo('team:7', load, { tags: PIN, afterLoad, ttl: 40, staleWhileRevalidate: 60_000 })
    expect((await read()).info.source).toBe('miss')
    expect((await read()).info.source).toBe('hit')
    version = 1
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(await read()).toMatchObject({ value: [{ id: 1, v: 0 }], info: { source: 'stale' } })
    expect(lookups.at(-1)!.presumeDead).not.toBe(true)
  })

  it('a reader that comes while the dead list loads presumes it dead too, until the fill', async () => {
    const { a, b, lookups, team } = await twoCaches()
    let release: () => void = () => {}
    let gated = false
    const load = async () => {
      if (gated) await new Promise<void>((resolve) => (release = resolve))
      return team.rows.map((r) => ({ ...r }))
    }
    const read = () => a.wrapWithInfo('team:7', load, { tags: PIN, afterLoad })
    expect((await read()).info.source).toBe('miss')
    const asked = lookups[0]!.keys.length
    expect((await read()).info.source).toBe('hit')
    team.rows = [
      { id: 1, v: 0 },
      { id: 2, v: 3 },
    ]
    await b.invalidateTags([rowTag('users', { id: 2 })])
    gated = true
    const first = read() // plain read: dead; its load waits on the gate
    await new Promise((resolve) => setTimeout(resolve, 20))
    const seen = lookups.length
    const second = read() // no hint now: the full lookup, presuming the entry dead
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(lookups.length).toBe(seen + 1)
    expect(lookups.at(-1)).toMatchObject({ presumeDead: true })
    expect(lookups.at(-1)!.keys.length).toBe(asked)
    gated = false
    release()
    for (const result of await Promise.all([first, second])) expect(result.value).toEqual(team.rows)
    expect((await read()).info.source).toBe('hit')
  })
})
