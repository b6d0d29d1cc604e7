import { afterAll, describe, expect, it } from 'vitest'
import type { CachedClient, Harness } from './support/clients.js'
import type { Fixture } from './support/fixtures.js'
import { queriesAfter } from './support/queries-after.js'
import { seededSuite } from './support/seeded-suite.js'
import { dialectsTimesStores } from './support/store-matrix.js'

/** The statement that reads the children (a SELECT on posts, or a join that reaches posts). */
const READS_POSTS = /^SELECT .*["`]posts["`]/s

describe.each(dialectsTimesStores('prisma-relations'))(
  'relations loaded for parents on %s (%s)',
  (dialect, store, options) => {
    let h!: Harness
    let f!: Fixture
    const members = store.includes('member tags')
    seededSuite(dialect, options(), (state) => {
      ;({ h, f } = state)
    })
    afterAll(async () => {
      await h?.cache.close()
    })

    // A team-like list: parents pinned by key, each with all its posts (the bench's team read).
    const team = (p: CachedClient, ids: number[]) =>
      p.user.findMany({
        where: { id: { in: ids } },
        include: { posts: { orderBy: { id: 'asc' } } },
        orderBy: { id: 'asc' },
      })
    const bobsTeam = async () => team(h.prisma, [f.bob, f.carol])
    const bobsTeamFresh = async () => team(h.db as unknown as CachedClient, [f.bob, f.carol])
    const bobByKey = async () =>
      h.prisma.user.findUnique({ where: { id: f.bob }, include: { posts: { orderBy: { id: 'asc' } } } })
    const db = () => h.db as unknown as CachedClient

    const unrelated: Record<string, () => Promise<unknown>> = {
      'update of a post of an author outside the list': () =>
        h.prisma.post.update({ where: { id: f.posts.hello }, data: { views: { increment: 1 } } }),
      'create of a post for an author outside the list': () =>
        h.prisma.post.create({ data: { title: 'n', authorId: f.alice } }),
      'delete of a post of an author outside the list': () =>
        h.prisma.post.delete({ where: { id: f.posts.draft } }),
    }
    const moveOutside = () =>
      h.prisma.post.update({ where: { id: f.posts.draft }, data: { authorId: f.alice, title: 't' } })
    // With member tags the children depend on the foreign key's column-left tag, which an update
    // setting it bumps (Prisma cannot name the old value): coarse, but fresh.
    if (!members) unrelated['an update setting the foreign key to an author outside the list'] = moveOutside

    it.each(Object.entries(unrelated))(
      '%s leaves the list with posts cached (0 queries)',
      async (_n, write) => {
        expect(await queriesAfter(h, bobsTeam, write)).toBe(0)
        expect(await bobsTeam()).toEqual(await bobsTeamFresh())
      },
    )

    // Registered only where it applies (a skipped test would read as a missing service).
    if (members)
      it('with member tags, a post moving between other authors refreshes the list', async () => {
        expect(await queriesAfter(h, bobsTeam, moveOutside)).toBeGreaterThan(0)
        expect(await bobsTeam()).toEqual(await bobsTeamFresh())
      })

    it('a key lookup with its posts is precise too', async () => {
      expect(
        await queriesAfter(h, bobByKey, unrelated['update of a post of an author outside the list']!),
      ).toBe(0)
    })

    const relevant: Record<string, () => Promise<unknown>> = {
      'update of a loaded child': () =>
        h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'x' } }),
      'a post moving to a loaded parent': () =>
        h.prisma.post.update({ where: { id: f.posts.hello }, data: { authorId: f.carol } }),
      'a post moving to a loaded parent (connect from the parent)': () =>
        h.prisma.user.update({
          where: { id: f.carol },
          data: { posts: { connect: [{ id: f.posts.draft }] } },
        }),
      'a post moving to a loaded parent (to-one connect)': () =>
        h.prisma.post.update({ where: { id: f.posts.draft }, data: { author: { connect: { id: f.bob } } } }),
      'a post moving out': () =>
        h.prisma.post.update({ where: { id: f.posts.other }, data: { authorId: f.alice } }),
      'a child created for a loaded parent': () =>
        h.prisma.post.create({ data: { title: 'n', authorId: f.carol } }),
      'a nested-created child': () =>
        h.prisma.user.update({ where: { id: f.carol }, data: { posts: { create: [{ title: 'nested' }] } } }),
      'a child deleted': () => h.prisma.post.delete({ where: { id: f.posts.other } }),
      'createMany of children': () => h.prisma.post.createMany({ data: [{ title: 'm', authorId: f.carol }] }),
      deleteMany: () => h.prisma.post.deleteMany({ where: { id: f.posts.other } }),
      updateMany: () => h.prisma.post.updateMany({ where: { views: 5 }, data: { authorId: f.carol } }),
      'raw SQL': () => h.prisma.$executeRawUnsafe(`UPDATE posts SET title = 'raw'`),
    }

    it.each(Object.entries(relevant))(
      '%s refreshes the list (fresh against an uncached client)',
      async (_n, write) => {
        expect(await queriesAfter(h, bobsTeam, write)).toBeGreaterThan(0)
        expect(await bobsTeam()).toEqual(await bobsTeamFresh())
      },
    )

    it('a parent deleted with its children (cascade) refreshes a list that loaded it', async () => {
      const aliceTeam = async () => team(h.prisma, [f.alice, f.carol])
      await aliceTeam()
      await h.prisma.user.delete({ where: { id: f.alice } })
      expect(await aliceTeam()).toEqual(await team(db(), [f.alice, f.carol]))
    })

    const raced: Record<string, () => Promise<unknown>> = {
      'a post moves to a loaded parent': () =>
        h.prisma.post.update({ where: { id: f.posts.hello }, data: { authorId: f.bob } }),
      'a child is created for a loaded parent': () =>
        h.prisma.post.create({ data: { title: 'raced', authorId: f.carol } }),
      'a loaded child is deleted': () => h.prisma.post.delete({ where: { id: f.posts.other } }),
      'a loaded child changes': () =>
        h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'raced' } }),
    }

    it.each(Object.entries(raced))(
      'race: %s between the snapshot and the fill — never stale',
      async (_n, write) => {
        const before = await bobsTeamFresh()
        const paused = h.probe.pauseNext(READS_POSTS, { after: true })
        const reader = bobsTeam()
        await paused.reached // snapshot taken, children read, fill pending
        await write()
        paused.release()
        expect(await reader).toEqual(before)
        // Nothing was stored (the fill saw the write: skipped, or outdated in this process): the
        // next read loads again and is fresh; the one after it is a hit and still fresh.
        h.probe.reset()
        expect(await bobsTeam()).toEqual(await bobsTeamFresh())
        expect(h.probe.count).toBeGreaterThan(0)
        h.probe.reset()
        expect(await bobsTeam()).toEqual(await bobsTeamFresh())
        expect(h.probe.count).toBe(0)
      },
    )

    // To-one: the author of each loaded post (key on the post) and the nullable author of comments.
    const READS_USERS = /^SELECT .*["`]users["`]/s
    // async: a Prisma promise runs only once awaited, and the races need the read started.
    const alicePosts = async (p: CachedClient) =>
      p.post.findMany({ where: { authorId: f.alice }, include: { author: true }, orderBy: { id: 'asc' } })
    const helloComments = async (p: CachedClient) =>
      p.comment.findMany({
        where: { postId: f.posts.hello },
        include: { author: true },
        orderBy: { id: 'asc' },
      })
    const toOne: [string, (p: CachedClient) => Promise<unknown>][] = [
      ['posts with their author', alicePosts],
      ['comments with their nullable author', helloComments],
    ]

    const unrelatedToOne: Record<string, () => Promise<unknown>> = {
      'update of a user no loaded row points at': () =>
        h.prisma.user.update({ where: { id: f.carol }, data: { name: 'Caroline' } }),
      'a user created': () => h.prisma.user.create({ data: { email: 'dave@example.com', name: 'Dave' } }),
    }

    describe.each(toOne)('%s', (_n, read) => {
      it.each(Object.entries(unrelatedToOne))('%s leaves it cached (0 queries)', async (_w, write) => {
        expect(await queriesAfter(h, () => read(h.prisma), write)).toBe(0)
        expect(await read(h.prisma)).toEqual(await read(db()))
      })
    })

    const relevantToOne: Record<string, [(p: CachedClient) => Promise<unknown>, () => Promise<unknown>]> = {
      'the loaded author changing': [
        alicePosts,
        () => h.prisma.user.update({ where: { id: f.alice }, data: { name: 'Alicia' } }),
      ],
      'the loaded author changing (raw SQL)': [
        alicePosts,
        () => h.prisma.$executeRawUnsafe(`UPDATE users SET name = 'raw'`),
      ],
      'a nested update of a user (rows unknown)': [
        helloComments,
        () =>
          h.prisma.post.update({
            where: { id: f.posts.hello },
            data: { author: { update: { name: 'nested' } } },
          }),
      ],
      'a comment author changing': [
        helloComments,
        () => h.prisma.user.update({ where: { id: f.bob }, data: { name: 'Robert' } }),
      ],
      'a comment’s author set from null': [
        helloComments,
        () => h.prisma.comment.updateMany({ where: { authorId: null }, data: { authorId: f.carol } }),
      ],
    }

    it.each(Object.entries(relevantToOne))(
      '%s refreshes it (fresh against an uncached client)',
      async (_n, [read, write]) => {
        expect(await queriesAfter(h, () => read(h.prisma), write)).toBeGreaterThan(0)
        expect(await read(h.prisma)).toEqual(await read(db()))
      },
    )

    const racedToOne: Record<string, [(p: CachedClient) => Promise<unknown>, () => Promise<unknown>]> = {
      'the loaded author changes': [
        alicePosts,
        () => h.prisma.user.update({ where: { id: f.alice }, data: { name: 'raced' } }),
      ],
      'a loaded comment author changes': [
        helloComments,
        () => h.prisma.user.update({ where: { id: f.bob }, data: { name: 'raced' } }),
      ],
    }

    it.each(Object.entries(racedToOne))(
      'race: %s between the snapshot and the fill — never stale',
      async (_n, [read, write]) => {
        const before = await read(db())
        const paused = h.probe.pauseNext(READS_USERS, { after: true })
        const reader = read(h.prisma)
        await paused.reached // snapshot taken, targets read, fill pending
        await write()
        paused.release()
        expect(await reader).toEqual(before)
        h.probe.reset()
        expect(await read(h.prisma)).toEqual(await read(db()))
        expect(h.probe.count).toBeGreaterThan(0)
        h.probe.reset()
        expect(await read(h.prisma)).toEqual(await read(db()))
        expect(h.probe.count).toBe(0)
      },
    )

    // Many-to-many loads are precise too: m2m-precision.test.ts.
    it('keeps table tags where the children are filtered, paged or ordered through a relation', async () => {
      const filtered = async () =>
        h.prisma.user.findMany({ where: { id: f.bob }, include: { posts: { where: { published: true } } } })
      const paged = async () =>
        h.prisma.user.findMany({ where: { id: f.bob }, include: { posts: { take: 1 } } })
      const write = () => h.prisma.post.update({ where: { id: f.posts.hello }, data: { title: 'x' } })
      expect(await queriesAfter(h, filtered, write), 'filtered').toBeGreaterThan(0)
      expect(await queriesAfter(h, paged, write), 'paged').toBeGreaterThan(0)
    })
  },
)
