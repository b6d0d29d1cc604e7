import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import {
  CacheClosedError,
  createCache,
  InvalidOptionError,
  InvalidTagError,
  memoryStore,
  NotSerializableError,
  type ReadInfo,
} from '../src/exports/index.js'
import { gate } from './support/faulty-store.js'

describe('get / set / delete', () => {
  it('stores and returns values, and misses on unknown keys', async () => {
    const cache = createCache()
    expect(await cache.get('nope')).toBeUndefined()
    await cache.set('user:1', { id: 1, name: 'Ada', at: new Date(5) })
    expect(await cache.get('user:1')).toStrictEqual({ id: 1, name: 'Ada', at: new Date(5) })
    await cache.delete('user:1')
    expect(await cache.get('user:1')).toBeUndefined()
  })

  it('honours ttl per entry', async () => {
    const cache = createCache({ jitter: 0 })
    await cache.set('short', 1, { ttl: 40 })
    await cache.set('long', 2)
    await sleep(80)
    expect(await cache.get('short')).toBeUndefined()
    expect(await cache.get('long')).toBe(2)
  })

  it('takes up to `jitter` off the ttl so entries filled together expire apart', async () => {
    const store = memoryStore()
    const cache = createCache({ store, ttl: 10_000, jitter: 0.5, namespace: 'jit' })
    for (let i = 0; i < 50; i++) await cache.set(`k${i}`, i)
    const raws = await store.getMany(Array.from({ length: 50 }, (_, i) => `jit:e:k${i}`))
    const lifetimes = raws.map((raw) => Number(raw!.split(' ')[1]) - Date.now()) // head: magic, freshUntil, …
    expect(Math.max(...lifetimes)).toBeLessThanOrEqual(10_000)
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(4_900)
    expect(new Set(lifetimes.map((ms) => Math.round(ms / 100))).size).toBeGreaterThan(5)
  })

  it('makes tagged entries invalid on invalidateTags, leaving others alone', async () => {
    const cache = createCache()
    await cache.set('a', 'A', { tags: ['users'] })
    await cache.set('b', 'B', { tags: ['posts'] })
    await cache.set('c', 'C')
    await cache.invalidateTags(['users'])
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.get('b')).toBe('B')
    expect(await cache.get('c')).toBe('C')
  })

  it('throws NotSerializableError from set and stores nothing', async () => {
    const cache = createCache()
    await expect(cache.set('f', { fn: () => 1 })).rejects.toBeInstanceOf(NotSerializableError)
    expect(await cache.get('f')).toBeUndefined()
  })

  it('clear() invalidates only its own namespace, in O(1) store writes', async () => {
    const store = memoryStore()
    const one = createCache({ store, namespace: 'one' })
    const two = createCache({ store, namespace: 'two' })
    for (let i = 0; i < 100; i++) await one.set(`k${i}`, i)
    await two.set('k0', 'other')
    const before = store.size
    await one.clear()
    expect(store.size).toBe(before) // nothing enumerated or deleted: the epoch moved
    for (let i = 0; i < 100; i++) expect(await one.get(`k${i}`)).toBeUndefined()
    expect(await two.get('k0')).toBe('other')
    await one.set('k0', 'again')
    expect(await one.get('k0')).toBe('again')
  })
})

describe('wrap (cache-aside)', () => {
  it('loads once, then serves from cache', async () => {
    const cache = createCache()
    let loads = 0
    const load = async () => ({ n: ++loads })
    expect(await cache.wrap('k', load)).toEqual({ n: 1 })
    expect(await cache.wrap('k', load)).toEqual({ n: 1 })
    expect(loads).toBe(1)
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, loads: 1, sets: 1, hitRatio: 0.5 })
  })

  it('runs the loader once for 1,000 concurrent calls on a cold key', async () => {
    const cache = createCache()
    let loads = 0
    const release = gate()
    const calls = Array.from({ length: 1_000 }, () =>
      cache.wrap('cold', async () => {
        loads++
        await release.promise
        return { rows: [1, 2, 3] }
      }),
    )
    await sleep(10)
    release.open()
    const results = await Promise.all(calls)
    expect(loads).toBe(1)
    expect(results.every((r) => JSON.stringify(r) === '{"rows":[1,2,3]}')).toBe(true)
    // Waiters get their own copies, never the leader's object.
    expect(new Set(results).size).toBe(1_000)
  })

  it('passes a loader error to every waiter and does not cache it', async () => {
    const cache = createCache()
    let attempts = 0
    const release = gate()
    const failing = () =>
      cache.wrap('boom', async () => {
        attempts++
        await release.promise
        throw new Error('db down')
      })
    const calls = Array.from({ length: 20 }, failing)
    await sleep(5)
    release.open()
    const outcomes = await Promise.allSettled(calls)
    expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).message === 'db down')).toBe(
      true,
    )
    expect(attempts).toBe(1)
    expect(await cache.wrap('boom', () => 'recovered')).toBe('recovered')
    expect(cache.stats().loadErrors).toBe(1)
  })

  it('caches null results (negative caching) and can be told not to', async () => {
    const negative = createCache()
    let loads = 0
    const loadNothing = () => {
      loads++
      return null
    }
    await negative.wrap('missing', loadNothing)
    await negative.wrap('missing', loadNothing)
    expect(loads).toBe(1)

    const noNegative = createCache({ negativeTtl: false })
    loads = 0
    await noNegative.wrap('missing', loadNothing)
    await noNegative.wrap('missing', () => {
      loads++
      return undefined
    })
    expect(loads).toBe(2)
  })

  it('bounds negative entries by negativeTtl', async () => {
    const cache = createCache({ negativeTtl: 30, jitter: 0 })
    let loads = 0
    const loadNothing = () => {
      loads++
      return null
    }
    await cache.wrap('missing', loadNothing)
    await sleep(60)
    await cache.wrap('missing', loadNothing)
    expect(loads).toBe(2)
  })

  it('reloads after invalidation of any of its tags', async () => {
    const cache = createCache()
    let version = 1
    const read = () => cache.wrap('feed', () => version, { tags: ['posts', 'users'] })
    expect(await read()).toBe(1)
    version = 2
    expect(await read()).toBe(1)
    await cache.invalidateTags(['users'])
    expect(await read()).toBe(2)
  })

  it('returns the loaded value uncached and reports when it cannot be serialized', async () => {
    const cache = createCache()
    const errors: string[] = []
    cache.on('error', ({ error }) => errors.push(error.code))
    let loads = 0
    const value = await cache.wrap('fn', () => ({ loads: ++loads, fn: () => 1 }))
    expect(value.loads).toBe(1)
    await cache.wrap('fn', () => ({ loads: ++loads, fn: () => 1 }))
    expect(loads).toBe(2)
    expect(errors).toEqual(['ERR_NOT_SERIALIZABLE', 'ERR_NOT_SERIALIZABLE'])
  })

  it('says where each value came from', async () => {
    const cache = createCache()
    const info: ReadInfo[] = []
    const read = async () => info.push((await cache.wrapWithInfo('k', () => 1, { tags: ['t'] })).info)
    await read()
    await read()
    await cache.invalidateTags(['t'])
    await read()
    expect(info).toEqual([
      { source: 'miss', reason: 'absent' },
      { source: 'hit', tier: 'l2' },
      { source: 'miss', reason: 'invalidated' },
    ])
  })
})

describe('stale-while-revalidate', () => {
  it('serves an expired entry while one caller refreshes it', async () => {
    const cache = createCache({ jitter: 0 })
    let version = 1
    const read = () =>
      cache.wrapWithInfo('trending', async () => version, { ttl: 30, staleWhileRevalidate: 5_000 })
    expect((await read()).value).toBe(1)
    version = 2
    await sleep(50)
    const stale = await read()
    expect(stale).toEqual({ value: 1, info: { source: 'stale' } })
    await sleep(10) // let the background refresh land
    expect(await read()).toEqual({ value: 2, info: { source: 'hit', tier: 'l2' } })
    expect(cache.stats().staleHits).toBe(1)
  })

  it('never serves an invalidated entry, even inside the stale window', async () => {
    const cache = createCache({ jitter: 0 })
    let version = 1
    const read = () =>
      cache.wrap('k', async () => version, { ttl: 30, staleWhileRevalidate: 5_000, tags: ['t'] })
    await read()
    await sleep(50)
    version = 2
    await cache.invalidateTags(['t'])
    expect(await read()).toBe(2)
  })

  it('drops the entry after ttl + staleWhileRevalidate', async () => {
    const cache = createCache({ jitter: 0 })
    let loads = 0
    const read = () => cache.wrapWithInfo('k', async () => ++loads, { ttl: 20, staleWhileRevalidate: 20 })
    await read()
    await sleep(60)
    expect((await read()).info.source).toBe('miss')
  })

  it('reports a failed background refresh and keeps serving the stale value', async () => {
    const cache = createCache({ jitter: 0 })
    const errors: string[] = []
    cache.on('error', ({ operation }) => errors.push(operation))
    let fail = false
    const read = () =>
      cache.wrap(
        'k',
        async () => {
          if (fail) throw new Error('slow query timed out')
          return 'v1'
        },
        { ttl: 20, staleWhileRevalidate: 10_000 },
      )
    await read()
    fail = true
    await sleep(40)
    expect(await read()).toBe('v1')
    await sleep(5)
    expect(errors).toContain('refresh')
    expect(await read()).toBe('v1')
  })
})

describe('events and stats', () => {
  it('emits typed events and isolates throwing listeners', async () => {
    const cache = createCache()
    const seen: string[] = []
    cache.on('miss', ({ key, reason }) => seen.push(`miss:${key}:${reason}`))
    cache.on('hit', ({ key }) => seen.push(`hit:${key}`))
    cache.on('load', ({ ok }) => seen.push(`load:${ok}`))
    cache.on('set', ({ key }) => seen.push(`set:${key}`))
    cache.on('invalidate', ({ tags }) => seen.push(`invalidate:${tags.join(',')}`))
    const off = cache.on('hit', () => {
      throw new Error('listener bug')
    })
    await cache.wrap('k', () => 1, { tags: ['t'] })
    await cache.wrap('k', () => 1, { tags: ['t'] })
    off()
    await cache.invalidateTags(['t'])
    expect(seen).toEqual(['miss:k:absent', 'load:true', 'set:k', 'hit:k', 'invalidate:t'])
  })

  it('records load latency percentiles', async () => {
    const cache = createCache()
    for (let i = 0; i < 20; i++) await cache.wrap(`k${i}`, () => sleep(2).then(() => i))
    const { loadLatency, loads } = cache.stats()
    expect(loads).toBe(20)
    expect(loadLatency.count).toBe(20)
    expect(loadLatency.p50).toBeGreaterThanOrEqual(1)
    expect(loadLatency.p99).toBeGreaterThanOrEqual(loadLatency.p50)
  })
})

describe('bad input', () => {
  it('rejects unknown and out-of-range options with InvalidOptionError', () => {
    expect(() => createCache({ ttl: -1 })).toThrow(InvalidOptionError)
    expect(() => createCache({ ttl: Number.POSITIVE_INFINITY })).toThrow(InvalidOptionError)
    expect(() => createCache({ jitter: 1 })).toThrow(InvalidOptionError)
    expect(() => createCache({ ttll: 5 } as never)).toThrow(/ttll/)
    expect(() => createCache({ store: {} as never })).toThrow(InvalidOptionError)
    expect(() => createCache({ consistency: 'eventual' as never })).toThrow(InvalidOptionError)
  })

  it('rejects bad per-call options and tags', async () => {
    const cache = createCache()
    await expect(cache.wrap('k', () => 1, { ttl: 0 })).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(cache.wrap('k', () => 1, { tags: [''] })).rejects.toBeInstanceOf(InvalidTagError)
    await expect(cache.wrap('k', () => 1, { tags: 'users' as never })).rejects.toBeInstanceOf(InvalidTagError)
    await expect(cache.wrap('k', () => 1, { tll: 5 } as never)).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(cache.wrap('k', 'not a function' as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    })
    await expect(cache.invalidateTags([42 as never])).rejects.toBeInstanceOf(InvalidTagError)
  })

  it('fails every call after close() with CacheClosedError', async () => {
    const cache = createCache()
    await cache.close()
    await expect(cache.get('k')).rejects.toBeInstanceOf(CacheClosedError)
    await expect(cache.wrap('k', () => 1)).rejects.toMatchObject({ code: 'ERR_CACHE_CLOSED' })
    await cache.close() // idempotent
  })
})
