import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../src/exports/index.js'
import { CircuitBreaker } from '../src/store/circuit-breaker.js'
import { FaultyStore } from './support/faulty-store.js'

describe('cache faults never fail a query (G4)', () => {
  it('store errors: wrap returns the loader value, emits errors, and recovers', async () => {
    const store = new FaultyStore(memoryStore())
    const cache = createCache({ store, circuitBreaker: false })
    const errors: string[] = []
    cache.on('error', ({ error }) => errors.push(error.code))
    store.mode = 'fail'
    expect(await cache.wrapWithInfo('k', () => 'from-db')).toEqual({
      value: 'from-db',
      info: { source: 'bypass', reason: 'store-unavailable' },
    })
    expect(await cache.get('k')).toBeUndefined()
    await cache.set('k', 'v') // reported, not thrown
    expect(errors.every((code) => code === 'ERR_STORE')).toBe(true)
    expect(errors.length).toBeGreaterThanOrEqual(3)
    store.mode = 'ok'
    await cache.wrap('k', () => 'from-db')
    expect((await cache.wrapWithInfo('k', () => 'x')).info.source).toBe('hit')
  })

  it('a hanging store times out and the loader answers', async () => {
    const store = new FaultyStore(memoryStore())
    const cache = createCache({ store, timeouts: { read: 30, write: 30 }, circuitBreaker: false })
    const errors: string[] = []
    cache.on('error', ({ error }) => errors.push(error.code))
    store.mode = 'hang'
    expect(await cache.wrap('k', () => 'from-db')).toBe('from-db')
    expect(errors).toContain('ERR_STORE_TIMEOUT')
  })

  it('the circuit opens after repeated failures, skips the store, and closes after a half-open probe', async () => {
    const store = new FaultyStore(memoryStore())
    // resetAfterMs leaves room for the open phase on a loaded machine (no probe may slip in).
    const cache = createCache({
      store,
      circuitBreaker: { failureThreshold: 3, resetAfterMs: 500 },
      recoveryGrace: 0,
    })
    const codes: string[] = []
    const states: string[] = []
    cache.on('error', ({ error }) => codes.push(error.code))
    cache.on('circuit', ({ state }) => states.push(state))
    store.mode = 'fail'
    for (let i = 0; i < 3; i++) await cache.wrap(`k${i}`, () => i)
    const callsWhenOpened = store.calls
    for (let i = 0; i < 20; i++) await cache.wrap(`open${i}`, () => i)
    expect(store.calls).toBe(callsWhenOpened) // open: the store is not touched
    // One error event for the run of faults; the skipped calls are counted, not emitted.
    expect(codes).toEqual(['ERR_STORE'])
    expect(states[0]).toBe('open')
    expect(cache.stats().errors).toBe(23)
    store.mode = 'ok'
    // The half-open probe runs in the background (no user call) and closes the circuit.
    for (let i = 0; i < 100 && states.at(-1) !== 'closed'; i++) await sleep(20)
    expect(states.at(-1)).toBe('closed')
    expect(states).toContain('half-open')
    await cache.wrap('probe', () => 'p')
    expect((await cache.wrapWithInfo('probe', () => 'x')).info.source).toBe('hit')
  })

  it('a failed invalidation makes this process bypass the store until it is applied, then nothing stale is served', async () => {
    const store = new FaultyStore(memoryStore())
    const cache = createCache({ store, circuitBreaker: false })
    let db = 'old'
    const read = () => cache.wrapWithInfo('row', async () => db, { tags: ['row'] })
    await read()
    store.mode = 'fail-writes'
    db = 'new'
    await cache.invalidateTags(['row']) // resolves; the fault is reported
    store.mode = 'ok' // the store is back, still holding the old entry with a current version…
    const after = await read() // …but the pending invalidation is applied before the store is used
    expect(after.value).toBe('new')
    expect((await read()).info.source).toBe('hit')
  })

  it('retries pending invalidations in the background with backoff', async () => {
    const store = new FaultyStore(memoryStore())
    const other = createCache({ store: store.inner, namespace: 'shared' }) // another process, healthy link
    const cache = createCache({ store, namespace: 'shared', circuitBreaker: false })
    let db = 'old'
    await other.wrap('row', async () => db, { tags: ['row'] })
    store.mode = 'fail-writes'
    db = 'new'
    await cache.invalidateTags(['row'])
    store.mode = 'ok'
    await sleep(200) // no further call on `cache`: the retry timer applies it
    expect(await other.wrap('row', async () => db, { tags: ['row'] })).toBe('new')
  })
})

describe('recovery after an outage', () => {
  it('bypasses the store for recoveryGrace after the circuit closes, so writers replay invalidations first', async () => {
    const store = new FaultyStore(memoryStore())
    const cache = createCache({
      store,
      circuitBreaker: { failureThreshold: 1, resetAfterMs: 20 },
      recoveryGrace: 100,
    })
    await cache.wrap('k', () => 'cached')
    store.mode = 'fail'
    await cache.wrap('x', () => 'x') // opens the circuit
    store.mode = 'ok'
    await sleep(30)
    await cache.wrap('probe', () => 'p') // the background probe has closed the circuit: grace runs
    expect((await cache.wrapWithInfo('k', () => 'db')).info).toEqual({
      source: 'bypass',
      reason: 'store-recovering',
    })
    await sleep(120)
    expect((await cache.wrapWithInfo('k', () => 'db')).info.source).toBe('hit')
  })
})

describe('CircuitBreaker', () => {
  it('lets exactly one probe through when half-open', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetAfterMs: 10 })
    breaker.failure()
    expect(breaker.state).toBe('open')
    expect(breaker.allow()).toBe(false)
    await sleep(15)
    expect(breaker.allow()).toBe(true)
    expect(breaker.state).toBe('half-open')
    expect(breaker.allow()).toBe(false)
    breaker.failure()
    expect(breaker.state).toBe('open')
    await sleep(15)
    expect(breaker.allow()).toBe(true)
    breaker.success()
    expect(breaker.state).toBe('closed')
  })
})
