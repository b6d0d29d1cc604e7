import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../src/exports/index.js'
import { localBus } from '../src/tiers/bus.js'
import { asShared, FaultyStore, gate } from './support/faulty-store.js'

/** Two caches over one store and one bus behave like two processes sharing Redis. */
function twoProcesses(
  consistency: 'strict' | 'bounded',
  options: { maxStaleness?: number; bus?: boolean } = {},
) {
  const store = new FaultyStore(asShared(memoryStore()))
  const bus = localBus()
  const make = () =>
    createCache({
      store,
      namespace: 'l1',
      consistency,
      l1: { maxStaleness: options.maxStaleness ?? 60_000 },
      bus: options.bus === false ? false : bus,
      lease: false,
    })
  return { store, bus, a: make(), b: make() }
}

describe('L1 near cache (bounded)', () => {
  it('answers a repeated read with no store round trip, and returns copies', async () => {
    const { store, a } = twoProcesses('bounded')
    await a.wrap('k', async () => ({ list: [1] }), { tags: ['t'] }) // the fill also lands in L1
    const calls = store.calls
    const second = await a.wrapWithInfo<{ list: number[] }>('k', async () => ({ list: [0] }), { tags: ['t'] })
    expect(second.info).toEqual({ source: 'hit', tier: 'l1' })
    expect(store.calls).toBe(calls)
    second.value.list.push(2)
    expect((await a.wrap('k', async () => ({ list: [0] }), { tags: ['t'] })).list).toEqual([1])
    expect(a.stats().l1Hits).toBe(2)
  })

  it('fills L1 from an L2 hit made by another process', async () => {
    const { store, a, b } = twoProcesses('bounded')
    await b.wrap('k', async () => 'v', { tags: ['t'] })
    expect((await a.wrapWithInfo('k', async () => 'x', { tags: ['t'] })).info).toEqual({
      source: 'hit',
      tier: 'l2',
    })
    const calls = store.calls
    expect((await a.wrapWithInfo('k', async () => 'x', { tags: ['t'] })).info).toEqual({
      source: 'hit',
      tier: 'l1',
    })
    expect(store.calls).toBe(calls)
  })

  it('drops entries another process invalidated, as soon as the bus delivers it', async () => {
    const { a, b } = twoProcesses('bounded')
    let db = 'v1'
    const read = (cache: typeof a) => cache.wrap('k', async () => db, { tags: ['t'] })
    await read(a)
    await read(a) // now in A's L1
    db = 'v2'
    await b.invalidateTags(['t'])
    await sleep(1) // bus delivery
    expect(await read(a)).toBe('v2')
  })

  it('flushes and stops using L1 while the bus is disconnected', async () => {
    const { bus, a, b } = twoProcesses('bounded')
    let db = 'v1'
    const read = () => a.wrapWithInfo('k', async () => db, { tags: ['t'] })
    await read()
    await read()
    bus.disconnect()
    db = 'v2'
    await b.invalidateTags(['t']) // its bus message is lost
    expect(await read()).toEqual({ value: 'v2', info: { source: 'miss', reason: 'invalidated' } })
    expect((await read()).info).toEqual({ source: 'hit', tier: 'l2' }) // L1 stays off
    bus.reconnect()
    await read()
    expect((await read()).info.tier).toBe('l1')
  })

  it('without a bus, lags another process by at most maxStaleness', async () => {
    const { a, b } = twoProcesses('bounded', { maxStaleness: 50, bus: false })
    let db = 'v1'
    const read = () => a.wrap('k', async () => db, { tags: ['t'] })
    await read()
    await read()
    db = 'v2'
    await b.invalidateTags(['t'])
    expect(await read()).toBe('v1') // bounded: allowed to lag…
    await sleep(70)
    expect(await read()).toBe('v2') // …but not past maxStaleness
  })

  it('evicts locally before a local invalidation resolves', async () => {
    const { a } = twoProcesses('bounded')
    let db = 'v1'
    const read = () => a.wrap('k', async () => db, { tags: ['t'] })
    await read()
    await read()
    db = 'v2'
    await a.invalidateTags(['t'])
    expect(await read()).toBe('v2')
  })

  it('a fill racing a remote invalidation does not land in L1', async () => {
    const { a, b } = twoProcesses('bounded')
    let db = 'v1'
    const paused = gate()
    const loaded = gate()
    const slow = a.wrap(
      'k',
      async () => {
        const value = db
        loaded.open()
        await paused.promise
        return value
      },
      { tags: ['t'] },
    )
    await loaded.promise
    db = 'v2'
    await b.invalidateTags(['t'])
    await sleep(1)
    paused.open()
    expect(await slow).toBe('v1')
    expect(await a.wrap('k', async () => db, { tags: ['t'] })).toBe('v2')
  })
})

describe('L1 near cache (strict)', () => {
  it('confirms versions with one small read and catches invalidations even without a bus', async () => {
    const { store, a, b } = twoProcesses('strict', { bus: false })
    let db = 'v1'
    const read = () => a.wrapWithInfo('k', async () => db, { tags: ['t'] })
    await read()
    await read()
    const calls = store.calls
    expect((await read()).info).toEqual({ source: 'hit', tier: 'l1' })
    expect(store.calls).toBe(calls + 1) // versions only
    db = 'v2'
    await b.invalidateTags(['t'])
    expect((await read()).value).toBe('v2')
  })

  it('clear() on one process empties the other L1 too', async () => {
    const { a, b } = twoProcesses('strict')
    let db = 'v1'
    await a.wrap('k', async () => db)
    await a.wrap('k', async () => db)
    db = 'v2'
    await b.clear()
    expect(await a.wrap('k', async () => db)).toBe('v2')
  })
})

describe('distributed lease', () => {
  it('lets one of several processes load a cold key; the others wait for its value', async () => {
    const store = asShared(memoryStore())
    const caches = Array.from({ length: 4 }, () => createCache({ store, namespace: 'lease' }))
    let loads = 0
    const release = gate()
    const reads = caches.flatMap((cache) =>
      Array.from({ length: 50 }, () =>
        cache.wrapWithInfo('cold', async () => {
          loads++
          await release.promise
          return 'value'
        }),
      ),
    )
    await sleep(20)
    release.open()
    const results = await Promise.all(reads)
    expect(loads).toBe(1)
    expect(results.every((r) => r.value === 'value')).toBe(true)
    expect(results.filter((r) => r.info.source === 'miss')).toHaveLength(1)
  })

  it('re-contends when the holder fails, so a waiter loads instead', async () => {
    const store = asShared(memoryStore())
    const [a, b] = [createCache({ store, namespace: 'lease2' }), createCache({ store, namespace: 'lease2' })]
    const release = gate()
    const failing = a.wrap('k', async () => {
      await release.promise
      throw new Error('holder failed')
    })
    await sleep(5)
    const waiting = b.wrap('k', async () => 'from-b')
    await sleep(10)
    release.open()
    await expect(failing).rejects.toThrow('holder failed')
    expect(await waiting).toBe('from-b')
  })

  it("a waiter takes the holder's value even if a write landed after the holder's load began", async () => {
    const store = asShared(memoryStore())
    const [holder, waiter] = [
      createCache({ store, namespace: 'lease4' }),
      createCache({ store, namespace: 'lease4' }),
    ]
    let loads = 0
    const release = gate()
    const held = holder.wrap(
      'k',
      async () => {
        loads++
        await release.promise
        return 'loaded-before-the-write'
      },
      { tags: ['t'] },
    )
    await sleep(5)
    // Both reads began before the write below resolved, so the holder's value is a fair answer
    // for the waiter; rejecting it would only make the waiter sit out lease.wait and load again.
    const waiting = waiter.wrapWithInfo(
      'k',
      async () => {
        loads++
        return 'waiter-loaded'
      },
      { tags: ['t'] },
    )
    await sleep(5)
    release.open()
    await held
    await holder.invalidateTags(['t'])
    expect(await waiting).toEqual({
      value: 'loaded-before-the-write',
      info: { source: 'shared', reason: 'absent' },
    })
    expect(loads).toBe(1)
  })

  it('a process that gets the lease right after another released it uses the stored value', async () => {
    const inner = memoryStore()
    const pausedAdd = gate()
    let pauseNextAdd = false
    const store = asShared(
      new Proxy(inner, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver)
          if (property !== 'add') return typeof value === 'function' ? value.bind(target) : value
          return async (key: string, token: string, ttl?: number) => {
            if (pauseNextAdd && key.includes(':l:')) {
              pauseNextAdd = false
              await pausedAdd.promise
            }
            return target.add(key, token, ttl)
          }
        },
      }),
    )
    const [first, second] = [
      createCache({ store, namespace: 'lease5' }),
      createCache({ store, namespace: 'lease5' }),
    ]
    let loads = 0
    const load = async () => {
      loads++
      return 'value'
    }
    pauseNextAdd = true
    const late = second.wrapWithInfo('k', load) // missed, then stalls before taking the lease
    await sleep(5)
    await first.wrap('k', load) // takes the lease, loads, stores, releases
    pausedAdd.open()
    expect(await late).toEqual({ value: 'value', info: { source: 'shared', reason: 'absent' } })
    expect(loads).toBe(1)
  })

  it('stops waiting after lease.wait and loads itself', async () => {
    const store = asShared(memoryStore())
    const a = createCache({ store, namespace: 'lease3' })
    const b = createCache({ store, namespace: 'lease3', lease: { wait: 30 } })
    const release = gate()
    const slow = a.wrap('k', async () => {
      await release.promise
      return 'slow'
    })
    await sleep(5)
    expect(await b.wrapWithInfo('k', async () => 'impatient')).toEqual({
      value: 'impatient',
      info: { source: 'miss', reason: 'absent' },
    })
    release.open()
    await slow
  })
})

describe('bus faults', () => {
  it('never holds up an invalidation on a bus that does not answer', async () => {
    const hanging = {
      publish: () => new Promise<void>(() => {}),
      subscribe: async () => () => {},
      close: async () => {},
    }
    const cache = createCache({ bus: hanging, l1: {} })
    let db = 'v1'
    await cache.wrap('k', async () => db, { tags: ['t'] })
    db = 'v2'
    await cache.invalidateTags(['t']) // resolves although the publish never does
    expect(await cache.wrap('k', async () => db, { tags: ['t'] })).toBe('v2')
  })
})
