import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { bulkTag, rowTag, rowWriteTags } from '../src/exports/adapter.js'
import { type Cache, createCache, memoryStore } from '../src/exports/index.js'
import { redisStore } from '../src/exports/redis.js'
import type { CacheStore } from '../src/store/types.js'
import { localBus } from '../src/tiers/bus.js'
import { countRedis, RoundTrips } from './support/round-trips.js'
import { connectRedis } from './support/services.js'

/**
 * A write-through of a row this process saw recently takes the versions it saw as its snapshot
 * instead of reading them before the write (write-through/seen-versions.ts, docs/design.md
 * "Remembered write snapshots"). Such a version may be older than the store's: these races show
 * that the guard then refuses the fill, so the database's newest row is what the next read gets.
 */
const row = rowTag('users', { id: 1 })
const lookupTags = [row, bulkTag('users')]
const writeTags = rowWriteTags('users', { id: 1 })

const backends: [string, () => Promise<{ store: () => CacheStore; close: () => void }>][] = [
  [
    'memory',
    async () => {
      const store = memoryStore()
      return { store: () => store, close: () => {} }
    },
  ],
  [
    'redis',
    async () => {
      const client = await connectRedis()
      return { store: () => redisStore({ client }), close: () => client.disconnect() }
    },
  ],
]

describe.each(backends)('remembered write snapshots (%s)', (_name, open) => {
  async function twoProcesses() {
    const backend = await open()
    const namespace = `seen-${Math.random().toString(36).slice(2)}`
    const make = () => createCache({ store: backend.store(), namespace, bus: false, l1: false })
    const a = make()
    const b = make()
    const db = { value: 'v0' }
    const read = (cache: Cache) => cache.wrapWithInfo('users:1', async () => db.value, { tags: lookupTags })
    const write = async (cache: Cache, value: string) => {
      const intent = await cache.beginWrite(lookupTags)
      return {
        commitDb: () => {
          db.value = value
        },
        bump: () => intent.commit({ invalidate: writeTags, fill: { key: 'users:1', value } }),
      }
    }
    const close = async () => {
      await a.close()
      await b.close()
      backend.close()
    }
    return { a, b, db, read, write, close }
  }

  it('another process wrote since this one read: the fill is refused and the newer row is read', async () => {
    const { a, b, db, read, write, close } = await twoProcesses()
    try {
      await read(a) // A sees the row's versions
      const wb = await write(b, 'b')
      wb.commitDb()
      expect(await wb.bump()).toBe('filled')
      const wa = await write(a, 'a') // from what A saw: versions B has moved since
      wa.commitDb() // A commits after B
      expect(await wa.bump()).toBe('skipped')
      expect(db.value).toBe('a')
      expect((await read(b)).value).toBe('a')
      expect((await read(a)).value).toBe('a')
    } finally {
      await close()
    }
  })

  for (const order of ['the older writer bumps last', 'the older writer bumps first'] as const) {
    it(`two writers, one from a remembered snapshot, the other committing later (${order}): the newer row wins`, async () => {
      const { a, b, db, read, write, close } = await twoProcesses()
      try {
        await read(a)
        const wa = await write(a, 'a') // remembered snapshot, no store read
        wa.commitDb()
        const wb = await write(b, 'b') // reads the same versions from the store
        wb.commitDb() // B commits after A: 'b' is the database's row
        if (order === 'the older writer bumps last') {
          await wb.bump()
          await wa.bump()
        } else {
          await wa.bump()
          await wb.bump()
        }
        expect(db.value).toBe('b')
        expect((await read(a)).value).toBe('b')
        expect((await read(b)).value).toBe('b')
      } finally {
        await close()
      }
    })
  }

  it('a write after a clear does not use versions seen before it', async () => {
    const { a, read, write, close } = await twoProcesses()
    try {
      await read(a)
      await a.clear()
      const wa = await write(a, 'a')
      wa.commitDb()
      expect(await wa.bump()).toBe('filled')
      expect(await read(a)).toMatchObject({ value: 'a', info: { source: 'hit' } })
    } finally {
      await close()
    }
  })
})

describe('remembered write snapshots: round trips (Redis)', () => {
  it('a write of a row just read sends only the bump; one never seen reads its versions first', async () => {
    const counter = new RoundTrips()
    const client = await connectRedis()
    countRedis(client, counter)
    const cache = createCache({
      store: redisStore({ client }),
      namespace: `seen-rt-${Math.random().toString(36).slice(2)}`,
      bus: false,
      l1: false,
    })
    try {
      const tags = (id: number) => [rowTag('users', { id }), bulkTag('users')]
      const writeOf = (id: number, value: string) =>
        counter.during(async () => {
          const intent = await cache.beginWrite(tags(id))
          await intent.commit({
            invalidate: rowWriteTags('users', { id }),
            fill: { key: `users:${id}`, value },
          })
        })
      await cache.wrap('users:1', async () => 'v0', { tags: tags(1) })
      await cache.wrap('users:2', async () => 'v0', { tags: tags(2) })
      expect((await writeOf(1, 'v1')).commands).toEqual(['evalsha'])
      // A list's read (more tags than a row's lookup) is not remembered.
      const many = Array.from({ length: 9 }, (_, i) => rowTag('users', { id: 100 + i }))
      await cache.wrap('users:list', async () => [], { tags: many })
      const unseen = [rowTag('users', { id: 100 }), bulkTag('users')]
      const { commands } = await counter.during(async () => {
        const intent = await cache.beginWrite(unseen)
        await intent.commit({
          invalidate: rowWriteTags('users', { id: 100 }),
          fill: { key: 'users:100', value: 'x' },
        })
      })
      expect(commands).toEqual(['evalsha', 'evalsha'])
      expect(await cache.wrap('users:1', async () => 'never', { tags: tags(1) })).toBe('v1')
    } finally {
      await cache.close()
      client.disconnect()
    }
  })

  it("another process's clear, heard on the bus, makes the next write read its versions again", async () => {
    const counter = new RoundTrips()
    const clientA = await connectRedis()
    const clientB = await connectRedis()
    countRedis(clientA, counter)
    const bus = localBus()
    const namespace = `seen-bus-${Math.random().toString(36).slice(2)}`
    const make = (client: typeof clientA) =>
      createCache({ store: redisStore({ client }), namespace, bus, l1: {} })
    const a = make(clientA)
    const b = make(clientB)
    try {
      await a.wrap('users:1', async () => 'v0', { tags: lookupTags })
      await b.clear()
      await sleep(1) // bus delivery
      const { commands } = await counter.during(async () => {
        const intent = await a.beginWrite(lookupTags)
        await intent.commit({ invalidate: writeTags, fill: { key: 'users:1', value: 'v1' } })
      })
      expect(commands).toEqual(['evalsha', 'evalsha'])
      expect(await b.wrap('users:1', async () => 'never', { tags: lookupTags })).toBe('v1')
    } finally {
      await a.close()
      await b.close()
      clientA.disconnect()
      clientB.disconnect()
    }
  })
})
