import type { DataSource } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { countQueries, type Harness, openHarness, param, type Seeded, seed, wipe } from './support/harness.js'
import { InstrumentedStore } from './support/stores.js'

/** Every read the write tests keep cached; `cache: false` gives the database's answer. */
function reads(h: Harness, s: Seeded, cache: boolean) {
  const { User, Post, Tag, Category, Membership } = h.e
  const ds = h.ds
  return Promise.all([
    ds.getRepository(User).findOne({ where: { id: s.alice.id }, cache }),
    ds.getRepository(User).findOne({ where: { id: s.bob.id }, cache }),
    ds.getRepository(User).find({ order: { id: 'ASC' }, cache }),
    ds.getRepository(User).find({ order: { id: 'ASC' }, withDeleted: true, cache }),
    ds
      .getRepository(Post)
      .find({ relations: { author: true, tags: true }, order: { id: 'ASC', tags: { id: 'ASC' } }, cache }),
    ds.createQueryBuilder(Post, 'p').where('p.id = :id', { id: s.p1.id }).cache(cache).getOne(),
    ds.createQueryBuilder(Post, 'p').where('p.id = :id', { id: s.p3.id }).cache(cache).getOne(),
    ds.getRepository(Tag).find({ order: { id: 'ASC' }, cache }),
    ds.getRepository(Tag).count({ cache }),
    ds.getRepository(Category).find({ order: { id: 'ASC' }, cache }),
    ds.getRepository(Membership).findOne({ where: { userId: s.alice.id, groupCode: 'admins' }, cache }),
    ds.getRepository(Membership).find({ order: { userId: 'ASC' }, cache }),
    ds.getRepository(User).findOne({ where: { id: 999_999 }, cache }),
  ])
}

interface WriteCase {
  name: string
  prepare?: (h: Harness, s: Seeded) => Promise<unknown>
  write: (h: Harness, s: Seeded) => Promise<unknown>
}

const reload = (h: Harness, id: number) =>
  h.ds.getRepository(h.e.User).findOne({ where: { id }, withDeleted: true, cache: false })

const unparseable: Record<string, (ds: DataSource, id: number) => Promise<unknown>> = {
  postgres: (ds, id) =>
    ds.query(`DO $$ BEGIN UPDATE app_users SET name = 'from-do' WHERE id = ${id}; END $$`),
  mysql: async (ds, id) => {
    await ds.query('DROP PROCEDURE IF EXISTS ormcache_rename')
    await ds.query(
      `CREATE PROCEDURE ormcache_rename() UPDATE app_users SET name = 'from-call' WHERE id = ${id}`,
    )
    await ds.query('CALL ormcache_rename()')
  },
  sqlite: async (ds, id) => {
    await ds.query(
      `CREATE TRIGGER IF NOT EXISTS ormcache_rename AFTER INSERT ON app_categories BEGIN UPDATE app_users SET name = 'from-trigger' WHERE id = ${id}; END`,
    )
    await ds.query(`INSERT INTO app_categories(name) VALUES ('fires-trigger')`)
    await ds.query('DROP TRIGGER ormcache_rename')
  },
}

const CASES: WriteCase[] = [
  { name: 'save (insert)', write: (h) => h.ds.getRepository(h.e.User).save({ name: 'dave' }) },
  {
    name: 'save (update)',
    write: async (h, s) => {
      const alice = (await reload(h, s.alice.id))!
      alice.name = 'alice-saved'
      await h.ds.getRepository(h.e.User).save(alice)
    },
  },
  {
    name: 'save without transaction',
    write: async (h, s) => {
      const alice = (await reload(h, s.alice.id))!
      alice.name = 'alice-nt'
      await h.ds.getRepository(h.e.User).save(alice, { transaction: false })
    },
  },
  { name: 'insert one', write: (h) => h.ds.getRepository(h.e.User).insert({ name: 'eve' }) },
  {
    name: 'insert many',
    write: (h) => h.ds.getRepository(h.e.Tag).insert([{ label: 'g1' }, { label: 'g2' }]),
  },
  {
    name: 'insert with explicit key',
    write: (h) => h.ds.getRepository(h.e.User).insert({ id: 999_999, name: 'explicit' }),
  },
  { name: 'update by id', write: (h, s) => h.ds.getRepository(h.e.User).update(s.bob.id, { name: 'bobby' }) },
  {
    name: 'update by criteria',
    write: (h) => h.ds.getRepository(h.e.User).update({ name: 'alice' }, { name: 'al' }),
  },
  {
    name: 'delete by id (cascades to posts and junction)',
    write: (h, s) => h.ds.getRepository(h.e.User).delete(s.alice.id),
  },
  {
    name: 'delete by criteria (junction cascade)',
    write: (h) => h.ds.getRepository(h.e.Tag).delete({ label: 'blue' }),
  },
  {
    name: 'delete category (SET NULL cascade)',
    write: (h, s) => h.ds.getRepository(h.e.Category).delete(s.news.id),
  },
  { name: 'softDelete', write: (h, s) => h.ds.getRepository(h.e.User).softDelete(s.bob.id) },
  {
    name: 'restore',
    prepare: (h, s) => h.ds.getRepository(h.e.User).softDelete(s.bob.id),
    write: (h, s) => h.ds.getRepository(h.e.User).restore(s.bob.id),
  },
  {
    name: 'softRemove',
    write: async (h, s) => h.ds.getRepository(h.e.User).softRemove((await reload(h, s.bob.id))!),
  },
  {
    name: 'recover',
    prepare: async (h, s) => h.ds.getRepository(h.e.User).softRemove((await reload(h, s.bob.id))!),
    write: async (h, s) => h.ds.getRepository(h.e.User).recover((await reload(h, s.bob.id))!),
  },
  {
    name: 'remove (with its junction rows)',
    write: async (h, s) =>
      h.ds
        .getRepository(h.e.Post)
        .remove(
          (await h.ds
            .getRepository(h.e.Post)
            .findOne({ where: { id: s.p1.id }, relations: { tags: true }, cache: false }))!,
        ),
  },
  {
    name: 'upsert',
    write: (h, s) => h.ds.getRepository(h.e.Tag).upsert({ id: s.red.id, label: 'crimson' }, ['id']),
  },
  { name: 'increment', write: (h, s) => h.ds.getRepository(h.e.Post).increment({ id: s.p1.id }, 'likes', 5) },
  {
    name: 'save many-to-many change',
    write: async (h, s) => {
      const posts = h.ds.getRepository(h.e.Post)
      const post = (await posts.findOne({ where: { id: s.p1.id }, relations: { tags: true }, cache: false }))!
      post.tags = [s.blue]
      await posts.save(post)
    },
  },
  {
    name: 'QueryBuilder insert',
    write: (h) => h.ds.createQueryBuilder().insert().into(h.e.Tag).values({ label: 'qb' }).execute(),
  },
  {
    name: 'QueryBuilder update',
    write: (h, s) =>
      h.ds
        .createQueryBuilder()
        .update(h.e.User)
        .set({ name: 'qb' })
        .where('id = :id', { id: s.alice.id })
        .execute(),
  },
  {
    name: 'QueryBuilder update with raw expression',
    write: (h) =>
      h.ds
        .createQueryBuilder()
        .update(h.e.Post)
        .set({ likes: () => 'likes + 1' })
        .where('title LIKE :t', { t: 'h%' })
        .execute(),
  },
  {
    name: 'QueryBuilder delete',
    write: (h, s) =>
      h.ds.createQueryBuilder().delete().from(h.e.Post).where('id = :id', { id: s.p3.id }).execute(),
  },
  {
    name: 'QueryBuilder softDelete',
    write: (h, s) =>
      h.ds.createQueryBuilder().softDelete().from(h.e.User).where('id = :id', { id: s.bob.id }).execute(),
  },
  {
    name: 'QueryBuilder restore',
    prepare: (h, s) => h.ds.getRepository(h.e.User).softDelete(s.bob.id),
    write: (h, s) =>
      h.ds.createQueryBuilder().restore().from(h.e.User).where('id = :id', { id: s.bob.id }).execute(),
  },
  {
    name: 'raw dataSource.query',
    write: (h, s) =>
      h.ds.query(`UPDATE app_users SET name = ${param(h, 1)} WHERE id = ${param(h, 2)}`, ['raw', s.alice.id]),
  },
  {
    name: 'raw manager.query',
    write: (h, s) =>
      h.ds.manager.query(
        `DELETE FROM app_post_tags WHERE ${h.dialect === 'mysql' ? '`appPostsId`' : '"appPostsId"'} = ${s.p1.id}`,
      ),
  },
  {
    name: 'raw queryRunner.query',
    write: async (h, s) => {
      const runner = h.ds.createQueryRunner()
      try {
        await runner.query(`UPDATE app_posts SET title = 'qr' WHERE id = ${s.p2.id}`)
      } finally {
        await runner.release()
      }
    },
  },
  {
    name: 'unparseable raw SQL (namespace-wide)',
    write: (h, s) => unparseable[h.dialect]!(h.ds, s.alice.id),
  },
  {
    name: 'composite key update',
    write: (h, s) =>
      h.ds
        .getRepository(h.e.Membership)
        .update({ userId: s.alice.id, groupCode: 'admins' }, { role: 'admin' }),
  },
  {
    name: 'composite key remove',
    write: async (h, s) => {
      const repo = h.ds.getRepository(h.e.Membership)
      await repo.remove(
        (await repo.findOne({ where: { userId: s.alice.id, groupCode: 'admins' }, cache: false }))!,
      )
    },
  },
  {
    name: 'transaction with several writes',
    write: (h, s) =>
      h.ds.transaction(async (em) => {
        await em.update(h.e.User, s.alice.id, { name: 'tx' })
        await em.delete(h.e.Post, s.p3.id)
      }),
  },
]

describe.each(DIALECTS)('writes on %s', (dialect) => {
  let h: Harness
  let store: InstrumentedStore
  beforeAll(async () => {
    store = new InstrumentedStore()
    h = await openHarness(dialect, { cache: { store }, adapter: { alwaysEnabled: true } })
  })
  afterAll(() => h?.close())

  async function fresh(): Promise<Seeded> {
    await wipe(h)
    return seed(h)
  }

  it.each(CASES)('$name leaves no stale cached read', async ({ prepare, write }) => {
    const s = await fresh()
    await prepare?.(h, s)
    const before = await reads(h, s, false)
    await reads(h, s, true)
    expect(await countQueries(h, () => reads(h, s, true))).toBe(0) // all cached
    await write(h, s)
    const direct = await reads(h, s, false)
    expect(direct).not.toEqual(before) // the write changed something a cached read returned
    expect(await reads(h, s, true)).toEqual(direct)
    expect(h.errors).toEqual([])
  })

  it('updates by primary key invalidate only that row’s lookups', async () => {
    const s = await fresh()
    const users = h.ds.getRepository(h.e.User)
    await users.findOneBy({ id: s.alice.id })
    await users.findOneBy({ id: s.bob.id })
    await users.update(s.bob.id, { name: 'bobby' })
    expect(await countQueries(h, () => users.findOneBy({ id: s.alice.id }))).toBe(0)
    expect((await users.findOneBy({ id: s.bob.id }))?.name).toBe('bobby')
    const bob = (await users.findOneBy({ id: s.bob.id }))!
    bob.name = 'robert'
    await users.save(bob)
    expect(await countQueries(h, () => users.findOneBy({ id: s.alice.id }))).toBe(0)
    expect((await users.findOneBy({ id: s.bob.id }))?.name).toBe('robert')
  })

  it('names generated keys of single-row inserts exactly (no bulk invalidation)', async () => {
    await fresh()
    const invalidated: string[] = []
    const off = h.cache.on('invalidate', (event) => invalidated.push(...event.tags))
    const dave = await h.ds.getRepository(h.e.User).save({ name: 'dave' })
    const [, erin] = [undefined, await h.ds.getRepository(h.e.User).insert({ name: 'erin' })]
    off()
    expect(invalidated).toContain(`r:app_users:${dave.id}`)
    expect(invalidated).toContain(`r:app_users:${erin.identifiers[0]!.id}`)
    expect(invalidated).not.toContain('b:app_users')
  })

  it('bulk writes invalidate primary-key lookups of the table', async () => {
    const s = await fresh()
    const users = h.ds.getRepository(h.e.User)
    await users.findOneBy({ id: s.alice.id })
    await users.update({ name: 'alice' }, { name: 'renamed' })
    expect((await users.findOneBy({ id: s.alice.id }))?.name).toBe('renamed')
  })

  it('a failing cache store never fails a write; the fault is an error event', async () => {
    const s = await fresh()
    const users = h.ds.getRepository(h.e.User)
    await users.findOneBy({ id: s.alice.id })
    const errorsBefore = h.errors.length
    store.failing = true
    try {
      await users.update(s.alice.id, { name: 'while-down' })
      await h.ds.transaction((em) => em.update(h.e.User, s.bob.id, { name: 'tx-while-down' }))
      // Reads go to the database while the store is down or an invalidation is pending.
      expect((await users.findOneBy({ id: s.alice.id }))?.name).toBe('while-down')
    } finally {
      store.failing = false
    }
    expect(h.errors.length).toBeGreaterThan(errorsBefore)
    expect((await users.findOneBy({ id: s.alice.id }))?.name).toBe('while-down')
    expect((await users.findOneBy({ id: s.bob.id }))?.name).toBe('tx-while-down')
    h.errors.length = 0
  })
})
