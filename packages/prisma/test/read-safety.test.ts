import { type OrmCacheError, UncacheableQueryError } from '@ormcache/core'
import { makeTypedQueryFactory } from '@prisma/client/runtime/client'
import { describe, expect, it } from 'vitest'
import { RAW_OPERATIONS, rawStatement } from '../src/raw-sql.js'
import type { Harness } from './support/clients.js'
import { DIALECTS } from './support/databases.js'
import type { Fixture } from './support/fixtures.js'
import { seededSuite } from './support/seeded-suite.js'

/** Issue 18: no raw read path serves a write, a lock or the clock from the cache. */
describe.each(DIALECTS)('raw reads that must reach the database on %s', (dialect) => {
  let h!: Harness
  let f!: Fixture
  const errors: OrmCacheError[] = []

  seededSuite(dialect, {}, (state) => {
    if (state.h !== h) state.h.cache.on('error', (event) => void errors.push(event.error))
    ;({ h, f } = state)
    errors.length = 0
  })

  const postCount = async () => h.db.post.count()
  const insertCte = (author: number) =>
    `WITH w AS (INSERT INTO posts (title, author_id) VALUES ('cte', ${author}) RETURNING id) SELECT id FROM w`
  const now = dialect === 'postgres' ? 'now()' : "datetime('now')"

  async function expectRefused(run: () => Promise<unknown>, reason: string): Promise<void> {
    const error = await run().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(UncacheableQueryError)
    expect((error as UncacheableQueryError).code).toBe('ERR_UNCACHEABLE_QUERY')
    expect((error as UncacheableQueryError).reason).toBe(reason)
  }

  it('$queryRawCached refuses a writing statement before running it', async () => {
    const before = await postCount()
    if (dialect === 'postgres') {
      const { Prisma } = h
      await expectRefused(
        () =>
          h.prisma.$queryRawCached(
            Prisma.sql`WITH w AS (INSERT INTO posts (title, author_id) VALUES ('cte', ${f.bob}) RETURNING id) SELECT id FROM w`,
            { tables: ['posts'] },
          ),
        'writes',
      )
      await expectRefused(
        () =>
          h.prisma.$queryRawCached(Prisma.sql`SELECT * INTO posts_copy FROM posts`, { tables: ['posts'] }),
        'writes',
      )
      await expectRefused(
        () => h.prisma.$queryRawCached(Prisma.sql`SELECT * FROM posts FOR UPDATE`, { tables: ['posts'] }),
        'locking',
      )
    } else {
      await expectRefused(
        () =>
          h.prisma.$queryRawCached(
            h.Prisma.sql`INSERT INTO posts (title, author_id) VALUES ('x', ${f.bob}) RETURNING id`,
            { tables: ['posts'] },
          ),
        'writes',
      )
    }
    await expectRefused(
      () => h.prisma.$queryRawCached(h.Prisma.sql`CALL refresh()`, { tags: ['report'] }),
      'unknown',
    )
    expect(await postCount()).toBe(before)
  })

  it('$queryRawCached refuses a volatile read unless the caller opts in', async () => {
    const live = h.Prisma.sql([`SELECT count(*) AS n FROM posts WHERE ${now} IS NOT NULL`])
    await expectRefused(() => h.prisma.$queryRawCached(live, { tables: ['posts'] }), 'volatile')
    const optedIn = () => h.prisma.$queryRawCached(live, { tables: ['posts'], volatile: true, ttl: 5_000 })
    await optedIn()
    expect((await h.probe.measure(optedIn)).count).toBe(0)
    // Strings and comments that mention a function do not count.
    const quoted = () =>
      h.prisma.$queryRawCached(
        h.Prisma.sql`SELECT count(*) AS n FROM posts WHERE title <> ${'now()'} -- random()`,
        {
          tables: ['posts'],
        },
      )
    await quoted()
    expect((await h.probe.measure(quoted)).count).toBe(0)
    expect(errors).toEqual([])
  })

  it('$queryRawCached of a read of no table is cached: its declared tags are the explicit request', async () => {
    const one = () => h.prisma.$queryRawCached(h.Prisma.sql`SELECT 1 AS one`, { tags: ['one'] })
    await one()
    expect((await h.probe.measure(one)).count).toBe(0)
  })

  it('TypedSql ($queryRawTyped) goes through the raw write path with its SQL text', () => {
    // The test schema does not enable the typedSql preview feature; the extension sees the same
    // object, so this checks that its SQL text is what the write analysis reads.
    const typed = makeTypedQueryFactory(insertCte(f.bob))()
    expect(rawStatement(typed)?.sql).toBe(insertCte(f.bob))
    expect(RAW_OPERATIONS.has('$queryRawTyped')).toBe(true)
  })

  if (dialect === 'postgres') {
    it('$queryRaw and $queryRawUnsafe with a data-modifying CTE run every time and invalidate', async () => {
      const { Prisma } = h
      const titles = async () => (await h.prisma.post.findMany({ where: { title: 'cte' } })).length
      expect(await titles()).toBe(0)
      expect((await h.probe.measure(titles)).count).toBe(0)
      const sql = insertCte(f.bob)
      await h.prisma.$queryRaw(Prisma.raw(sql))
      await h.prisma.$queryRaw(Prisma.raw(sql))
      await h.prisma.$queryRawUnsafe(sql)
      expect(await h.db.post.count({ where: { title: 'cte' } })).toBe(3)
      expect(await titles()).toBe(3)
      await h.prisma.$transaction(async (tx) => {
        await tx.$queryRawUnsafe(sql)
      })
      expect(await titles()).toBe(4)
    })
  }
})
