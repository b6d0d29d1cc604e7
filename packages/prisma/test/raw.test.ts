import { InvalidOptionError } from '@ormcache/core'
import { describe, expect, it } from 'vitest'
import type { WriteEvent } from '../src/index.js'
import type { CachedClient, Harness } from './support/clients.js'
import { DIALECTS } from './support/databases.js'
import type { Fixture } from './support/fixtures.js'
import { seededSuite } from './support/seeded-suite.js'
import { expectWatchedConsistent, primeWatched, stillCached } from './support/watch.js'

describe.each(DIALECTS)('raw SQL on %s', (dialect) => {
  let h!: Harness
  let f!: Fixture
  const writes: WriteEvent[] = []

  const queries = <T>(run: () => Promise<T>) => h.probe.measure(run)
  const consistent = () => expectWatchedConsistent(h.prisma, h.db as unknown as CachedClient, f)

  seededSuite(dialect, { onWrite: (event) => void writes.push(event) }, (state) => {
    ;({ h, f } = state)
    writes.length = 0
  })

  it('$executeRaw UPDATE bumps the @@map table (table and bulk tags)', async () => {
    await primeWatched(h.prisma, h.probe, f)
    await h.prisma.$executeRaw`UPDATE users SET name = ${'Renamed'} WHERE id = ${f.bob}`
    expect(writes[0]).toMatchObject({ operation: '$executeRaw', everything: false })
    expect(writes[0]!.tags).toEqual(expect.arrayContaining(['t:users', 'b:users']))
    const cached = await stillCached(h.prisma, h.probe, f)
    expect(cached).toContain('themeSetting')
    expect(cached).not.toContain('bobById')
    await consistent()
  })

  it('$executeRawUnsafe INSERT and a raw DELETE with cascades', async () => {
    await primeWatched(h.prisma, h.probe, f)
    await h.prisma.$executeRawUnsafe(
      dialect === 'postgres'
        ? 'INSERT INTO "posts" ("title", "author_id") VALUES ($1, $2)'
        : 'INSERT INTO "posts" ("title", "author_id") VALUES (?, ?)',
      'raw post',
      f.carol,
    )
    await consistent()
    // The text names only users; the cascade to posts and comments comes from the schema.
    await h.prisma.$executeRaw`DELETE FROM "users" WHERE "id" = ${f.alice}`
    expect(writes[1]!.tags).toEqual(expect.arrayContaining(['t:posts', 't:comments', 't:memberships']))
    await consistent()
  })

  it('TRUNCATE / MERGE targets are parsed', async () => {
    await primeWatched(h.prisma, h.probe, f)
    if (dialect === 'postgres') {
      await h.prisma.$executeRaw`TRUNCATE TABLE "comments"`
      await h.prisma.$executeRawUnsafe(
        `MERGE INTO "settings" AS s USING (SELECT 'theme' AS key, 'blue' AS value) AS v ON s.key = v.key
         WHEN MATCHED THEN UPDATE SET value = v.value WHEN NOT MATCHED THEN INSERT (key, value) VALUES (v.key, v.value)`,
      )
      expect(writes.map((w) => w.everything)).toEqual([false, false])
      expect(writes[1]!.tags).toEqual(expect.arrayContaining(['t:settings', 'b:settings']))
    } else {
      await h.prisma.$executeRaw`DELETE FROM "comments"`
      await h.prisma.$executeRaw`REPLACE INTO "settings" ("key", "value") VALUES ('theme', 'blue')`
    }
    expect(writes[0]!.tags).toEqual(expect.arrayContaining(['t:comments', 'b:comments']))
    await consistent()
  })

  it('a raw write to an implicit m2m join table reaches reads through that relation', async () => {
    await primeWatched(h.prisma, h.probe, f)
    await h.prisma.$executeRaw`INSERT INTO "_PostToTag" ("A", "B") VALUES (${f.posts.draft}, ${f.tags.news})`
    const cached = await stillCached(h.prisma, h.probe, f)
    expect(cached).not.toContain('postsWithTags')
    expect(cached).not.toContain('postsTaggedNews')
    expect(cached).toContain('usersAll')
    await consistent()
  })

  it('an unparseable statement invalidates the whole namespace', async () => {
    await primeWatched(h.prisma, h.probe, f)
    if (dialect === 'postgres') {
      await h.prisma.$executeRawUnsafe(`DO $$ BEGIN UPDATE users SET name = 'via DO'; END $$`)
    } else {
      await h.prisma.$executeRawUnsafe('CREATE TABLE "scratch" ("x" INTEGER)')
      await h.prisma.$executeRawUnsafe(`UPDATE users SET name = 'after DDL'`)
    }
    expect(writes[0]!.everything).toBe(true)
    expect(await stillCached(h.prisma, h.probe, f)).toEqual([])
    await consistent()
  })

  it('$queryRaw is not cached, but a writing $queryRaw invalidates', async () => {
    const read = () => h.prisma.$queryRaw<{ n: number }[]>`SELECT count(*) AS n FROM posts`
    expect((await queries(read)).count).toBe(1)
    expect((await queries(read)).count).toBe(1)
    expect(writes).toEqual([])
    await h.prisma.post.findMany()
    const inserted = await h.prisma.$queryRaw<{ id: number }[]>`
      INSERT INTO posts (title, author_id) VALUES ('returned', ${f.bob}) RETURNING id`
    expect(inserted).toHaveLength(1)
    expect(writes[0]!.tags).toEqual(expect.arrayContaining(['t:posts', 'b:posts']))
    expect((await h.prisma.post.findMany()).map((p) => p.title)).toContain('returned')
  })

  it('$queryRawCached caches with declared tables and is invalidated by model writes', async () => {
    const { Prisma } = h
    const perTag = () =>
      h.prisma.$queryRawCached<{ name: string; n: number }[]>(
        Prisma.sql`SELECT t.name, count(*) AS n FROM tags t JOIN "_PostToTag" pt ON pt."B" = t.id GROUP BY t.name ORDER BY t.name`,
        { tables: ['tags', '_PostToTag'] },
      )
    const first = await queries(perTag)
    expect(first.count).toBe(1)
    expect(await queries(perTag)).toEqual({ value: first.value, count: 0 })
    // A nested m2m write bumps the join table.
    await h.prisma.post.update({
      where: { id: f.posts.draft },
      data: { tags: { connect: [{ id: f.tags.news }] } },
    })
    const after = await queries(perTag)
    expect(after.count).toBe(1)
    expect(after.value.map((row) => [row.name, Number(row.n)])).toEqual([
      ['news', 2],
      ['tech', 2],
    ])
    // Tables named in the SQL text are dependencies even when only a tag is declared.
    const byTag = () =>
      h.prisma.$queryRawCached(Prisma.sql`SELECT count(*) AS n FROM settings`, { tags: ['settings-report'] })
    await byTag()
    await h.prisma.setting.create({ data: { key: 'k', value: 'v' } })
    expect((await queries(byTag)).count).toBe(1)
    await h.prisma.$cache.invalidateTags(['settings-report'])
    expect((await queries(byTag)).count).toBe(1)
  })

  it('$queryRawCached needs declared dependencies and is not cached inside a transaction', async () => {
    const { Prisma } = h
    await expect(h.prisma.$queryRawCached(Prisma.sql`SELECT 1`, {})).rejects.toThrow(InvalidOptionError)
    await h.prisma.$transaction(async (tx) => {
      await tx.$queryRawCached(Prisma.sql`SELECT count(*) AS n FROM users`, { tables: ['users'] })
    })
    expect(
      (
        await queries(() =>
          h.prisma.$queryRawCached(Prisma.sql`SELECT count(*) AS n FROM users`, { tables: ['users'] }),
        )
      ).count,
    ).toBe(1)
  })

  it('raw writes inside a transaction are applied at the commit', async () => {
    await h.prisma.user.findMany()
    await h.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`UPDATE users SET name = 'tx'`
      expect(writes).toEqual([])
    })
    expect(writes).toHaveLength(1)
    expect(writes[0]).toMatchObject({ transaction: true })
    expect((await h.prisma.user.findMany()).every((u) => u.name === 'tx')).toBe(true)
  })
})
