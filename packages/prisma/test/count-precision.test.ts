import { afterAll, describe, expect, it } from 'vitest'
import type { CachedClient, Harness } from './support/clients.js'
import { DIALECTS } from './support/databases.js'
import type { Fixture } from './support/fixtures.js'
import { queriesAfter } from './support/queries-after.js'
import { seededSuite } from './support/seeded-suite.js'
import { expectWriteDuringFillNeverStale } from './support/write-during-fill.js'

/** Counts over pins (docs/design.md, "Counts: rows that leave a pin"). */
describe.each(DIALECTS)('precise counts on %s', (dialect) => {
  let h!: Harness
  let f!: Fixture
  const reads: (readonly string[])[] = []
  seededSuite(dialect, { onRead: (event) => reads.push(event.tags) }, (state) => {
    ;({ h, f } = state)
  })
  afterAll(async () => {
    await h?.cache.close()
  })
  const db = () => h.db as unknown as CachedClient

  // async: a Prisma promise runs only once awaited, and the races need the read started.
  const counts: [string, (p: CachedClient) => Promise<unknown>][] = [
    ['count', async (p) => p.post.count({ where: { authorId: f.alice } })],
    [
      'aggregate _count',
      async (p) => p.post.aggregate({ where: { authorId: f.alice }, _count: { _all: true } }),
    ],
    [
      'groupBy a pinned column',
      async (p) =>
        p.post.groupBy({
          by: ['authorId'],
          where: { authorId: { in: [f.alice, f.carol] } },
          _count: { _all: true },
          orderBy: { authorId: 'asc' },
        }),
    ],
  ]

  it('a pinned count depends on its pins and the column-left tag, not on the table tag', async () => {
    for (const [name, read] of counts) {
      await read(h.prisma)
      expect(reads.at(-1), name).toContain(`v:posts:author_id=${f.alice}`)
      expect(reads.at(-1), name).toContain('l:posts:author_id')
      expect(reads.at(-1), name).not.toContain('t:posts')
    }
  })

  const unrelated: Record<string, () => Promise<unknown>> = {
    'update of a counted row that sets no pinned column': () =>
      h.prisma.post.update({ where: { id: f.posts.hello }, data: { views: { increment: 1 }, title: 'x' } }),
    'create for another author': () => h.prisma.post.create({ data: { title: 'n', authorId: f.bob } }),
    // delete returns the row it deleted: its old author is named exactly.
    'delete of another author’s post': () => h.prisma.post.delete({ where: { id: f.posts.other } }),
    'upsert of another column': () =>
      h.prisma.post.upsert({
        where: { id: f.posts.other },
        create: { title: 'c', authorId: f.bob },
        update: { title: 'u' },
      }),
  }

  describe.each(counts)('%s', (_name, read) => {
    it.each(Object.entries(unrelated))('%s leaves it cached (0 queries)', async (_n, write) => {
      expect(await queriesAfter(h, () => read(h.prisma), write)).toBe(0)
      expect(await read(h.prisma)).toEqual(await read(db()))
    })

    const relevant: Record<string, () => Promise<unknown>> = {
      // update does not see the old row: the column-left tag carries the change.
      'update moving a counted row out': () =>
        h.prisma.post.update({ where: { id: f.posts.hello }, data: { authorId: f.bob } }),
      'to-one connect moving a counted row out': () =>
        h.prisma.post.update({ where: { id: f.posts.draft }, data: { author: { connect: { id: f.bob } } } }),
      'connect from another parent moving a counted row out': () =>
        h.prisma.user.update({ where: { id: f.bob }, data: { posts: { connect: [{ id: f.posts.hello }] } } }),
      'upsert moving a counted row out': () =>
        h.prisma.post.upsert({
          where: { id: f.posts.hello },
          create: { title: 'c', authorId: f.bob },
          update: { authorId: f.bob },
        }),
      'delete of a counted row': () => h.prisma.post.delete({ where: { id: f.posts.draft } }),
      'delete of a counted row selecting no author': () =>
        h.prisma.post.delete({ where: { id: f.posts.draft }, select: { id: true } }),
      'nested delete from the parent': () =>
        h.prisma.user.update({
          where: { id: f.alice },
          data: { posts: { delete: [{ id: f.posts.draft }] } },
        }),
      'update moving a row in': () =>
        h.prisma.post.update({ where: { id: f.posts.other }, data: { authorId: f.alice } }),
      'create for the author': () => h.prisma.post.create({ data: { title: 'n', authorId: f.alice } }),
      updateMany: () => h.prisma.post.updateMany({ where: { views: 1 }, data: { authorId: f.bob } }),
      deleteMany: () => h.prisma.post.deleteMany({ where: { views: 10 } }),
      'raw SQL': () => h.prisma.$executeRawUnsafe(`DELETE FROM posts WHERE views = 1`),
      'the author deleted (cascade)': () => h.prisma.user.delete({ where: { id: f.alice } }),
      'a transaction': () =>
        h.prisma.$transaction([
          h.prisma.post.update({ where: { id: f.posts.hello }, data: { authorId: f.bob } }),
        ]),
    }

    it.each(Object.entries(relevant))(
      '%s refreshes it (fresh against an uncached client)',
      async (_n, write) => {
        const before = await read(db())
        expect(await queriesAfter(h, () => read(h.prisma), write)).toBeGreaterThan(0)
        expect(await read(h.prisma)).toEqual(await read(db()))
        expect(await read(db())).not.toEqual(before)
      },
    )

    const raced: Record<string, () => Promise<unknown>> = {
      'a counted row moves out (old value unknown)': () =>
        h.prisma.post.update({ where: { id: f.posts.hello }, data: { authorId: f.bob } }),
      'a counted row is deleted': () => h.prisma.post.delete({ where: { id: f.posts.draft } }),
      'a row is created for the author': () =>
        h.prisma.post.create({ data: { title: 'r', authorId: f.alice } }),
    }

    it.each(Object.entries(raced))(
      'race: %s between the snapshot and the fill — never stale',
      async (_n, write) => {
        await expectWriteDuringFillNeverStale(
          h.probe,
          /COUNT/i,
          () => read(h.prisma),
          () => read(db()),
          write,
        )
      },
    )
  })

  it('counts that read values, page or are not over pins keep the table tag', async () => {
    const write = () => h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'x' } })
    const reads: Record<string, () => Promise<unknown>> = {
      sum: async () => h.prisma.post.aggregate({ where: { authorId: f.alice }, _sum: { views: true } }),
      'count of a field': async () =>
        h.prisma.post.count({ where: { authorId: f.alice }, select: { _all: true, title: true } }),
      paged: async () => h.prisma.post.count({ where: { authorId: f.alice }, take: 1 }),
      'groupBy an unpinned column': async () =>
        h.prisma.post.groupBy({ by: ['published'], where: { authorId: f.alice }, _count: { _all: true } }),
      'not only pins': async () => h.prisma.post.count({ where: { authorId: f.alice, title: 'Hello' } }),
      'a relation filter': async () => h.prisma.post.count({ where: { author: { id: f.alice } } }),
    }
    for (const [name, read] of Object.entries(reads)) {
      expect(await queriesAfter(h, read, write), name).toBeGreaterThan(0)
    }
  })
})
