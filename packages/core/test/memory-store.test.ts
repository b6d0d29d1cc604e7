import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryStore, ValueTooLargeError } from '../src/exports/index.js'
import { runStoreContract } from '../src/exports/testing.js'
import { LOG_LENGTH } from '../src/tags/write-log.js'

runStoreContract('memory', () => memoryStore(), { describe, it, beforeAll, afterAll }, { plainHitRead: true })

describe('memoryStore bounds', () => {
  it('evicts the least recently used entry past maxEntries', async () => {
    const store = memoryStore({ maxEntries: 3 })
    await store.set('a', '1')
    await store.set('b', '2')
    await store.set('c', '3')
    await store.get('a') // a is now most recently used
    await store.set('d', '4')
    expect(await store.getMany(['a', 'b', 'c', 'd'])).toEqual(['1', undefined, '3', '4'])
    expect(store.size).toBe(3)
  })

  it('evicts by bytes and tracks usage exactly', async () => {
    const store = memoryStore({ maxBytes: 1_000 })
    for (let i = 0; i < 20; i++) await store.set(`k${i}`, 'v'.repeat(100))
    expect(store.usedBytes).toBeLessThanOrEqual(1_000)
    expect(await store.get('k19')).toBe('v'.repeat(100))
    expect(await store.get('k0')).toBeUndefined()
    for (let i = 0; i < 20; i++) await store.delete(`k${i}`)
    expect(store.usedBytes).toBe(0)
  })

  it('rejects a single value larger than maxBytes with a typed error', async () => {
    const store = memoryStore({ maxBytes: 500 })
    await expect(store.set('big', 'x'.repeat(1_000))).rejects.toBeInstanceOf(ValueTooLargeError)
    await expect(store.set('big', 'x'.repeat(1_000))).rejects.toMatchObject({ code: 'ERR_VALUE_TOO_LARGE' })
  })

  it('rejects bad bounds with a typed error', () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => memoryStore({ maxBytes: 1.5 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
  })
})

describe('memoryStore write log', () => {
  it('stays bounded: trimmed back to its length once it holds twice that, newest record last', async () => {
    const store = memoryStore()
    const sizes: number[] = []
    for (let i = 0; i < 3 * LOG_LENGTH; i++) {
      await store.writeLog.bump(
        [],
        [
          {
            tagKey: 't:t:users',
            logKey: 'w:{t:t:users}',
            token: `tok${i}`,
            ttlMs: 60_000,
            keys: [`t:r:users:${i}`],
          },
        ],
        [],
      )
      const records = (await store.get('w:{t:t:users}'))!.split('\n')
      expect(records.at(-1)).toBe(`tok${i} ${i === 0 ? '-' : `tok${i - 1}`} t:r:users:${i}`)
      sizes.push(records.length)
    }
    expect(Math.max(...sizes)).toBe(2 * LOG_LENGTH - 1)
    expect(sizes.slice(2 * LOG_LENGTH - 1)[0]).toBe(LOG_LENGTH)
    expect(Math.min(...sizes.slice(LOG_LENGTH))).toBe(LOG_LENGTH)
    expect(await store.get('t:t:users')).toBe(`tok${3 * LOG_LENGTH - 1}`)
  })
})

describe('memoryStore approximate LRU', () => {
  it('keeps a hot key through a stream of cold inserts', async () => {
    const store = memoryStore({ maxEntries: 100 })
    await store.set('hot', 'h')
    for (let i = 0; i < 1_000; i++) {
      await store.set(`cold${i}`, 'c')
      expect(await store.get('hot')).toBe('h')
    }
    expect(store.size).toBe(100)
  })
})

describe('memoryStore eviction order', () => {
  // At most 3 slots, where the approximate LRU is exact (a slot moves on every read or rewrite
  // unless it is already the newest): the store must then evict exactly the slot used least
  // recently, as a plain list of keys in order of use does. The eviction
  // cursor is long-lived and rewrites happen in place; this holds both to that order through
  // rewrites, deletes, full drains by bytes and a close.
  it('evicts the least recently used slot through rewrites, deletes, drains and a close', async () => {
    const store = memoryStore({ maxEntries: 3, maxBytes: 2_000 })
    let order: string[] = []
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed % n
    }
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`)
    for (let step = 0; step < 5_000; step++) {
      const key = keys[random(keys.length)]!
      const roll = random(100)
      if (roll < 70) {
        await store.set(key, 'v')
        order = order.filter((k) => k !== key).concat(key)
        if (order.length > 3) order = order.slice(order.length - 3)
      } else if (roll < 95) {
        await store.delete(key)
        order = order.filter((k) => k !== key)
      } else if (roll < 99) {
        // With any other slot it passes the byte bound: everything older goes.
        await store.set(key, 'x'.repeat(940))
        order = [key]
        await store.set(key, 'v')
      } else {
        await store.close()
        order = []
      }
      const held = (await store.getMany(keys)).flatMap((value, i) => (value === undefined ? [] : [keys[i]!]))
      expect(held).toEqual(keys.filter((k) => order.includes(k)))
      // The reads moved each slot they found to the newest end, in the order of `keys`.
      order = held
    }
  })
})
