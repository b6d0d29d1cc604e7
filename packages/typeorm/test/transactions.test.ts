import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { countQueries, type Harness, openHarness, type Seeded, seed, wipe } from './support/harness.js'
import { QueryProbe } from './support/probes.js'

describe.each(DIALECTS)('transactions on %s', (dialect) => {
  let h: Harness
  const invalidated: string[][] = []
  const probe = new QueryProbe()
  beforeAll(async () => {
    h = await openHarness(dialect, { adapter: { alwaysEnabled: true }, subscribers: [probe.subscriber()] })
    h.cache.on('invalidate', (event) => invalidated.push([...event.tags, ...(event.everything ? ['*'] : [])]))
  })
  afterAll(() => h?.close())

  async function fresh(): Promise<Seeded> {
    await wipe(h)
    const s = await seed(h)
    invalidated.length = 0
    return s
  }
  const name = (id: number) =>
    h.ds
      .getRepository(h.e.User)
      .findOneBy({ id })
      .then((u) => u?.name)
  const flat = () => invalidated.flat()

  it('applies invalidations at the outermost commit, before the transaction resolves', async () => {
    const s = await fresh()
    expect(await name(s.alice.id)).toBe('alice')
    await h.ds.transaction(async (em) => {
      await em.update(h.e.User, s.alice.id, { name: 'committed' })
      await em.getRepository(h.e.Post).update({ authorId: s.alice.id }, { likes: 3 })
      // Nothing reached the store yet: other connections still see (and may cache) the old row.
      // SQLite has one connection, shared by every QueryRunner: "outside" reads are inside.
      expect(flat()).toEqual([])
      expect(await name(s.alice.id)).toBe(dialect === 'sqlite' ? 'committed' : 'alice')
    })
    expect(flat()).toEqual(
      expect.arrayContaining([`r:app_users:${s.alice.id}`, 't:app_posts', 'b:app_posts']),
    )
    expect(invalidated).toHaveLength(1) // one batch at commit
    expect(await name(s.alice.id)).toBe('committed')
  })

  it('a rollback leaves no trace in the cache', async () => {
    const s = await fresh()
    expect(await name(s.alice.id)).toBe('alice')
    await expect(
      h.ds.transaction(async (em) => {
        await em.update(h.e.User, s.alice.id, { name: 'rolled-back' })
        expect((await em.findOneBy(h.e.User, { id: s.alice.id }))?.name).toBe('rolled-back')
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect(flat()).toEqual([])
    expect(await countQueries(h, () => name(s.alice.id))).toBe(0)
    expect(await name(s.alice.id)).toBe('alice')
  })

  it('rolling back to a savepoint drops only what the savepoint wrote', async () => {
    const s = await fresh()
    await name(s.alice.id)
    await name(s.bob.id)
    await h.ds.transaction(async (em) => {
      await em.update(h.e.User, s.alice.id, { name: 'outer' })
      await expect(
        em.transaction(async (inner) => {
          await inner.update(h.e.User, s.bob.id, { name: 'inner' })
          throw new Error('inner abort')
        }),
      ).rejects.toThrow('inner abort')
      await em.transaction(async (inner) => {
        await inner.update(h.e.Tag, s.red.id, { label: 'released' })
      })
      // A released savepoint fires afterTransactionCommit too: nothing may be applied yet.
      expect(flat()).toEqual([])
    })
    expect(flat()).toContain(`r:app_users:${s.alice.id}`)
    expect(flat()).toContain(`r:app_tags:${s.red.id}`)
    expect(flat()).not.toContain(`r:app_users:${s.bob.id}`)
    expect(await name(s.alice.id)).toBe('outer')
    expect(await countQueries(h, () => name(s.bob.id))).toBe(0) // still cached, and still right:
    expect(await name(s.bob.id)).toBe('bob')
    expect((await h.ds.getRepository(h.e.Tag).findOneBy({ id: s.red.id }))?.label).toBe('released')
  })

  it('a query runner with manual transactions behaves the same', async () => {
    const s = await fresh()
    await name(s.alice.id)
    const runner = h.ds.createQueryRunner()
    try {
      await runner.startTransaction()
      await runner.manager.update(h.e.User, s.alice.id, { name: 'manual' })
      await runner.startTransaction() // savepoint
      await runner.query(`UPDATE app_users SET name = 'sp' WHERE id = ${s.bob.id}`)
      await runner.rollbackTransaction() // to the savepoint
      expect(flat()).toEqual([])
      await runner.commitTransaction()
    } finally {
      await runner.release()
    }
    expect(flat()).toContain(`r:app_users:${s.alice.id}`)
    expect(flat()).not.toContain('b:app_users')
    expect(await name(s.alice.id)).toBe('manual')
    expect(await name(s.bob.id)).toBe('bob')
  })

  it('reads inside a transaction see its own writes and never fill the cache', async () => {
    const s = await fresh()
    await h.ds.transaction(async (em) => {
      await em.update(h.e.User, s.bob.id, { name: 'uncommitted' })
      expect((await em.findOneBy(h.e.User, { id: s.bob.id }))?.name).toBe('uncommitted')
      // A concurrent reader outside the transaction neither sees nor caches it.
      expect(await name(s.bob.id)).toBe(dialect === 'sqlite' ? 'uncommitted' : 'bob')
    })
    expect(await name(s.bob.id)).toBe('uncommitted')
  })

  it('never caches rows of a transaction that then rolls back, even on a shared connection', async () => {
    const s = await fresh()
    await expect(
      h.ds.transaction(async (em) => {
        await em.update(h.e.User, s.bob.id, { name: 'ghost' })
        // On SQLite this read shares the transaction's connection and sees "ghost": it must bypass.
        await h.ds.getRepository(h.e.User).findOneBy({ id: s.bob.id })
        await h.ds.getRepository(h.e.User).find()
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect(await name(s.bob.id)).toBe('bob')
    expect((await h.ds.getRepository(h.e.User).find()).map((u) => u.name)).not.toContain('ghost')
  })

  it('invalidates anyway when COMMIT fails and the outcome is unknown', async () => {
    const s = await fresh()
    probe.failNext = /^COMMIT/
    await expect(
      h.ds.transaction((em) => em.update(h.e.User, s.alice.id, { name: 'in-doubt' })),
    ).rejects.toThrow('injected query failure')
    expect(flat()).toContain(`r:app_users:${s.alice.id}`)
    const direct = await h.ds.getRepository(h.e.User).findOne({ where: { id: s.alice.id }, cache: false })
    expect(await name(s.alice.id)).toBe(direct?.name)
  })
})
