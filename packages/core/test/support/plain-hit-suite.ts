import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../../src/exports/index.js'
import type { CacheStore } from '../../src/store/types.js'

/** What a plain-hit suite runs on: a store offering `readHit`, and one for the other process. */
export interface PlainHitStores {
  reader: CacheStore & Required<Pick<CacheStore, 'readHit'>>
  /** The writer's store: on the same backend (a shared server, or the same in-process store). */
  writer: CacheStore
}

/**
 * The hit read on a store whose lookup is composed from plain reads (plain-hit.ts): a key that
 * hit before is read with one `readHit` of entry, epoch and versions; anything but a fresh,
 * current hit falls back to the full lookup. Two caches stand in for two processes, so the
 * writer's invalidations are invisible to the reader's hints: the case where a hint is wrong.
 */
export function describePlainHit(name: string, prefix: string, stores: () => Promise<PlainHitStores>): void {
  const tags = [`${prefix}-users`, `${prefix}-user:1`]
  const unique = () => `${prefix}-${crypto.randomBytes(5).toString('hex')}`

  describe(`plain hit read on ${name}`, () => {
    let reader: Cache
    let writer: Cache
    let plainReads = 0

    beforeAll(async () => {
      const namespace = unique()
      const made = await stores()
      const readHit = made.reader.readHit.bind(made.reader)
      made.reader.readHit = (entryKey, keys) => {
        plainReads++
        return readHit(entryKey, keys)
      }
      reader = createCache({ namespace, bus: false, l1: false, store: made.reader })
      writer = createCache({ namespace, bus: false, l1: false, store: made.writer })
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
      await writer.invalidateTags([tags[1]!])
      const before = plainReads
      const read = await reader.wrapWithInfo(key, async () => db, { tags })
      expect(read.value).toBe('new')
      expect(read.info.source).toBe('miss')
      expect(plainReads).toBe(before + 1) // tried plainly, judged dead, then the full lookup
      expect(await reader.wrap(key, async () => 'never', { tags })).toBe('new')
    })
  })
}
