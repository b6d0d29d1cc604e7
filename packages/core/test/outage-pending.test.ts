import { describe, expect, it } from 'vitest'
import {
  type Cache,
  createCache,
  type OrmCacheError,
  type StoreWrite,
  UndeliveredInvalidationsError,
} from '../src/exports/index.js'
import { memoryStore } from '../src/memory/memory-store.js'
import { MAX_PENDING } from '../src/tags/invalidation.js'
import { FaultyStore, gate } from './support/faulty-store.js'

/** Reads until `done` says the pending work was replayed (the retry timer's backoff is ≤ 800 ms). */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await done()); i++) await new Promise((resolve) => setTimeout(resolve, 10))
}

/** Counts every key the cache writes through setMany (tag bumps and epoch moves travel there). */
class CountingStore extends FaultyStore {
  written = 0
  /** Keys sent, refused ones included: the work each replay attempt does. */
  attempted = 0
  override setMany(entries: readonly StoreWrite[]) {
    this.attempted += entries.length
    if (this.mode === 'ok') this.written += entries.length
    return super.setMany(entries)
  }
}

const resilience = { circuitBreaker: false, recoveryGrace: 0 } as const

function errorsOf(cache: Cache): OrmCacheError[] {
  const seen: OrmCacheError[] = []
  cache.on('error', ({ error }) => seen.push(error))
  return seen
}

describe('single-flight while the store is down (issue 13, item 3)', () => {
  it('a read that starts after another instance invalidated never joins a load that started before', async () => {
    // One shared store, two caches: two processes. The store refuses everything (an outage).
    const store = new FaultyStore(memoryStore())
    const a = createCache({ store, namespace: 'sf13', ...resilience })
    const b = createCache({ store, namespace: 'sf13', ...resilience })
    try {
      store.mode = 'fail'
      let db = 'old'
      const began = gate()
      const early = gate()
      let lateLoads = 0
      // A's first read snapshots the database ('old') and is paused before it returns.
      const first = a.wrap('row', async () => {
        const seen = db
        began.open()
        await early.promise
        return seen
      })
      await began.promise
      // B (another process) commits and invalidates; its call resolves (recorded as pending).
      db = 'new'
      await b.invalidateTags(['row'])
      // Reads that begin now, in A, while A's old load is still in flight.
      const late = () =>
        a.wrapWithInfo('row', async () => {
          lateLoads++
          return db
        })
      let bypassed = 0
      a.on('miss', () => bypassed++)
      const second = late()
      const third = late()
      // Both late reads have reached the bypass (and joined a flight) while the old load runs.
      while (bypassed < 2) await new Promise((resolve) => setTimeout(resolve, 1))
      early.open()
      expect(await first).toBe('old')
      const [r2, r3] = await Promise.all([second, third])
      expect(r2.value).toBe('new')
      expect(r3.value).toBe('new')
      // The two late reads still share one load: the one that started after both of them.
      expect(lateLoads).toBe(1)
      expect([r2.info.source, r3.info.source]).toEqual(['bypass', 'bypass'])
    } finally {
      store.mode = 'ok'
      await a.close()
      await b.close()
    }
  })
})

describe('pending invalidations during an outage (issue 13, item 4)', () => {
  it('costs each call O(its own tags), bounds memory by collapsing into one epoch move, and serves nothing stale after', async () => {
    const store = new CountingStore(memoryStore())
    const cache = createCache({ store, namespace: 'pend13', ...resilience })
    const errors = errorsOf(cache)
    try {
      const db = new Map<string, number>()
      const read = (i: number) =>
        cache.wrapWithInfo(`row:${i}`, async () => db.get(`row:${i}`) ?? 0, { tags: [`row:${i}`] })
      for (let i = 0; i < 20; i++) await read(i)
      expect((await read(0)).info.source).toBe('hit')

      store.mode = 'fail'
      const n = 10_000
      // The first failure makes the invalidator stop retrying per call; count the work after it.
      db.set('row:0', 1)
      await cache.invalidateTags(['row:0'])
      const callsBefore = store.calls
      const attemptedBefore = store.attempted
      let reads = 0
      for (let i = 1; i < n; i++) {
        db.set(`row:${i}`, 1)
        await cache.invalidateTags([`row:${i}`])
        if (i % 10 === 0) {
          reads++
          expect((await read(i % 20)).value).toBe(db.get(`row:${i % 20}`) ?? 0)
        }
      }
      // Invalidations made no store call; each read made at most its lookup and one probe.
      // Only the backoff timer's retries (a handful in this loop's time) re-sent the pending set,
      // which never held more than MAX_PENDING tags: before, every call re-sent all of it
      // (n²/2 = 50 M tag writes for this loop).
      expect(store.calls - callsBefore).toBeLessThanOrEqual(2 * reads + 50)
      // Reported once per run of store faults, not once per call.
      expect(errors.length).toBeGreaterThanOrEqual(1)
      expect(errors.length).toBeLessThan(reads)
      expect(store.attempted - attemptedBefore).toBeLessThanOrEqual(20 * (MAX_PENDING + 1))

      store.mode = 'ok'
      // Recovery replays one write: the pending set collapsed into an epoch move past MAX_PENDING.
      const written = store.written
      await until(async () => store.written > written)
      expect(store.written - written).toBe(1)
      expect(MAX_PENDING).toBeLessThan(n)
      // Every entry from before the outage is dead, including tags that never got a bump.
      for (let i = 0; i < 20; i++) {
        const { value, info } = await read(i)
        expect(value).toBe(db.get(`row:${i}`) ?? 0)
        expect(info.source).not.toBe('hit')
      }
      expect((await read(3)).info.source).toBe('hit')
    } finally {
      store.mode = 'ok'
      await cache.close()
    }
  })

  it('below the limit, replays exactly the pending tags once the store answers again', async () => {
    const store = new CountingStore(memoryStore())
    const cache = createCache({ store, namespace: 'pend13b', ...resilience })
    try {
      await cache.wrap('x', async () => 'x0', { tags: ['x'] })
      await cache.wrap('y', async () => 'y0', { tags: ['y'] })
      store.mode = 'fail'
      await cache.invalidateTags(['x'])
      for (let i = 0; i < 100; i++) await cache.invalidateTags([`other:${i}`])
      store.mode = 'ok'
      const written = store.written
      await until(async () => store.written > written)
      expect(await cache.wrap('x', async () => 'x1', { tags: ['x'] })).toBe('x1')
      // 101 pending tags, each bumped once (no epoch move), and the untouched entry still hits.
      expect(store.written - written).toBe(101)
      const y = await cache.wrapWithInfo('y', async () => 'never', { tags: ['y'] })
      expect(y).toEqual({ value: 'y0', info: { source: 'hit', tier: 'l2' } })
    } finally {
      await cache.close()
    }
  })
})

describe('close() during an outage (issue 13, item 2)', () => {
  it('retries within a bounded time, then reports every undelivered invalidation as a typed error', async () => {
    const store = new FaultyStore(memoryStore())
    const cache = createCache({ store, namespace: 'close13', ...resilience })
    const errors = errorsOf(cache)
    const hooked: unknown[] = []
    const withHook = createCache({
      store: new FaultyStore(memoryStore()),
      namespace: 'close13',
      ...resilience,
      onError: (error) => hooked.push(error),
    })
    store.mode = 'fail'
    await cache.invalidateTags(['a', 'b'])
    await cache.delete('k')
    await cache.close()
    const undelivered = errors.filter((error) => error instanceof UndeliveredInvalidationsError)
    expect(undelivered).toHaveLength(1)
    const error = undelivered[0] as UndeliveredInvalidationsError
    expect(error.code).toBe('ERR_UNDELIVERED_INVALIDATIONS')
    expect([...error.tags].sort()).toEqual(['a', 'b'])
    expect(error.keys).toBe(1)
    expect(error.everything).toBe(false)

    ;(withHook.store as FaultyStore).mode = 'fail'
    await withHook.clear()
    await withHook.close()
    const lost = hooked.find(
      (e) => e instanceof UndeliveredInvalidationsError,
    ) as UndeliveredInvalidationsError
    expect(lost?.everything).toBe(true)
  })

  it('delivers pending invalidations when the store comes back before the deadline', async () => {
    const store = new CountingStore(memoryStore())
    const cache = createCache({ store, namespace: 'close13c', ...resilience })
    const errors = errorsOf(cache)
    await cache.wrap('x', async () => 'x0', { tags: ['x'] })
    store.mode = 'fail'
    await cache.invalidateTags(['x'])
    setTimeout(() => {
      store.mode = 'ok'
    }, 20)
    const written = store.written
    await cache.close()
    expect(store.written - written).toBe(1)
    expect(errors.some((error) => error instanceof UndeliveredInvalidationsError)).toBe(false)
  })
})
