import { describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import { gate } from './support/faulty-store.js'
import { countRedis, RoundTrips } from './support/round-trips.js'
import { connectRedis } from './support/services.js'

/**
 * A miss whose load overlaps an invalidation by this same process (fill.ts): the process knows
 * which tags it moved since the snapshot (HitHints), so when none of them is the read's own it
 * fills without reading the versions again. It used to send an MGET of every snapshot tag before
 * the fill whenever anything at all had been invalidated locally: one more round trip per miss.
 */
describe('a load overlapped by a local invalidation (Redis)', () => {
  type Run = { cache: Cache; pausedMiss: PausedMiss }
  type PausedMiss = (
    key: string,
    tags: string[],
    value: string,
    during: () => Promise<unknown>,
  ) => Promise<{ trips: number; commands: string[] }>

  /** Runs `body` against a fresh cache on its own counted connection, and closes both after. */
  async function withCache(body: (run: Run) => Promise<void>): Promise<void> {
    const counter = new RoundTrips()
    const client = await connectRedis()
    countRedis(client, counter)
    const namespace = `local-bump-${Math.random().toString(36).slice(2)}`
    const cache = createCache({ store: redisStore({ client }), namespace, l1: false, bus: false })
    await cache.wrap('warm', () => 0, { tags: ['warm'] }) // loads the scripts
    /** Reads `key` under `tags` with a loader that returns `value` once `during` has run. */
    const pausedMiss: PausedMiss = async (key, tags, value, during) => {
      const loaded = gate()
      const resume = gate()
      const read = cache.wrapWithInfo(
        key,
        async () => {
          loaded.open()
          await resume.promise
          return value
        },
        { tags },
      )
      await loaded.promise
      await during()
      return counter.during(async () => {
        resume.open()
        expect((await read).value).toBe(value)
      })
    }
    try {
      await body({ cache, pausedMiss })
    } finally {
      await cache.close()
      client.disconnect()
    }
  }

  it('of another tag: the value is stored with the fill alone, and the next read hits', () =>
    withCache(async ({ cache, pausedMiss }) => {
      const after = await pausedMiss('row:1', ['row:1'], 'v1', () => cache.invalidateTags(['row:2']))
      expect(after.commands).toEqual(['evalsha']) // the fill (with the lease release); no MGET first
      const next = await cache.wrapWithInfo('row:1', () => 'reloaded', { tags: ['row:1'] })
      expect(next).toMatchObject({ value: 'v1', info: { source: 'hit' } })
    }))

  it('of its own tag: the versions decide, nothing is stored, and the next read loads again', () =>
    withCache(async ({ cache, pausedMiss }) => {
      const after = await pausedMiss('row:1', ['row:1'], 'old', () => cache.invalidateTags(['row:1']))
      // The version read (the bump may have landed before the snapshot), then the lease's release.
      expect(after.commands).toEqual(['mget', 'evalsha'])
      const next = await cache.wrapWithInfo('row:1', () => 'new', { tags: ['row:1'] })
      expect(next).toMatchObject({ value: 'new', info: { source: 'miss' } })
    }))

  it('of everything: nothing is stored', () =>
    withCache(async ({ cache, pausedMiss }) => {
      await pausedMiss('row:1', ['row:1'], 'old', () => cache.clear())
      const next = await cache.wrapWithInfo('row:1', () => 'new', { tags: ['row:1'] })
      expect(next).toMatchObject({ value: 'new', info: { source: 'miss' } })
    }))
})
