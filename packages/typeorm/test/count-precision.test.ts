import { describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { countQueries, type Harness, param, type Seeded } from './support/harness.js'
import { QueryProbe } from './support/probes.js'
import { seededHarness } from './support/seeded-harness.js'
import { gate } from './support/stores.js'

/** Counts over pins (docs/design.md, "Counts: rows that leave a pin"). */
describe.each(DIALECTS)('precise counts on %s', (dialect) => {
  /** TypeORM 0.3 does not await afterQuery hooks on MySQL and SQLite (1.x and PostgreSQL do). */
  const writesAwaited = process.env.ORMCACHE_TYPEORM_VERSION !== '0.3' || dialect === 'postgres'
  let h: Harness
  let s: Seeded
  const probe = new QueryProbe()
  seededHarness(dialect, 'typeorm-counts', probe, (harness, seeded) => {
    h = harness
    s = seeded
  })

  const posts = () => h.ds.getRepository(h.e.Post)
  // Post has an eager to-one (category): TypeORM counts it as COUNT(DISTINCT(key)) over a LEFT JOIN.
  const counts: [string, (cache?: boolean) => Promise<number>][] = [
    ['count', (cache = true) => posts().count({ where: { authorId: s.alice.id }, cache })],
    [
      'QueryBuilder getCount',
      (cache = true) =>
        h.ds
          .createQueryBuilder(h.e.Post, 'p')
          .where('p.authorId IN (:...ids)', { ids: [s.alice.id] })
          .cache(cache)
          .getCount(),
    ],
  ]

  async function queriesAfter(read: () => Promise<unknown>, write: () => Promise<unknown>): Promise<number> {
    await read()
    expect(await countQueries(h, read), 'cached before the write').toBe(0)
    await write()
    return countQueries(h, read)
  }

  it('a pinned count depends on its pins and the column-left tag, not on the table tag', async () => {
    for (const [name, read] of counts) {
      await read()
      const tags = h.reads.at(-1)!.tags
      expect(tags, name).toContain(`v:app_posts:authorid=${s.alice.id}`)
      expect(tags, name).toContain('l:app_posts:authorid')
      expect(tags, name).not.toContain('t:app_posts')
    }
  })

  const unrelated: Record<string, () => Promise<unknown>> = {
    'update of a counted row that sets no pinned column': () => posts().update(s.p1.id, { likes: 5 }),
    'QueryBuilder update by key of another column': () =>
      h.ds
        .createQueryBuilder()
        .update(h.e.Post)
        .set({ title: 'qb' })
        .where('id = :id', { id: s.p3.id })
        .execute(),
    'raw SQL update by key of another column': () =>
      h.ds.query(`UPDATE app_posts SET likes = 4 WHERE id = ${param(h, 1)}`, [s.p3.id]),
    'insert for another author': () => posts().insert({ title: 'i', authorId: s.bob.id }),
    'save of a new post for another author': () =>
      posts().save(posts().create({ title: 'n', authorId: s.bob.id })),
  }

  describe.each(counts)('%s', (_name, read) => {
    it.each(Object.entries(unrelated))('%s leaves it cached (0 queries)', async (_n, write) => {
      expect(await queriesAfter(() => read(), write)).toBe(0)
      expect(await read()).toBe(await read(false))
    })

    const relevant: Record<string, () => Promise<unknown>> = {
      // The old value is unknown to these writes: the column-left tag carries the change.
      'update moving a counted row out': () => posts().update(s.p1.id, { authorId: s.bob.id }),
      'QueryBuilder update().set() moving a row out': () =>
        h.ds
          .createQueryBuilder()
          .update(h.e.Post)
          .set({ authorId: s.bob.id })
          .where('id = :id', { id: s.p2.id })
          .execute(),
      'save moving a row out': async () => {
        const p1 = await posts().findOneByOrFail({ id: s.p1.id })
        await posts().save({ ...p1, authorId: s.bob.id })
      },
      'delete by key': () => posts().delete(s.p2.id),
      'remove of a loaded entity': async () => posts().remove(await posts().findOneByOrFail({ id: s.p2.id })),
      'raw SQL delete by key': () => h.ds.query(`DELETE FROM app_posts WHERE id = ${param(h, 1)}`, [s.p1.id]),
      'update moving a row in': () => posts().update(s.p3.id, { authorId: s.alice.id }),
      'an inserted row': () => posts().insert({ title: 'i', authorId: s.alice.id }),
      'a bulk update': () =>
        h.ds.createQueryBuilder().update(h.e.Post).set({ authorId: s.bob.id }).where('likes = 0').execute(),
      'a transaction': () => h.ds.transaction((em) => em.update(h.e.Post, s.p1.id, { authorId: s.bob.id })),
      'the author deleted (cascade)': () => h.ds.getRepository(h.e.User).delete(s.alice.id),
    }

    it.each(Object.entries(relevant))(
      '%s refreshes it (fresh against an uncached read)',
      async (_n, write) => {
        const before = await read(false)
        expect(await queriesAfter(() => read(), write)).toBeGreaterThan(0)
        expect(await read()).toBe(await read(false))
        expect(await read(false)).not.toBe(before)
      },
    )

    const raced: Record<string, () => Promise<unknown>> = {
      'a counted row moves out (old value unknown)': () => posts().update(s.p1.id, { authorId: s.bob.id }),
      'a counted row is deleted': () => posts().delete(s.p2.id),
      'a row moves in': () =>
        h.ds
          .createQueryBuilder()
          .update(h.e.Post)
          .set({ authorId: s.alice.id })
          .where('id = :id', { id: s.p3.id })
          .execute(),
    }

    it.each(Object.entries(raced))(
      'race: %s between the snapshot and the fill — never stale',
      async (_n, write) => {
        const before = await read(false)
        const reached = gate()
        const release = gate()
        probe.pauseNext = { match: /COUNT\(/, until: release.promise, reached: reached.open }
        const slow = read()
        await reached.promise
        await write()
        release.open()
        expect(await slow).toBe(before)
        if (writesAwaited) {
          // Nothing valid was stored: the next read loads again.
          expect(await countQueries(h, () => read())).toBeGreaterThan(0)
        } else {
          // TypeORM 0.3 on MySQL/SQLite: the write may resolve before its invalidation lands.
          for (let i = 0; i < 100 && (await read()) === before; i++)
            await new Promise((resolve) => setTimeout(resolve, 20))
        }
        expect(await read()).toBe(await read(false))
        expect(await read()).not.toBe(before)
        expect(await countQueries(h, () => read())).toBe(0)
      },
    )
  })

  it('counts that are not over pins only keep table tags', async () => {
    const ranged = () => posts().count({ where: { title: 'hello' }, cache: true })
    const all = () => posts().count({ cache: true })
    const write = () => posts().update(s.p3.id, { likes: 7 })
    expect(await queriesAfter(ranged, write), 'text pin').toBeGreaterThan(0)
    expect(await queriesAfter(all, write), 'no filter').toBeGreaterThan(0)
  })
})
