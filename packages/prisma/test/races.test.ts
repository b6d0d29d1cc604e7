import { describe, expect, it } from 'vitest'
import type { WriteEvent } from '../src/index.js'
import type { Harness } from './support/clients.js'
import { DIALECTS } from './support/databases.js'
import type { Fixture } from './support/fixtures.js'
import { seededSuite } from './support/seeded-suite.js'

/** A SELECT on the users table (PostgreSQL and SQLite spellings). */
const SELECT_USERS = /^SELECT .*FROM ["`](public|main)["`]\.["`]users["`]/

describe.each(DIALECTS)('deterministic races on %s', (dialect) => {
  let h!: Harness
  let f!: Fixture
  /** When set, the next write pauses after its commit, before its invalidation. */
  let writerGate: { reached: () => void; opened: Promise<void> } | undefined

  seededSuite(
    dialect,
    {
      onWrite: async (_event: WriteEvent) => {
        const gate = writerGate
        writerGate = undefined
        if (gate === undefined) return
        gate.reached()
        await gate.opened
      },
    },
    (state) => {
      ;({ h, f } = state)
      writerGate = undefined
    },
  )

  /** Pauses the next write between its commit and its invalidation. */
  function pauseNextWriter(): { reached: Promise<void>; release: () => void } {
    let reached!: () => void
    let release!: () => void
    const reachedPromise = new Promise<void>((resolve) => {
      reached = resolve
    })
    const opened = new Promise<void>((resolve) => {
      release = resolve
    })
    writerGate = { reached, opened }
    return { reached: reachedPromise, release }
  }

  const aliceName = async () => (await h.prisma.user.findUnique({ where: { id: f.alice } }))?.name
  const names = async () => (await h.prisma.user.findMany({ orderBy: { id: 'asc' } })).map((u) => u.name)

  it('G1: a reader paused between its version snapshot and its fill cannot leave old data behind', async () => {
    const paused = h.probe.pauseNext(SELECT_USERS, { after: true })
    const reader = aliceName()
    await paused.reached // snapshot taken and old row read; fill not yet done
    await h.prisma.user.update({ where: { id: f.alice }, data: { name: 'Newer' } })
    paused.release()
    // The slow reader started before the write: the old value is a legitimate answer for it…
    expect(await reader).toBe('Alice')
    // …but the entry it stored carries the pre-write versions and is never served.
    expect(await aliceName()).toBe('Newer')
    expect(await aliceName()).toBe('Newer')
  })

  it('G1 for list reads and bulk writes', async () => {
    const paused = h.probe.pauseNext(SELECT_USERS, { after: true })
    const reader = names()
    await paused.reached
    await h.prisma.user.updateMany({ data: { name: 'Same' } })
    paused.release()
    expect(await reader).toEqual(['Alice', 'Bob', 'Carol'])
    expect(await names()).toEqual(['Same', 'Same', 'Same'])
  })

  it('G1 when the writer is a transaction', async () => {
    const paused = h.probe.pauseNext(SELECT_USERS, { after: true })
    const reader = aliceName()
    await paused.reached
    await h.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: f.alice }, data: { name: 'From tx' } })
    })
    paused.release()
    await reader
    expect(await aliceName()).toBe('From tx')
  })

  it('G2: a writer paused between commit and invalidation; once it resolves no read is stale', async () => {
    expect(await aliceName()).toBe('Alice')
    await names()
    const paused = pauseNextWriter()
    // PrismaPromises are lazy: start the write now.
    const writer = Promise.resolve(
      h.prisma.user.update({ where: { id: f.alice }, data: { name: 'Committed' } }),
    )
    await paused.reached
    // Committed but not yet invalidated: the cache may still answer with the old row, as the
    // mutation has not resolved. A reader that misses sees the committed row.
    h.probe.reset()
    expect(await aliceName()).toBe('Alice')
    expect(h.probe.count).toBe(0)
    await h.cache.clear()
    expect(await names()).toEqual(['Committed', 'Bob', 'Carol'])
    paused.release()
    await writer
    expect(await aliceName()).toBe('Committed')
    expect(await names()).toEqual(['Committed', 'Bob', 'Carol'])
  })

  it('write-through never stores an older row over a newer concurrent write', async () => {
    await aliceName()
    const paused = pauseNextWriter()
    const first = Promise.resolve(h.prisma.user.update({ where: { id: f.alice }, data: { name: 'First' } }))
    await paused.reached // committed 'First', fill pending
    await h.prisma.user.update({ where: { id: f.alice }, data: { name: 'Second' } }) // commits and fills
    paused.release()
    await first
    expect(await aliceName()).toBe('Second')
    const row = await h.db.user.findUniqueOrThrow({ where: { id: f.alice } })
    expect(row.name).toBe('Second')
  })

  it('write-through fills the primary-key lookup so the next read is a fresh hit', async () => {
    await aliceName()
    await h.prisma.user.update({ where: { id: f.alice }, data: { name: 'Filled' } })
    h.probe.reset()
    expect(await aliceName()).toBe('Filled')
    expect(h.probe.count).toBe(0)
    // An upsert whose create branch makes a different key must not fill the looked-up key.
    await h.prisma.setting.upsert({
      where: { key: 'absent' },
      create: { key: 'other', value: 'v' },
      update: {},
    })
    expect(await h.prisma.setting.findUnique({ where: { key: 'absent' } })).toBeNull()
    expect((await h.prisma.setting.findUnique({ where: { key: 'other' } }))?.value).toBe('v')
  })
})
