import { afterAll, describe, expect, it, vi } from 'vitest'
import { columnTag, rowTag, tableTag } from '../src/exports/adapter.js'
import { type Cache, createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { connectRedis } from './support/services.js'

/**
 * A list whose row tags are learned after the load is stored under those fine tags instead of its
 * guard (post-load.ts). L1 used to compare the stored tags with the asked ones and drop every such
 * entry, so in-process L1 never served a precise list: each read paid the payload transfer and
 * decode of L2. Regression test for `readL1` judging it on the plain hit's terms.
 */
type Row = { id: number; team: number; v: number }
const PINS = [columnTag('users', 'team_id', 2)]
const afterLoad = {
  tables: ['users'],
  tags: (rows: Row[]) => rows.map((r) => rowTag('users', { id: r.id })),
}

const caches: Cache[] = []
afterAll(async () => {
  for (const cache of caches) await cache.close()
})

/** Two processes sharing one Redis namespace, each with its own L1. */
async function twoProcesses(consistency: 'strict' | 'bounded') {
  const namespace = `l1-after-load-${Math.random()}`
  const open = async () => {
    const cache = createCache({
      store: redisStore({ client: await connectRedis(), ownsClient: true }),
      namespace,
      consistency,
      l1: { maxStaleness: 60_000 },
    })
    caches.push(cache)
    return cache
  }
  return { a: await open(), b: await open() }
}

describe.each(['strict', 'bounded'] as const)(
  'L1 serves lists known after the load (%s, Redis)',
  (consistency) => {
    it('serves the list from L1, keeps it across writes to other rows, drops it on a write to its row', async () => {
      const { a, b } = await twoProcesses(consistency)
      const rows: Row[] = [
        { id: 1, team: 2, v: 0 },
        { id: 2, team: 2, v: 0 },
      ]
      let loads = 0
      const read = () =>
        a.wrapWithInfo(
          'team:2',
          () => {
            loads += 1
            return rows.map((r) => ({ ...r }))
          },
          { tags: PINS, afterLoad },
        )
      expect((await read()).info.source).toBe('miss')
      const second = await read()
      expect(second.info).toEqual({ source: 'hit', tier: 'l1' })
      expect(a.stats().l1Hits).toBe(1)
      // Served values are copies: a caller mutating one cannot change the next answer.
      second.value[0]!.v = 99
      expect((await read()).value[0]!.v).toBe(0)

      // Another process writes row 9 (not in the list): its fine tags leave the entry current.
      await b.invalidateTags([tableTag('users'), rowTag('users', { id: 9 })])
      expect((await read()).info).toEqual({ source: 'hit', tier: 'l1' })

      // Another process writes row 2 (in the list): the next read loads the new row.
      rows[1]!.v = 1
      await b.invalidateTags([tableTag('users'), rowTag('users', { id: 2 })])
      await vi.waitFor(async () => expect((await read()).value[1]!.v).toBe(1), { timeout: 2_000 })
      expect(loads).toBe(2)
    })

    it('does not answer a read that asks for a tag the stored list does not depend on', async () => {
      const { a } = await twoProcesses(consistency)
      const rows: Row[] = [{ id: 1, team: 2, v: 0 }]
      await a.wrap('team:2', () => rows.map((r) => ({ ...r })), { tags: PINS, afterLoad })
      // Same key, one more tag: an entry invalidateTags(['feed']) cannot evict must not answer it.
      const tagged = await a.wrapWithInfo('team:2', () => rows.map((r) => ({ ...r })), {
        tags: [...PINS, 'feed'],
        afterLoad,
      })
      expect(tagged.info.tier).not.toBe('l1')
      expect(tagged.info.source).not.toBe('hit')
    })
  },
)
