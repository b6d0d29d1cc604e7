import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '../src/exports/index.js'
import { gate, withJitter } from './support/faulty-store.js'

/** A tiny stand-in database: values per row, each write strictly increasing. */
class Rows {
  private readonly rows = new Map<number, number>()
  read(id: number): number {
    return this.rows.get(id) ?? 0
  }
  write(id: number): number {
    const next = this.read(id) + 1
    this.rows.set(id, next)
    return next
  }
}

describe('deterministic races', () => {
  it('a reader paused between snapshot and fill cannot leave a stale entry (G1)', async () => {
    const cache = createCache()
    const db = new Rows()
    const paused = gate()
    const loaded = gate()
    const slowReader = cache.wrap(
      'row:1',
      async () => {
        const value = db.read(1) // reads the old row…
        loaded.open()
        await paused.promise // …and stalls before the cache stores it
        return value
      },
      { tags: ['row:1'] },
    )
    await loaded.promise
    db.write(1) // the writer commits
    await cache.invalidateTags(['row:1']) // and invalidates; its promise resolves
    paused.open()
    expect(await slowReader).toBe(0) // the slow reader returns what it read (it began before the write)
    // …but what it stored carries the pre-write version, so it is never served:
    expect(await cache.wrap('row:1', async () => db.read(1), { tags: ['row:1'] })).toBe(1)
    expect(await cache.get('row:1')).toBe(1)
  })

  it('a read that starts after an invalidation never joins a load that started before it (G2)', async () => {
    const cache = createCache()
    const db = new Rows()
    const paused = gate()
    const loaded = gate()
    const early = cache.wrap(
      'row:1',
      async () => {
        const value = db.read(1)
        loaded.open()
        await paused.promise
        return value
      },
      { tags: ['row:1'] },
    )
    await loaded.promise
    db.write(1)
    await cache.invalidateTags(['row:1'])
    // The early load is still in flight with the old snapshot; a new read must not share it.
    const late = await cache.wrapWithInfo('row:1', async () => db.read(1), { tags: ['row:1'] })
    expect(late).toEqual({ value: 1, info: { source: 'miss', reason: 'absent' } })
    paused.open()
    expect(await early).toBe(0)
    expect(await cache.get('row:1')).toBe(1)
  })

  it('a writer paused between commit and invalidation: reads before it resolves may be old, after it never', async () => {
    const cache = createCache()
    const db = new Rows()
    const read = () => cache.wrap('row:1', async () => db.read(1), { tags: ['row:1'] })
    expect(await read()).toBe(0)
    db.write(1) // committed; the invalidation has not run yet
    expect(await read()).toBe(0) // allowed: the mutation has not resolved
    await cache.invalidateTags(['row:1']) // the mutation resolves after this
    expect(await read()).toBe(1)
  })

  it('an evicted tag version only causes misses and never resurrects an old entry', async () => {
    const store = memoryStore()
    const cache = createCache({ store, namespace: 'evict' })
    const db = new Rows()
    const read = () => cache.wrapWithInfo('row:1', async () => db.read(1), { tags: ['row:1'] })
    await read()
    await store.delete('evict:t:row:1') // the store evicts the tag token
    db.write(1)
    expect(await read()).toEqual({ value: 1, info: { source: 'miss', reason: 'invalidated' } })
    // A later invalidation and re-creation never lands back on the first token.
    await cache.invalidateTags(['row:1'])
    await store.delete('evict:t:row:1')
    expect((await read()).info.source).toBe('miss')
    expect((await read()).info.source).toBe('hit')
  })

  it('clear() during a paused load makes the late fill invalid', async () => {
    const cache = createCache()
    const paused = gate()
    const loaded = gate()
    const slow = cache.wrap('k', async () => {
      loaded.open()
      await paused.promise
      return 'before-clear'
    })
    await loaded.promise
    await cache.clear()
    paused.open()
    await slow
    expect(await cache.get('k')).toBeUndefined()
  })
})

describe('randomized concurrent reads and writes', () => {
  for (const [name, jitterMs] of [
    ['in-process store', 0],
    ['store with random latency', 3],
  ] as const) {
    it(`never serves pre-write data after a write resolved, and ends with cache == database (${name})`, async () => {
      let seed = 42
      const random = () => {
        seed = (seed * 16807) % 2147483647
        return seed / 2147483647
      }
      const store = jitterMs === 0 ? memoryStore() : withJitter(memoryStore(), jitterMs, random)
      const cache = createCache({ store, ttl: 60_000 })
      const db = new Rows()
      const rows = 8
      // Per row: the newest value whose write (commit + invalidation) has resolved.
      const resolved = new Array<number>(rows).fill(0)
      let violations = 0
      let reads = 0
      let writes = 0

      const reader = async () => {
        const id = Math.floor(random() * rows)
        const floor = resolved[id]!
        const value = await cache.wrap(
          `row:${id}`,
          async () => {
            const v = db.read(id)
            await sleep(Math.floor(random() * 4))
            return v
          },
          { tags: [`row:${id}`, 'rows'] },
        )
        reads++
        if (value < floor) violations++
      }
      const writer = async () => {
        const id = Math.floor(random() * rows)
        const value = db.write(id)
        await sleep(Math.floor(random() * 4)) // between commit and invalidation
        await cache.invalidateTags(random() < 0.2 ? ['rows'] : [`row:${id}`])
        writes++
        resolved[id] = Math.max(resolved[id]!, value)
      }

      const workers = Array.from({ length: 16 }, async () => {
        for (let op = 0; op < 150; op++) await (random() < 0.25 ? writer() : reader())
      })
      await Promise.all(workers)

      expect(reads + writes).toBe(16 * 150)
      expect(violations).toBe(0)
      for (let id = 0; id < rows; id++) {
        const cached = await cache.get<number>(`row:${id}`)
        if (cached !== undefined) expect(cached).toBe(db.read(id))
        expect(await cache.wrap(`row:${id}`, async () => db.read(id), { tags: [`row:${id}`, 'rows'] })).toBe(
          db.read(id),
        )
      }
      expect(cache.stats().hits).toBeGreaterThan(0)
    }, 60_000)
  }
})
