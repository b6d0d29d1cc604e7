import { describe, expect, it } from 'vitest'
import type { WriteEvent } from '../src/index.js'
import type { BaseClient, Harness } from './support/clients.js'
import { DIALECTS } from './support/databases.js'
import type { Fixture } from './support/fixtures.js'
import { seededSuite } from './support/seeded-suite.js'

describe.each(DIALECTS)('transactions on %s', (dialect) => {
  let h!: Harness
  let f!: Fixture
  const writes: WriteEvent[] = []

  const queries = <T>(run: () => Promise<T>) => h.probe.measure(run)
  const aliceName = async () => (await h.prisma.user.findUnique({ where: { id: f.alice } }))?.name
  const titles = async () => (await h.prisma.post.findMany({ orderBy: { id: 'asc' } })).map((p) => p.title)

  seededSuite(dialect, { onWrite: (event) => void writes.push(event) }, (state) => {
    ;({ h, f } = state)
    writes.length = 0
  })

  it('reads inside an interactive transaction bypass the shared cache (no hit, no fill)', async () => {
    await titles()
    const inside = await queries(() =>
      h.prisma.$transaction(async (tx) => {
        await tx.post.update({ where: { id: f.posts.draft }, data: { title: 'in tx' } })
        // Cached outside, but inside the transaction it must come from the database.
        const seen = (await tx.post.findMany({ orderBy: { id: 'asc' } })).map((p) => p.title)
        // Never cached: reading it inside the transaction must not store it.
        await tx.tag.findMany({ where: { name: 'news' } })
        return seen
      }),
    )
    expect(inside.value).toEqual(['Hello', 'in tx', 'Other'])
    expect(inside.count).toBeGreaterThanOrEqual(3)
    expect((await queries(() => h.prisma.tag.findMany({ where: { name: 'news' } }))).count).toBe(1)
    expect(await titles()).toEqual(['Hello', 'in tx', 'Other'])
  })

  it('applies invalidations after the commit and before $transaction resolves', async () => {
    await aliceName()
    let resolved = false
    const outsideDuring: { value: unknown; count: number }[] = []
    const done = h.prisma
      .$transaction(async (tx) => {
        await tx.user.update({ where: { id: f.alice }, data: { name: 'Committed' } })
        // Before the commit, nothing was invalidated: the old entry is still a hit.
        outsideDuring.push(await queries(aliceName))
        // A reader that misses now loads the pre-commit row and fills the cache with it.
        await h.cache.clear()
        outsideDuring.push(await queries(aliceName))
        return 'ok'
      })
      .then((value) => {
        resolved = true
        return value
      })
    expect(await done).toBe('ok')
    expect(outsideDuring).toEqual([
      { value: 'Alice', count: 0 },
      // better-sqlite3 runs every query on one connection: the outside read sees the
      // transaction's uncommitted row (the database's answer, not the cache's).
      { value: dialect === 'sqlite' ? 'Committed' : 'Alice', count: 1 },
    ])
    const commitEvent = writes.find((event) => event.transaction)
    expect(commitEvent?.tags).toContain('r:users:1')
    expect(resolved).toBe(true)
    // Right after $transaction resolved, no read returns pre-commit data.
    expect(await aliceName()).toBe('Committed')
  })

  // Dialect-specific: better-sqlite3 shares one connection, so rollback semantics differ (README).
  if (dialect === 'sqlite')
    it('a row read outside a rolled-back transaction on the shared SQLite connection is not left cached', async () => {
      await aliceName()
      await expect(
        h.prisma.$transaction(async (tx) => {
          await tx.user.update({ where: { id: f.alice }, data: { name: 'Dirty' } })
          await h.cache.clear()
          // The shared connection shows the uncommitted row; the reader caches it.
          expect(await aliceName()).toBe('Dirty')
          throw new Error('abort')
        }),
      ).rejects.toThrow('abort')
      expect(await aliceName()).toBe('Alice')
    })

  if (dialect === 'postgres')
    it('a rollback leaves the cache untouched', async () => {
      await aliceName()
      await titles()
      const before = h.cache.stats().invalidations
      await expect(
        h.prisma.$transaction(async (tx) => {
          await tx.user.update({ where: { id: f.alice }, data: { name: 'Nope' } })
          await tx.post.deleteMany()
          throw new Error('abort')
        }),
      ).rejects.toThrow('abort')
      expect(h.cache.stats().invalidations).toBe(before)
      expect(writes).toEqual([])
      expect(await queries(aliceName)).toEqual({ value: 'Alice', count: 0 })
      expect(await queries(titles)).toEqual({ value: ['Hello', 'Draft', 'Other'], count: 0 })
    })

  it('batch $transaction: invalidates after commit; a failing batch leaves the cache untouched', async () => {
    await titles()
    await aliceName()
    await h.prisma.$transaction([
      h.prisma.post.update({ where: { id: f.posts.draft }, data: { title: 'Draft 2' } }),
      h.prisma.user.update({ where: { id: f.alice }, data: { name: 'A.' } }),
    ])
    expect(await titles()).toEqual(['Hello', 'Draft 2', 'Other'])
    expect(await aliceName()).toBe('A.')

    const before = h.cache.stats().invalidations
    await expect(
      h.prisma.$transaction([
        h.prisma.post.update({ where: { id: f.posts.hello }, data: { title: 'rolled back' } }),
        h.prisma.user.create({ data: { email: 'alice@example.com' } }), // unique violation
      ]),
    ).rejects.toThrow()
    if (dialect === 'postgres') {
      expect(h.cache.stats().invalidations).toBe(before)
      expect(await queries(titles)).toEqual({ value: ['Hello', 'Draft 2', 'Other'], count: 0 })
    } else {
      // SQLite: invalidated anyway (see the shared-connection test); the data is still right.
      expect(await titles()).toEqual(['Hello', 'Draft 2', 'Other'])
    }
  })

  it('a cache hit inside a batch transaction never hangs the batch', async () => {
    await titles()
    await aliceName()
    const batch = await queries(() =>
      withTimeout(
        h.prisma.$transaction([
          h.prisma.post.findMany({ orderBy: { id: 'asc' } }),
          h.prisma.user.findUnique({ where: { id: f.alice } }),
          h.prisma.user.update({ where: { id: f.bob }, data: { name: 'B' } }),
        ]),
      ),
    )
    expect(batch.value[0].map((p) => p.title)).toEqual(['Hello', 'Draft', 'Other'])
    expect(batch.value[1]?.name).toBe('Alice')
    // The reads ran inside the batch against the database.
    expect(batch.count).toBeGreaterThanOrEqual(3)
    const readsOnly = await withTimeout(
      h.prisma.$transaction([h.prisma.post.findMany({ orderBy: { id: 'asc' } }), h.prisma.user.count()]),
    )
    expect(readsOnly[1]).toBe(3)
  })

  it('a failed nested transaction (savepoint) drops only its own invalidations', async () => {
    await aliceName()
    await h.prisma.setting.findUnique({ where: { key: 'theme' } })
    await h.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: f.alice }, data: { name: 'Outer' } })
      await tx
        .$transaction(async (inner) => {
          await inner.setting.update({ where: { key: 'theme' }, data: { value: 'inner' } })
          throw new Error('inner abort')
        })
        .catch(() => undefined)
    })
    const committed = writes.filter((event) => event.transaction).flatMap((event) => event.tags)
    expect(committed).toContain('r:users:1')
    expect(await aliceName()).toBe('Outer')
    const theme = await queries(() => h.prisma.setting.findUnique({ where: { key: 'theme' } }))
    expect(theme.value?.value).toBe('light')
    if (dialect === 'postgres') {
      expect(committed.some((tag) => tag.includes('settings'))).toBe(false)
      expect(theme.count).toBe(0)
    } else {
      // The shared SQLite connection exposed the savepoint's rows meanwhile: invalidated too.
      expect(committed).toContain('r:settings:theme')
    }
  })

  it('a committed nested transaction contributes its invalidations to the outer commit', async () => {
    await h.prisma.setting.findUnique({ where: { key: 'theme' } })
    await h.prisma.$transaction(async (tx) => {
      await tx.$transaction(async (inner) => {
        await inner.setting.update({ where: { key: 'theme' }, data: { value: 'nested' } })
      })
    })
    expect((await h.prisma.setting.findUnique({ where: { key: 'theme' } }))?.value).toBe('nested')
  })

  it('a batch on the transaction client runs inside it; its invalidations wait for the outer commit', async () => {
    await aliceName()
    await h.prisma.$transaction(async (tx) => {
      await tx.$transaction([tx.user.update({ where: { id: f.alice }, data: { name: 'Batched' } })])
      expect(writes).toEqual([])
      // Not yet committed: the cached row is still the committed one.
      expect(await queries(aliceName)).toEqual({ value: 'Alice', count: 0 })
    })
    expect(writes.map((w) => w.transaction)).toEqual([true])
    expect(await aliceName()).toBe('Batched')
  })

  it('a write outside the transaction, made inside its callback, invalidates immediately', async () => {
    await h.prisma.setting.findUnique({ where: { key: 'theme' } })
    await h.prisma.$transaction(async (tx) => {
      await tx.user.findFirst()
      await h.prisma.setting.update({ where: { key: 'theme' }, data: { value: 'now' } })
      expect((await h.prisma.setting.findUnique({ where: { key: 'theme' } }))?.value).toBe('now')
    })
  })

  it('writes in a batch run by a client without the extension still invalidate once they resolve', async () => {
    await aliceName()
    await (h.db as BaseClient).$transaction([
      h.prisma.user.update({ where: { id: f.alice }, data: { name: 'Via base' } }),
    ])
    expect(await aliceName()).toBe('Via base')
  })
})

function withTimeout<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms).unref()),
  ])
}
