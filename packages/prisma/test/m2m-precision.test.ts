import { afterAll, describe, expect, it } from 'vitest'
import type { CachedClient, Harness } from './support/clients.js'
import { DIALECTS } from './support/databases.js'
import type { Fixture } from './support/fixtures.js'
import { queriesAfter } from './support/queries-after.js'
import { seededSuite } from './support/seeded-suite.js'
import { expectWriteDuringFillNeverStale } from './support/write-during-fill.js'

/** The statement that reads the join table (with or without the children). */
const READS_JOIN = /_PostToTag/

/** Implicit many-to-many relations loaded for their parents (docs/design.md, "Many-to-many relations"). */
describe.each(DIALECTS)('many-to-many loads on %s', (dialect) => {
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

  // hello has tags news and tech, draft none, other tech (fixtures.ts).
  const postsWithTags = async (p: CachedClient) =>
    p.post.findMany({
      where: { id: { in: [f.posts.hello, f.posts.draft] } },
      include: { tags: { orderBy: { id: 'asc' } } },
      orderBy: { id: 'asc' },
    })
  // The other side: Tag is column B of "_PostToTag".
  const newsWithPosts = async (p: CachedClient) =>
    p.tag.findUnique({ where: { id: f.tags.news }, include: { posts: { orderBy: { id: 'asc' } } } })
  const reads2: [string, (p: CachedClient) => Promise<unknown>][] = [
    ['posts with their tags', postsWithTags],
    ['a tag with its posts', newsWithPosts],
  ]

  it('column A holds the key of the model whose name sorts first (what the join tags assume)', async () => {
    const pairs = async (sql: string) =>
      ((await db().$queryRawUnsafe(sql)) as { A: unknown; B: unknown }[]).map((r) => [
        Number(r.A),
        Number(r.B),
      ])
    expect(await pairs(`SELECT "A", "B" FROM "_PostToTag" ORDER BY "A", "B"`)).toEqual([
      [f.posts.hello, f.tags.news],
      [f.posts.hello, f.tags.tech],
      [f.posts.other, f.tags.tech],
    ])
    // Group < User: groups in A.
    expect(await pairs(`SELECT "A", "B" FROM "_UserGroups"`)).toEqual([[f.groups.admins, f.alice]])
  })

  it('depends on the join rows of the loaded parents, not on the join or child table', async () => {
    await postsWithTags(h.prisma)
    const tags = reads.at(-1)!
    expect(tags).not.toContain('t:_posttotag')
    expect(tags).not.toContain('t:tags')
    expect(tags).toContain('b:_posttotag')
    expect(tags).toContain('a:_posttotag:a')
  })

  const unrelated: Record<string, [(p: CachedClient) => Promise<unknown>, () => Promise<unknown>]> = {
    'a tag connected to a post outside the list': [
      postsWithTags,
      () =>
        h.prisma.post.update({
          where: { id: f.posts.other },
          data: { tags: { connect: [{ id: f.tags.news }] } },
        }),
    ],
    'a tag disconnected from a post outside the list': [
      postsWithTags,
      () =>
        h.prisma.post.update({
          where: { id: f.posts.other },
          data: { tags: { disconnect: [{ id: f.tags.tech }] } },
        }),
    ],
    'a tag created and linked to a post outside the list': [
      postsWithTags,
      () => h.prisma.tag.create({ data: { name: 'fresh', posts: { connect: [{ id: f.posts.other }] } } }),
    ],
    'another tag linked to a post (seen from the tag)': [
      newsWithPosts,
      () =>
        h.prisma.post.update({
          where: { id: f.posts.draft },
          data: { tags: { connect: [{ id: f.tags.tech }] } },
        }),
    ],
  }

  it.each(Object.entries(unrelated))('%s leaves it cached (0 queries)', async (_n, [read, write]) => {
    expect(await queriesAfter(h, () => read(h.prisma), write)).toBe(0)
    expect(await read(h.prisma)).toEqual(await read(db()))
  })

  const relevant: Record<string, () => Promise<unknown>> = {
    'a tag connected to a loaded parent': () =>
      h.prisma.post.update({
        where: { id: f.posts.draft },
        data: { tags: { connect: [{ id: f.tags.news }] } },
      }),
    'a tag disconnected from a loaded parent': () =>
      h.prisma.post.update({
        where: { id: f.posts.hello },
        data: { tags: { disconnect: [{ id: f.tags.news }] } },
      }),
    'a loaded parent linked from the other side': () =>
      h.prisma.tag.update({
        where: { id: f.tags.news },
        data: { posts: { connect: [{ id: f.posts.draft }] } },
      }),
    'a loaded parent unlinked from the other side': () =>
      h.prisma.tag.update({
        where: { id: f.tags.news },
        data: { posts: { disconnect: [{ id: f.posts.hello }] } },
      }),
    'connect by a unique field that is not the key': () =>
      h.prisma.post.update({ where: { id: f.posts.draft }, data: { tags: { connect: [{ name: 'tech' }] } } }),
    set: () =>
      h.prisma.post.update({ where: { id: f.posts.hello }, data: { tags: { set: [{ id: f.tags.news }] } } }),
    'a nested-created tag': () =>
      h.prisma.post.update({
        where: { id: f.posts.draft },
        data: { tags: { create: [{ name: 'nested' }] } },
      }),
    'a loaded tag renamed': () =>
      h.prisma.tag.update({ where: { id: f.tags.news }, data: { name: 'news2' } }),
    'a loaded tag deleted': () => h.prisma.tag.delete({ where: { id: f.tags.news } }),
    'raw SQL on the join table': () =>
      h.prisma.$executeRawUnsafe(`DELETE FROM "_PostToTag" WHERE "B" = ${f.tags.tech}`),
  }

  describe.each(reads2)('%s', (_name, read) => {
    it.each(Object.entries(relevant))(
      '%s refreshes it (fresh against an uncached client)',
      async (_n, write) => {
        expect(await queriesAfter(h, () => read(h.prisma), write)).toBeGreaterThan(0)
        expect(await read(h.prisma)).toEqual(await read(db()))
      },
    )
  })

  const raced: Record<string, () => Promise<unknown>> = {
    'a tag is connected to a loaded parent': () =>
      h.prisma.post.update({
        where: { id: f.posts.draft },
        data: { tags: { connect: [{ id: f.tags.news }] } },
      }),
    'a loaded link is removed': () =>
      h.prisma.post.update({
        where: { id: f.posts.hello },
        data: { tags: { disconnect: [{ id: f.tags.tech }] } },
      }),
    'a loaded tag changes': () =>
      h.prisma.tag.update({ where: { id: f.tags.news }, data: { name: 'raced' } }),
  }

  it.each(Object.entries(raced))(
    'race: %s between the snapshot and the fill — never stale',
    async (_n, write) => {
      await expectWriteDuringFillNeverStale(
        h.probe,
        READS_JOIN,
        () => postsWithTags(h.prisma),
        () => postsWithTags(db()),
        write,
      )
    },
  )

  it('keeps table tags where the children are filtered or the read also counts them', async () => {
    const filtered = async () =>
      h.prisma.post.findMany({ where: { id: f.posts.hello }, include: { tags: { where: { name: 'news' } } } })
    const counted = async () =>
      h.prisma.post.findMany({
        where: { id: f.posts.hello },
        include: { tags: true, _count: { select: { tags: true } } },
      })
    const write = () =>
      h.prisma.post.update({
        where: { id: f.posts.other },
        data: { tags: { connect: [{ id: f.tags.news }] } },
      })
    expect(await queriesAfter(h, filtered, write), 'filtered').toBeGreaterThan(0)
    expect(await queriesAfter(h, counted, write), 'counted').toBeGreaterThan(0)
  })
})
