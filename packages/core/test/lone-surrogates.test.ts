import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildKey } from '../src/exports/adapter.js'
import {
  createCache,
  InvalidKeyError,
  memoryQueue,
  type WriteBehindItem,
  writeBehind,
} from '../src/exports/index.js'
import { redisStore, redisStreamQueue } from '../src/exports/redis.js'
import { KeySpace } from '../src/query-key.js'
import { unique } from './fixtures/write-behind-harness.js'
import { connectRedis } from './support/services.js'

/**
 * Strings that differ only in a lone UTF-16 surrogate become the same UTF-8 (each surrogate is
 * replaced by U+FFFD), so hashing them as UTF-8 gave two different keys one entry. Keys are now
 * hashed losslessly; write-behind, whose queue stores keys as UTF-8 text, refuses them.
 */
const A = 's\uD800'
const B = 's\uD801'
const LOW = 's\uDC00'

describe('keys with lone surrogates', () => {
  let client: Redis
  beforeAll(async () => {
    client = await connectRedis()
  })
  afterAll(() => client?.disconnect())

  it('get distinct store keys and identities', () => {
    const keys = new KeySpace('surrogates')
    const addresses = [A, B, LOW, 's\uFFFD'].map((key) => keys.entry(key))
    expect(new Set(addresses.map((a) => a.storeKey)).size).toBe(4)
    expect(new Set(addresses.map((a) => a.identity)).size).toBe(4)
    expect(new Set([A, B, LOW, 's\uFFFD'].map((tag) => keys.tag(tag))).size).toBe(4)
    // A well-formed pair keeps the hash it always had.
    expect(keys.entry('s\uD83D\uDE00').storeKey).toBe(
      new KeySpace('surrogates').entry('s\uD83D\uDE00').storeKey,
    )
    expect(buildKey([A])).not.toBe(buildKey([B]))
  })

  it('never share an entry on a real Redis', async () => {
    const cache = createCache({ store: redisStore({ client }), namespace: unique('lone') })
    try {
      await cache.set(A, 'value of A', { tags: [A] })
      await cache.set(B, 'value of B', { tags: [B] })
      expect(await cache.get(A)).toBe('value of A')
      expect(await cache.get(B)).toBe('value of B')
      // Invalidating one tag leaves the other key's entry alone.
      await cache.invalidateTags([A])
      expect(await cache.get(A)).toBeUndefined()
      expect(await cache.get(B)).toBe('value of B')
      // Keys built from query arguments that differ only in a surrogate stay apart too.
      const kA = buildKey(['User', 'findMany', { where: { name: A } }])
      const kB = buildKey(['User', 'findMany', { where: { name: B } }])
      expect(await cache.wrap(kA, async () => 'rows for A')).toBe('rows for A')
      expect(await cache.wrap(kB, async () => 'rows for B')).toBe('rows for B')
    } finally {
      await cache.close()
    }
  })

  it('are refused by write-behind before anything is written, so no write is lost as superseded', async () => {
    for (const queueOf of [() => memoryQueue(), () => redisStreamQueue({ client, name: 'lone' })]) {
      const cache = createCache({ store: redisStore({ client }), namespace: unique('lone-wb') })
      const flushed: WriteBehindItem<string>[] = []
      const writer = writeBehind<string>({
        cache,
        queue: queueOf(),
        flush: (batch) => {
          flushed.push(...batch)
        },
        flushIntervalMs: 3_600_000,
      })
      try {
        await expect(writer.write(A, 'a')).rejects.toBeInstanceOf(InvalidKeyError)
        await expect(writer.write(B, 'b')).rejects.toThrow(/lone surrogate/)
        await writer.write('s\uD83D\uDE00', 'emoji')
        await writer.flushNow()
        expect(flushed.map((item) => item.key)).toEqual(['s\uD83D\uDE00'])
        expect(await cache.get(A)).toBeUndefined()
      } finally {
        await writer.close()
        await cache.close()
      }
    }
  })
})
