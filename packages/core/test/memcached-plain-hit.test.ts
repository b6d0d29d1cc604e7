import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/exports/index.js'
import { memcachedStore } from '../src/exports/memcached.js'
import type { MemcachedStore } from '../src/memcached/memcached-store.js'
import { memcachedServers, requireMemcached } from './support/services.js'

/**
 * The hit read on Memcached (plain-hit.ts): a key that hit before is read with one multi-get of
 * entry, epoch and versions, outside the lookup batch; anything but a fresh, current hit falls
 * back to the full lookup. Two caches on the same servers stand in for two processes, so the
 * writer's invalidations are invisible to the reader's hints: the case where a hint is wrong.
 */
const tags = ['mph-users', 'mph-user:1']
const unique = () => `mph-${crypto.randomBytes(5).toString('hex')}`

describe('plain hit read on Memcached', () => {
  let store: MemcachedStore
  let reader: Cache
  let writer: Cache
  let plainReads = 0

  beforeAll(async () => {
    await requireMemcached()
    const namespace = unique()
    store = memcachedStore({ servers: memcachedServers })
    const readHit = store.readHit.bind(store)
    store.readHit = (entryKey, keys) => {
      plainReads++
      return readHit(entryKey, keys)
    }
    reader = createCache({ namespace, bus: false, l1: false, store })
    writer = createCache({
      namespace,
      bus: false,
      l1: false,
      store: memcachedStore({ servers: memcachedServers }),
    })
  })
  afterAll(async () => {
    await reader?.close()
    await writer?.close()
  })

  it('serves a key that hit before from the plain read', async () => {
    const key = unique()
    await reader.wrap(key, async () => 'v', { tags })
    expect((await reader.wrapWithInfo(key, async () => 'never', { tags })).info.source).toBe('hit')
    const before = plainReads
    expect(await reader.wrapWithInfo(key, async () => 'never', { tags })).toEqual({
      value: 'v',
      info: { source: 'hit', tier: 'l2' },
    })
    expect(plainReads).toBe(before + 1)
  })

  it("never serves an entry another process's write invalidated, though the hint says hit", async () => {
    const key = unique()
    let db = 'old'
    await reader.wrap(key, async () => db, { tags })
    expect(await reader.wrap(key, async () => db, { tags })).toBe('old')
    db = 'new'
    await writer.invalidateTags(['mph-user:1'])
    const before = plainReads
    const read = await reader.wrapWithInfo(key, async () => db, { tags })
    expect(read.value).toBe('new')
    expect(read.info.source).toBe('miss')
    expect(plainReads).toBe(before + 1) // tried plainly, judged dead, then the full lookup
    expect(await reader.wrap(key, async () => 'never', { tags })).toBe('new')
  })
})
