import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { primaryKeyLookup } from '../src/write-through/lookup.js'
import { DIALECTS } from './support/databases.js'
import { countQueries, type Harness, openHarness, param, type Seeded, seed, wipe } from './support/harness.js'
import { gate, InstrumentedStore } from './support/stores.js'

/** Holds the next compare-and-set (write-through's guarded bump of the row tag) until released. */
class HeldStore extends InstrumentedStore {
  holdNextCas: { reached: () => void; until: Promise<void> } | undefined
  override async compareAndSet(key: string, expected: string, value: string, ttlMs?: number) {
    const hold = this.holdNextCas
    if (hold !== undefined) {
      this.holdNextCas = undefined
      hold.reached()
      await hold.until
    }
    return super.compareAndSet(key, expected, value, ttlMs)
  }
}

/**
 * Write-through of single-row updates by primary key (docs/design.md §4): on PostgreSQL the next
 * `findOneBy({ id })` is a hit holding exactly what the database returns; SQLite and MySQL have
 * no usable `UPDATE … RETURNING` through TypeORM, so there the next lookup reads the database.
 */
describe.each(DIALECTS)('write-through on %s', (dialect) => {
  let h: Harness
  let store: HeldStore
  const fills = dialect === 'postgres'
  beforeAll(async () => {
    store = new HeldStore()
    h = await openHarness(dialect, { cache: { store }, adapter: { alwaysEnabled: true } })
  })
  afterAll(() => h?.close())

  async function fresh(): Promise<Seeded> {
    await wipe(h)
    const s = await seed(h)
    await h.cache.clear()
    return s
  }
  const users = () => h.ds.getRepository(h.e.User)
  const cached = (id: number) => users().findOneBy({ id })
  const uncached = (id: number) => users().findOne({ where: { id }, cache: false })

  /** The lookup after a write: its cost in statements, and that it equals the database's row. */
  async function lookupAfterWrite(id: number): Promise<number> {
    let row: unknown
    const cost = await countQueries(h, async () => {
      row = await cached(id)
    })
    expect(row).toEqual(await uncached(id))
    return cost
  }

  it.each([
    ['repository.update', (s: Seeded) => users().update(s.alice.id, { name: 'after', balance: '7.25' })],
    [
      'a QueryBuilder update with an expression and RETURNING',
      (s: Seeded) => {
        const update = h.ds
          .createQueryBuilder()
          .update(h.e.User)
          .set({ visits: () => 'visits + 1', name: 'after' })
          .where('id = :id', { id: s.alice.id })
        return (dialect === 'postgres' ? update.returning(['name']) : update).execute()
      },
    ],
    [
      'raw SQL',
      (s: Seeded) =>
        h.ds.query(`UPDATE app_users SET name = ${param(h, 1)} WHERE id = ${param(h, 2)}`, [
          'after',
          s.alice.id,
        ]),
    ],
  ])('%s by primary key: the next lookup is a hit where RETURNING exists, and fresh', async (_, write) => {
    const s = await fresh()
    expect((await cached(s.alice.id))?.name).toBe('alice')
    await write(s)
    expect(await lookupAfterWrite(s.alice.id)).toBe(fills ? 0 : 1)
    expect((await cached(s.alice.id))?.name).toBe('after')
    expect(h.errors).toEqual([])
  })

  it('names the values the row kept from its RETURNING, where the write-through widened it', async () => {
    const s = await fresh()
    const bumped: string[] = []
    const off = h.cache.on('invalidate', (event) => bumped.push(...event.tags))
    try {
      await users().update(s.alice.id, { name: 'kept' })
    } finally {
      off()
    }
    if (fills) {
      // Lists on member tags (docs/design.md, "Lists without row tags") keep their place.
      expect(bumped).toContain(`m:app_users:id=${s.alice.id}`)
      expect(bumped).not.toContain('u:app_users')
    } else {
      expect(bumped).toContain('u:app_users')
      expect(bumped.filter((tag) => tag.startsWith('m:'))).toEqual([])
    }
  })

  it('returns to TypeORM exactly what the UPDATE asked for (the added columns are removed)', async () => {
    const s = await fresh()
    const plain = await users().update(s.alice.id, { name: 'after' })
    expect(plain.affected).toBe(1)
    if (dialect === 'postgres') {
      expect(plain.raw).toEqual([])
      const returning = await h.ds
        .createQueryBuilder()
        .update(h.e.User)
        .set({ visits: () => 'visits + 1' })
        .where('id = :id', { id: s.alice.id })
        .returning(['visits'])
        .execute()
      expect(returning.raw).toEqual([{ visits: '9007199254740994' }])
      expect(await h.ds.query('UPDATE app_users SET name = $1 WHERE id = $2', ['raw', s.alice.id])).toEqual([
        [],
        1,
      ])
    }
  })

  it('builds the lookup once per entity and key type, with the text and parameters TypeORM builds', async () => {
    const metadata = h.ds.getMetadata(h.e.User)
    const typeormBuild = (value: unknown) =>
      h.ds
        .createQueryBuilder(metadata.target, metadata.name)
        .setFindOptions({ where: { id: value }, take: 1 })
    const builds = vi.spyOn(h.ds, 'createQueryBuilder')
    try {
      primaryKeyLookup(h.ds, metadata, 1, dialect)
      primaryKeyLookup(h.ds, metadata, '1', dialect)
      primaryKeyLookup(h.ds, metadata, 1n, dialect)
      const before = builds.mock.calls.length
      let inlined = 0
      for (const value of [2, 77, '9007199254740993', 12n]) {
        const lookup = primaryKeyLookup(h.ds, metadata, value, dialect)
        const [sql, parameters] = typeormBuild(value).getQueryAndParameters()
        // SQLite's driver inlines the key into the text: no lookup to memoize (nor to fill).
        if (parameters.length === 1) expect(lookup).toMatchObject({ sql, parameters: [value] })
        else {
          expect(lookup).toBeUndefined()
          inlined += 1
        }
      }
      // Memoized where the key is bound: besides the comparisons, only inlined keys were built.
      if (fills) expect(inlined).toBe(0)
      expect(builds.mock.calls.length - before).toBe(4 + inlined)
      // A value TypeORM does not bind as is (null: IS NULL) is built on its own, never from the memo.
      expect(primaryKeyLookup(h.ds, metadata, null, dialect)).toBeUndefined()
    } finally {
      builds.mockRestore()
    }
  })

  it('one SQL text, many rows: each write fills its own row (the text part is shared, the row is not)', async () => {
    const s = await fresh()
    const write = (id: number, name: string) => users().update(id, { name })
    for (const [id, name] of [
      [s.alice.id, 'a1'],
      [s.bob.id, 'b1'],
      [s.alice.id, 'a2'],
      [s.bob.id, 'b2'],
    ] as const) {
      await write(id, name)
      expect(await lookupAfterWrite(id)).toBe(fills ? 0 : 1)
      expect((await cached(id))?.name).toBe(name)
    }
    expect((await cached(s.alice.id))?.name).toBe('a2')
    expect(h.errors).toEqual([])
  })

  it('other cached lookups survive the write (precision)', async () => {
    const s = await fresh()
    await cached(s.bob.id)
    await users().update(s.alice.id, { name: 'after' })
    expect(await countQueries(h, () => cached(s.bob.id))).toBe(0)
  })

  it('does not fill a soft-deleted row: findOneBy returns null, as the database does', async () => {
    const s = await fresh()
    await users().softDelete(s.alice.id)
    expect(await cached(s.alice.id)).toBeNull()
    await users().update(s.alice.id, { name: 'ghost' })
    expect(await lookupAfterWrite(s.alice.id)).toBe(1)
    expect(await cached(s.alice.id)).toBeNull()
  })

  it('does not fill inside a transaction, nor for lookups that join eager relations', async () => {
    const s = await fresh()
    await h.ds.transaction((em) => em.update(h.e.User, s.alice.id, { name: 'in-tx' }))
    expect(await lookupAfterWrite(s.alice.id)).toBe(1)
    const posts = h.ds.getRepository(h.e.Post)
    await posts.findOneBy({ id: s.p1.id })
    await posts.update(s.p1.id, { title: 'changed' })
    const cost = await countQueries(h, async () => {
      expect(await posts.findOneBy({ id: s.p1.id })).toEqual(
        await posts.findOne({ where: { id: s.p1.id }, cache: false }),
      )
    })
    expect(cost).toBeGreaterThan(0)
  })

  it.each(['ROLLBACK', 'COMMIT'])(
    'does not fill inside a transaction opened with raw BEGIN (then %s)',
    async (end) => {
      const s = await fresh()
      await cached(s.alice.id)
      const runner = h.ds.createQueryRunner()
      try {
        await runner.query('BEGIN')
        await runner.query(`UPDATE app_users SET name = ${param(h, 1)} WHERE id = ${param(h, 2)}`, [
          'uncommitted',
          s.alice.id,
        ])
        await runner.query(end)
      } finally {
        await runner.release()
      }
      expect(await lookupAfterWrite(s.alice.id)).toBe(1)
      expect((await cached(s.alice.id))?.name).toBe(end === 'COMMIT' ? 'uncommitted' : 'alice')
    },
  )

  it('a write that lands between the snapshot and the fill wins: never stale', async () => {
    const s = await fresh()
    await cached(s.alice.id)
    const reached = gate()
    const release = gate()
    store.holdNextCas = { reached: reached.open, until: release.promise }
    try {
      // The first writer takes its snapshot, updates, and is held before its guarded bump.
      const first = users().update(s.alice.id, { name: 'first' })
      const held = await Promise.race([reached.promise.then(() => true), first.then(() => false)])
      expect(held).toBe(fills)
      // A second writer updates the same row and finishes (its fill is stored).
      await users().update(s.alice.id, { name: 'second' })
      release.open()
      await first
    } finally {
      store.holdNextCas = undefined
      release.open()
    }
    // The first writer's guard failed: it stored nothing, and its bump killed the second fill too.
    expect(await lookupAfterWrite(s.alice.id)).toBe(1)
    expect((await cached(s.alice.id))?.name).toBe('second')
    expect(h.errors).toEqual([])
  })
})
