import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MemcachedStore, memcachedStore } from '../src/exports/memcached.js'
import { lookupEntry } from '../src/store/store-ops.js'
import { memcachedServers, requireMemcached } from './support/services.js'

/**
 * The lookup composed from getMany (stores without their own `lookup`, here Memcached): a hit
 * whose versions all exist returns them as read; an absent version is still created with add.
 */
describe('lookupEntry composed from getMany (memcached)', () => {
  let store: MemcachedStore
  const ns = `ops-${crypto.randomUUID().slice(0, 8)}`
  beforeAll(async () => {
    await requireMemcached()
    store = memcachedStore({ servers: memcachedServers })
  })
  afterAll(() => store?.close())

  it('returns the entry and every present version without writing any', async () => {
    const keys = [`${ns}:e`, `${ns}:t:a`, `${ns}:t:b`]
    await store.setMany([
      { key: keys[0]!, value: 'epoch-1' },
      { key: keys[1]!, value: 'va' },
      { key: keys[2]!, value: 'vb' },
      { key: `${ns}:entry`, value: 'raw' },
    ])
    const reply = await lookupEntry(store, {
      entryKey: `${ns}:entry`,
      keys,
      token: 'tok',
      tagTtlMs: 60_000,
      lease: undefined,
    })
    expect(reply).toEqual({ entry: 'raw', versions: ['epoch-1', 'va', 'vb'], leased: undefined })
  })

  it('creates an absent version with the token and its index, and keeps the present ones', async () => {
    const keys = [`${ns}:e2`, `${ns}:t:c`, `${ns}:t:d`]
    await store.setMany([
      { key: keys[0]!, value: 'epoch-2' },
      { key: keys[2]!, value: 'vd' },
    ])
    const reply = await lookupEntry(store, {
      entryKey: `${ns}:none`,
      keys,
      token: 'tok',
      tagTtlMs: 60_000,
      lease: undefined,
    })
    expect(reply).toEqual({ entry: undefined, versions: ['epoch-2', 'tok.1', 'vd'], leased: undefined })
    expect(await store.get(keys[1]!)).toBe('tok.1')
  })
})
