import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Cache,
  type CacheEvents,
  type CacheStore,
  type CircuitChange,
  createCache,
  memoryStore,
  type OrmCacheError,
} from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { Budget } from '../src/store/budget.js'
import { GuardedStore } from '../src/store/guarded-store.js'
import { FaultyStore } from './support/faulty-store.js'
import { freePort } from './support/services.js'

const opened: Cache[] = []
afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close().catch(() => {})
})

function track(cache: Cache) {
  opened.push(cache)
  const errors: CacheEvents['error'][] = []
  const changes: CircuitChange[] = []
  cache.on('error', (event) => errors.push(event))
  cache.on('circuit', (change) => changes.push(change))
  return { cache, errors, changes }
}

/** `inner`, answering every call after `delayMs`: slow, never failing. */
function slowStore(inner: CacheStore, delayMs: number): CacheStore {
  const slow = <T>(run: () => Promise<T>): Promise<T> => sleep(delayMs).then(run)
  return {
    name: 'slow',
    capabilities: inner.capabilities,
    get: (key) => slow(() => inner.get(key)),
    getMany: (keys) => slow(() => inner.getMany(keys)),
    set: (key, value, ttlMs) => slow(() => inner.set(key, value, ttlMs)),
    setMany: (entries) => slow(() => inner.setMany(entries)),
    add: (key, value, ttlMs) => slow(() => inner.add(key, value, ttlMs)),
    compareAndSet: (key, expected, value, ttlMs) =>
      slow(() => inner.compareAndSet(key, expected, value, ttlMs)),
    delete: (key) => slow(() => inner.delete(key)),
    deleteIfEquals: (key, value) => slow(() => inner.deleteIfEquals(key, value)),
    close: () => inner.close(),
  }
}

/** Polls `check` until it holds, at most `polls` times: bounded by count, not by a clock assert. */
async function eventually(
  check: () => boolean | Promise<boolean>,
  polls = 200,
  everyMs = 25,
): Promise<boolean> {
  for (let i = 0; i < polls; i++) {
    if (await check()) return true
    await sleep(everyMs)
  }
  return check()
}

describe('a refused connection', () => {
  it('fails fast with ECONNREFUSED as the cause and reports one error, not one per query', async () => {
    const port = await freePort() // nobody listens here
    // Timeouts far above the test's own timeout: a query that waited for one would fail the test.
    const { cache, errors, changes } = track(
      createCache({
        store: redisStore({ url: `redis://127.0.0.1:${port}` }),
        namespace: 'health-refused',
        timeouts: { read: 120_000, write: 120_000, operation: 120_000 },
        circuitBreaker: { failureThreshold: 3, resetAfterMs: 50 },
      }),
    )
    let loads = 0
    for (let i = 0; i < 40; i++) {
      const value = await cache.wrap(`k${i % 4}`, () => ++loads, { tags: ['t'] })
      expect(value).toBe(loads)
      if (i % 10 === 9) await sleep(60) // let background probes run and fail
    }
    expect(loads).toBe(40)
    expect(errors).toHaveLength(1)
    const first = errors[0]!.error
    expect(first.code).toBe('ERR_STORE')
    expect((first.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    const opens = changes.filter((c) => c.state === 'open')
    expect(opens.length).toBeGreaterThanOrEqual(1)
    expect(opens[0]!.previous).toBe('closed')
    expect(opens[0]!.failures).toBeGreaterThanOrEqual(3)
    expect((opens[0]!.cause!.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    // Every query is counted somewhere: failures + skipped calls across the changes, stats.errors.
    expect(cache.stats().errors).toBeGreaterThanOrEqual(40)
    // Probes failed in the background: half-open went back to open, never to closed.
    expect(changes.some((c) => c.state === 'half-open')).toBe(true)
    expect(changes.some((c) => c.state === 'closed')).toBe(false)
  })
})

describe('the half-open probe', () => {
  it('runs in the background: user calls never reach a store whose circuit is not closed', async () => {
    const store = new FaultyStore(memoryStore())
    const { cache, errors, changes } = track(
      createCache({
        store,
        namespace: 'health-probe',
        timeouts: { read: 1_000, write: 1_000 },
        circuitBreaker: { failureThreshold: 2, resetAfterMs: 20 },
        recoveryGrace: 0,
      }),
    )
    store.mode = 'fail'
    let loads = 0
    const read = () => cache.wrapWithInfo('k', () => ++loads, { tags: ['t'] })
    await read()
    await read()
    expect(cache.stats().errors).toBe(2)
    expect(changes.map((c) => c.state)).toEqual(['open'])
    // While it stays broken, the probes fail on their own; user reads go around the store.
    await eventually(() => changes.filter((c) => c.state === 'half-open').length >= 2)
    const callsBefore = store.calls
    const probesBefore = changes.filter((c) => c.state === 'half-open').length
    const during = await read()
    expect(during.info.source).toBe('bypass')
    // Only the background probes touched the store in between.
    const probesAfter = changes.filter((c) => c.state === 'half-open').length
    expect(store.calls - callsBefore).toBeLessThanOrEqual(probesAfter - probesBefore + 1)

    store.mode = 'ok'
    // The circuit closes with no user query at all.
    expect(await eventually(() => changes.at(-1)?.state === 'closed')).toBe(true)
    const closed = changes.at(-1)!
    expect(closed.previous).toBe('half-open')
    expect(changes.filter((c) => c.state === 'open').every((c) => c.cause?.code === 'ERR_STORE')).toBe(true)
    expect(changes.filter((c) => c.state !== 'closed').reduce((n, c) => n + c.skipped, 0)).toBeGreaterThan(0)
    await read() // miss + fill
    expect((await read()).info.source).toBe('hit')
    // One error event for the whole outage (the first fault); the rest are in the circuit changes.
    expect(errors).toHaveLength(1)
  })

  it('reports interleaved faults (one server of several down) once, and a new run after a quiet period', async () => {
    const store = new FaultyStore(memoryStore())
    const { cache, errors } = track(
      createCache({
        store,
        namespace: 'health-runs',
        circuitBreaker: { failureThreshold: 5, resetAfterMs: 1_000 },
      }),
    )
    const read = () => cache.wrap('k', () => 1, { tags: ['t'] })
    for (let i = 0; i < 10; i++) {
      store.mode = i % 2 === 0 ? 'fail' : 'ok'
      await read()
    }
    expect(errors).toHaveLength(1)
    expect(cache.stats().errors).toBe(5)
    store.mode = 'ok'
    await sleep(1_100) // longer than resetAfterMs without a fault: the run is over
    store.mode = 'fail'
    await read()
    expect(errors).toHaveLength(2)
    expect(cache.stats().errors).toBe(6)
  })
})

describe('one budget per operation', () => {
  it('bounds the sum of store calls, and skips the rest without counting them as faults', async () => {
    const store = new FaultyStore(memoryStore())
    store.mode = 'hang'
    const changes: CircuitChange[] = []
    const guarded = new GuardedStore(store, {
      readTimeoutMs: 60,
      writeTimeoutMs: 60,
      breaker: { failureThreshold: 100 },
      probeKey: 'probe',
      onStateChange: (change) => changes.push(change),
    })
    const failures: OrmCacheError[] = []
    const operation = guarded.within(new Budget(100))
    for (let i = 0; i < 3; i++) await operation.get('k').catch((error: OrmCacheError) => failures.push(error))
    expect(failures.map((f) => f.code)).toEqual([
      'ERR_STORE_TIMEOUT',
      'ERR_STORE_TIMEOUT',
      'ERR_STORE_TIMEOUT',
    ])
    const [first, second, third] = failures as [
      OrmCacheError & { timeoutMs: number; budget: boolean },
      OrmCacheError & { timeoutMs: number; budget: boolean },
      OrmCacheError & { timeoutMs: number; budget: boolean },
    ]
    expect(first.timeoutMs).toBe(60)
    expect(second.timeoutMs).toBeLessThanOrEqual(40) // what was left of the 100 ms budget
    expect(third.budget).toBe(true)
    expect(store.calls).toBe(2) // the third call never reached the store
    // Outside any operation, calls get their own timeout again.
    await guarded.get('k').catch((error: OrmCacheError & { timeoutMs: number }) => {
      expect(error.timeoutMs).toBe(60)
    })
    await guarded.close()
  })

  it("bounds a read's lookup and fill together, not each by its own timeout", async () => {
    // Every call answers after 40 ms, far inside the 5 s read and write timeouts: only the
    // 100 ms operation budget can cut the miss's third sequential call (the fill).
    const { cache, errors } = track(
      createCache({
        store: slowStore(memoryStore(), 40),
        namespace: 'health-read-budget',
        timeouts: { read: 5_000, write: 5_000, operation: 100 },
        circuitBreaker: false,
        recoveryGrace: 0,
      }),
    )
    // The read still answers, from the loader.
    expect(await cache.wrap('k', () => 1, { tags: ['t'] })).toBe(1)
    const cut = errors.filter((e) => e.error.code === 'ERR_STORE_TIMEOUT')
    expect(cut.length).toBeGreaterThan(0)
    for (const { error } of cut) {
      const timeout = error as OrmCacheError & { timeoutMs: number; budget: boolean }
      // Skipped outright, or given only what was left of the operation's 100 ms.
      expect(timeout.budget || timeout.timeoutMs < 100).toBe(true)
    }
    // The next read is a new operation with a budget of its own.
    expect(await cache.wrap('other', () => 2)).toBe(2)
  })

  it('keeps a write that ran out of budget pending and delivers it once the store answers', async () => {
    const inner = memoryStore()
    const store = new FaultyStore(inner)
    const { cache } = track(
      createCache({
        store,
        namespace: 'health-write',
        timeouts: { read: 40, write: 40, operation: 60 },
        circuitBreaker: false,
        recoveryGrace: 0,
      }),
    )
    let db = 1
    const read = () => cache.wrap('row', () => db, { tags: ['row'] })
    expect(await read()).toBe(1)
    expect(await read()).toBe(1) // cached
    const tagKey = 'health-write:t:row'
    const before = await inner.get(tagKey)
    store.mode = 'hang'
    const intent = await cache.beginWrite(['row'])
    db = 2
    expect(await intent.commit({ invalidate: ['row'], fill: { key: 'row', value: 2 } })).toBe('unavailable')
    // The invalidation is pending: this process does not serve the old entry meanwhile.
    expect(await read()).toBe(2)
    expect(await inner.get(tagKey)).toBe(before) // the hung store never saw the bump
    store.mode = 'ok'
    // A background retry (no user call needed) delivers it …
    expect(await eventually(async () => (await inner.get(tagKey)) !== before)).toBe(true)
    // … and the store is used again, serving the new row.
    expect(await read()).toBe(2)
    expect(await read()).toBe(2)
    const hits = cache.stats().hits
    expect(await read()).toBe(2)
    expect(cache.stats().hits).toBe(hits + 1)
  })
})

describe('listener errors', () => {
  it('are reported once per listener, never break the query', async () => {
    const { cache, errors } = track(createCache({ namespace: 'health-listeners' }))
    const thrower = () => {
      throw new Error('listener bug')
    }
    cache.on('hit', thrower)
    await cache.wrap('k', () => 1, { tags: ['t'] })
    expect(await cache.wrap('k', () => 2, { tags: ['t'] })).toBe(1)
    expect(await cache.wrap('k', () => 2, { tags: ['t'] })).toBe(1)
    const listenerErrors = errors.filter((e) => e.error.code === 'ERR_LISTENER')
    expect(listenerErrors).toHaveLength(1)
    expect(listenerErrors[0]!.error.message).toContain("on('hit')")
    expect((listenerErrors[0]!.error.cause as Error).message).toBe('listener bug')
  })

  it('from the error channel itself become one process warning', async () => {
    const store = new FaultyStore(memoryStore())
    const cache = createCache({
      store,
      namespace: 'health-onerror',
      circuitBreaker: false,
      onError: () => {
        throw new Error('onError bug')
      },
    })
    opened.push(cache)
    cache.on('error', () => {
      throw new Error('error listener bug')
    })
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      store.mode = 'fail'
      for (let i = 0; i < 3; i++) expect(await cache.wrap('k', () => i, { tags: ['t'] })).toBe(i)
      await eventually(() => warnings.length >= 2, 20, 10)
    } finally {
      process.off('warning', onWarning)
    }
    const ours = warnings.filter((w) => (w as NodeJS.ErrnoException).code === 'ERR_LISTENER')
    expect(ours).toHaveLength(2)
    expect(ours.map((w) => w.message).sort()).toEqual([
      expect.stringContaining("Listener on('error') threw"),
      expect.stringContaining('Listener onError threw'),
    ])
  })
})
