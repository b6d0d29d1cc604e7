import crypto from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, type OrmCacheError } from '../../src/exports/index.js'
import type { CacheStore } from '../../src/store/types.js'

/**
 * Two caches on one shared backend, each with its own store and connection, stand in for two
 * processes. Whatever one of them fills, invalidates or clears, the other must see on its very
 * next read. Store faults would be swallowed into error events, so every test also asserts that
 * none happened (a dead store must not pass as "always a miss").
 */
export function sharedCacheSuite(backend: string, makeStore: () => Promise<CacheStore>): void {
  describe(`createCache: two caches sharing one ${backend}`, () => {
    const namespace = `e2e-${crypto.randomBytes(5).toString('hex')}`
    let a: Cache
    let b: Cache
    const errors: OrmCacheError[] = []

    beforeAll(async () => {
      a = createCache({ store: await makeStore(), namespace, ttl: 60_000 })
      b = createCache({ store: await makeStore(), namespace, ttl: 60_000 })
      for (const cache of [a, b]) cache.on('error', ({ error }) => errors.push(error))
    })
    afterAll(async () => {
      await a?.close()
      await b?.close()
    })
    afterEach(() => {
      expect(errors.map((e) => `${e.code}: ${e.message}`)).toEqual([])
    })

    it('a value one cache loaded is a hit for the other', async () => {
      let loads = 0
      const load = async () => ({ id: 1, name: `loaded ${++loads}`, at: new Date(0) })
      expect(await a.wrap('user:1', load, { tags: ['users'] })).toEqual({
        id: 1,
        name: 'loaded 1',
        at: new Date(0),
      })
      const seen = await b.wrapWithInfo('user:1', load, { tags: ['users'] })
      expect(seen.info.source).toBe('hit')
      expect(seen.value).toEqual({ id: 1, name: 'loaded 1', at: new Date(0) })
      expect(loads).toBe(1)
    })

    it('an invalidation by one cache is seen by the other at once', async () => {
      let version = 1
      const load = async () => `row v${version}`
      expect(await a.wrap('post:7', load, { tags: ['posts', 'post:7'] })).toBe('row v1')
      expect(await b.wrap('post:7', load, { tags: ['posts', 'post:7'] })).toBe('row v1')
      version = 2
      await a.invalidateTags(['post:7'])
      const after = await b.wrapWithInfo('post:7', load, { tags: ['posts', 'post:7'] })
      expect(after).toMatchObject({ value: 'row v2', info: { source: 'miss' } })
      // and the refill by b is now a hit for a
      expect(await a.wrapWithInfo('post:7', load, { tags: ['posts', 'post:7'] })).toMatchObject({
        value: 'row v2',
        info: { source: 'hit' },
      })
    })

    it('set, get and delete by one cache are seen by the other', async () => {
      await a.set('config', { theme: 'dark', limits: [1, 2n] }, { tags: ['config'] })
      expect(await b.get('config')).toEqual({ theme: 'dark', limits: [1, 2n] })
      await b.delete('config')
      expect(await a.get('config')).toBeUndefined()
      await b.set('config', 'v2', { tags: ['config'] })
      await a.invalidateTags(['config'])
      expect(await b.get('config')).toBeUndefined()
    })

    it('clear() by one cache empties the namespace for the other', async () => {
      await a.set('x', 1)
      await b.wrap('y', async () => 2, { tags: ['t'] })
      expect(await b.get('x')).toBe(1)
      expect(await a.get('y')).toBe(2)
      await b.clear()
      expect(await a.get('x')).toBeUndefined()
      expect(await a.get('y')).toBeUndefined()
      expect(await a.wrapWithInfo('y', async () => 3, { tags: ['t'] })).toMatchObject({
        value: 3,
        info: { source: 'miss' },
      })
      expect(await b.get('y')).toBe(3)
    })

    it('another namespace on the same backend is untouched by clear()', async () => {
      const other = createCache({ store: await makeStore(), namespace: `${namespace}-other` })
      try {
        await other.set('keep', 'me')
        await a.clear()
        expect(await other.get('keep')).toBe('me')
      } finally {
        await other.close()
      }
    })
  })
}
