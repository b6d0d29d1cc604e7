import { afterAll, describe, expect, it } from 'vitest'
import type { ReadEvent } from '../src/index.js'
import type { CachedClient, Harness } from './support/clients.js'
import type { Fixture } from './support/fixtures.js'
import { queriesAfter } from './support/queries-after.js'
import { seededSuite } from './support/seeded-suite.js'
import { dialectsTimesStores } from './support/store-matrix.js'

/** A SELECT on one table (PostgreSQL and SQLite spellings). */
const SELECT_FROM = (table: string) =>
  new RegExp(`^SELECT .*FROM ["\`](public|main)["\`]\\.["\`]${table}["\`]`)
const SELECT_USERS = SELECT_FROM('users')
const SELECT_POSTS = SELECT_FROM('posts')

describe.each(dialectsTimesStores('prisma-split'))(
  'included relations assembled from cached parts on %s (%s)',
  (dialect, _store, options) => {
    let h!: Harness
    let f!: Fixture
    const reads: ReadEvent[] = []
    seededSuite(dialect, { ...options(), onRead: (event) => reads.push(event) }, (state) => {
      ;({ h, f } = state)
    })
    afterAll(async () => {
      await h?.cache.close()
    })
    const db = () => h.db as unknown as CachedClient

    // The bench's team list: parents pinned, every post of each, no ordering of the children.
    const team = (p: CachedClient) =>
      p.user.findMany({ where: { id: { in: [f.alice, f.bob, f.carol] } }, include: { posts: true } })
    // async: a Prisma promise runs only once awaited, and the races need the read started.
    const cachedTeam = async () => team(h.prisma)
    const freshTeam = async () => team(db())

    it('a write to a post of the list reloads only the posts: 1 SELECT, fresh', async () => {
      await cachedTeam()
      await h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'changed' } })
      h.probe.reset()
      const value = await cachedTeam()
      expect(h.probe.statements).toHaveLength(1)
      expect(h.probe.statements[0]).toMatch(SELECT_POSTS)
      expect(value).toEqual(await freshTeam())
      h.probe.reset()
      await cachedTeam()
      expect(h.probe.count).toBe(0)
    })

    it('a part that hits is stitched as read, a part that loads into a copy; the result is fresh', async () => {
      await cachedTeam()
      await h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'copied' } })
      const codec = h.cache.codec
      const clone = codec.clone.bind(codec)
      let copies = 0
      codec.clone = (value) => {
        copies++
        return clone(value)
      }
      try {
        reads.length = 0
        const value = await cachedTeam()
        expect(reads.map((r) => [r.model, r.source])).toEqual([
          ['User', 'hit'],
          ['Post', 'miss'],
          ['User', 'miss'],
        ])
        // Only the loaded posts: a hit is already this reader's own value (core decodes one per reader).
        expect(copies).toBe(1)
        expect(value).toEqual(await freshTeam())
        // The users' entry was not changed by the stitching: a second assembly finds it as stored.
        await h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'copied again' } })
        expect(await cachedTeam()).toEqual(await freshTeam())
      } finally {
        codec.clone = clone
      }
    })

    it('a write to a column of a user that keeps the list reloads only the users: 1 SELECT, fresh', async () => {
      await cachedTeam()
      await h.prisma.user.update({ where: { id: f.bob }, data: { name: 'Robert' } })
      h.probe.reset()
      const value = await cachedTeam()
      expect(h.probe.statements).toHaveLength(1)
      expect(h.probe.statements[0]).toMatch(SELECT_USERS)
      expect(value).toEqual(await freshTeam())
    })

    it('a hit on the assembled read is one cache read, no nested read', async () => {
      await cachedTeam()
      reads.length = 0
      h.probe.reset()
      await cachedTeam()
      expect(h.probe.count).toBe(0)
      expect(reads.map((r) => [r.model, r.source])).toEqual([['User', 'hit']])
    })

    it('the nested reads are reported as reads of their own', async () => {
      reads.length = 0
      await cachedTeam()
      expect(reads.map((r) => [r.model, r.operation, r.source])).toEqual([
        ['User', 'findMany', 'miss'],
        ['Post', 'findMany', 'miss'],
        ['User', 'findMany', 'miss'],
      ])
    })

    it('a user moving to another list: both lists fresh', async () => {
      const pinned = (p: CachedClient, managerId: number) =>
        p.user.findMany({ where: { managerId }, include: { posts: true }, orderBy: { id: 'asc' } })
      await pinned(h.prisma, f.alice)
      await pinned(h.prisma, f.bob)
      await h.prisma.user.update({ where: { id: f.carol }, data: { managerId: f.alice } })
      expect(await pinned(h.prisma, f.alice)).toEqual(await pinned(db(), f.alice))
      expect(await pinned(h.prisma, f.bob)).toEqual(await pinned(db(), f.bob))
      await h.prisma.user.update({ where: { id: f.bob }, data: { managerId: f.bob } })
      expect(await pinned(h.prisma, f.alice)).toEqual(await pinned(db(), f.alice))
      expect(await pinned(h.prisma, f.bob)).toEqual(await pinned(db(), f.bob))
    })

    it('children come in the order Prisma returns them (no ORDER BY: the database order)', async () => {
      // Rows inserted out of key order, then updated so the heap order differs from key order.
      const dave = await h.db.user.create({ data: { email: 'dave@example.com', name: 'Dave' } })
      for (const id of [907, 903, 905, 901])
        await h.db.post.create({ data: { id, title: `p${id}`, authorId: dave.id } })
      await h.db.post.update({ where: { id: 903 }, data: { title: 'moved in the heap' } })
      await h.db.post.update({ where: { id: 907 }, data: { views: 3 } })
      const daves = (p: CachedClient) => p.user.findMany({ where: { id: dave.id }, include: { posts: true } })
      const expected = await daves(db())
      // PostgreSQL returns heap order; SQLite reads through the author_id index, in rowid order.
      if (dialect === 'postgres')
        expect(expected[0]!.posts.map((p) => p.id)).not.toEqual([901, 903, 905, 907])
      expect(await daves(h.prisma)).toEqual(expected)
      // Same order (and key order of each object) after a reload of only the children.
      await h.prisma.post.update({ where: { id: 905 }, data: { views: 9 } })
      const reloaded = await daves(h.prisma)
      const again = await daves(db())
      expect(reloaded[0]!.posts.map((p) => p.id)).toEqual(again[0]!.posts.map((p) => p.id))
      expect(JSON.stringify(reloaded, replacer)).toBe(JSON.stringify(again, replacer))
    })

    const writes: Record<string, () => Promise<unknown>> = {
      'post create': () => h.prisma.post.create({ data: { title: 'new', authorId: f.carol } }),
      'post update': () => h.prisma.post.update({ where: { id: f.posts.hello }, data: { views: 99 } }),
      'post delete': () => h.prisma.post.delete({ where: { id: f.posts.other } }),
      'post reassigned (authorId)': () =>
        h.prisma.post.update({ where: { id: f.posts.draft }, data: { authorId: f.carol } }),
      'user update': () => h.prisma.user.update({ where: { id: f.alice }, data: { name: 'Alicia' } }),
      'user delete (cascade)': () => h.prisma.user.delete({ where: { id: f.alice } }),
      'nested create (user.update with posts: { create })': () =>
        h.prisma.user.update({ where: { id: f.bob }, data: { posts: { create: [{ title: 'nested' }] } } }),
      'comment create under a loaded post': () =>
        h.prisma.comment.create({ data: { body: 'late', postId: f.posts.other } }),
      'comment update': () => h.prisma.comment.updateMany({ data: { body: 'edited' } }),
    }

    const shapes: Record<string, (p: CachedClient) => Promise<unknown>> = {
      'findMany include': (p) => team(p),
      'findMany include, ordered': (p) =>
        p.user.findMany({
          where: { id: { in: [f.alice, f.bob, f.carol] } },
          include: { posts: { orderBy: { views: 'desc' } } },
          orderBy: { id: 'asc' },
        }),
      'select without the key': (p) =>
        p.user.findMany({ where: { id: { in: [f.alice, f.bob] } }, select: { name: true, posts: true } }),
      'select of posts without the foreign key': (p) =>
        p.user.findMany({ select: { id: true, posts: { select: { id: true, title: true } } } }),
      'omit of the key and the foreign key': (p) =>
        p.user.findMany({ omit: { id: true }, include: { posts: { omit: { authorId: true } } } }),
      'nested include (posts with comments)': (p) =>
        p.user.findMany({ include: { posts: { include: { comments: true } } } }),
      'to-one include (posts with their author)': (p) => p.post.findMany({ include: { author: true } }),
      'to-one, nullable (comments with their author)': (p) =>
        p.comment.findMany({ include: { author: true } }),
      'findUnique with include': (p) =>
        p.user.findUnique({ where: { id: f.alice }, include: { posts: true } }),
      'findFirst with include': (p) =>
        p.user.findFirst({ where: { name: 'Bob' }, include: { posts: { include: { author: true } } } }),
      'two relations': (p) => p.post.findMany({ include: { author: true, comments: true } }),
    }

    describe.each(Object.entries(shapes))('%s', (_s, read) => {
      it('equals the uncached read', async () => {
        expect(JSON.stringify(await read(h.prisma), replacer)).toBe(
          JSON.stringify(await read(db()), replacer),
        )
      })
      it.each(Object.entries(writes))('after a %s: fresh against an uncached client', async (_w, write) => {
        await read(h.prisma)
        await write()
        expect(await read(h.prisma)).toEqual(await read(db()))
        expect(await read(h.prisma)).toEqual(await read(db()))
      })
    })

    it('an unrelated post write leaves the assembled read cached (0 queries)', async () => {
      const bobs = () =>
        h.prisma.user.findMany({ where: { id: { in: [f.bob, f.carol] } }, include: { posts: true } })
      expect(
        await queriesAfter(h, bobs, () =>
          h.prisma.post.update({ where: { id: f.posts.hello }, data: { views: { increment: 1 } } }),
        ),
      ).toBe(0)
    })

    it('a read with its own key or tags is loaded by Prisma in one go', async () => {
      reads.length = 0
      await h.prisma.user.findMany({ include: { posts: true }, cache: { tags: ['team'] } })
      await h.prisma.user.findMany({ include: { posts: true }, cache: { key: 'my-team' } })
      expect(reads.map((r) => r.model)).toEqual(['User', 'User'])
    })

    const raced: Record<string, [RegExp, () => Promise<unknown>]> = {
      'a post changes between the parents’ load and the children’s load': [
        SELECT_USERS,
        () => h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'raced' } }),
      ],
      'a post moves in between the parents’ load and the children’s load': [
        SELECT_USERS,
        () => h.prisma.post.update({ where: { id: f.posts.hello }, data: { authorId: f.carol } }),
      ],
      'a user changes after the parents’ load': [
        SELECT_USERS,
        () => h.prisma.user.update({ where: { id: f.bob }, data: { name: 'raced' } }),
      ],
      'a post changes between the children’s snapshot and fill': [
        SELECT_POSTS,
        () => h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'raced' } }),
      ],
      'a post is created between the children’s snapshot and fill': [
        SELECT_POSTS,
        () => h.prisma.post.create({ data: { title: 'raced', authorId: f.carol } }),
      ],
      'a user leaves the list between the children’s snapshot and fill': [
        SELECT_POSTS,
        () => h.prisma.user.delete({ where: { id: f.carol } }),
      ],
    }

    it.each(Object.entries(raced))('race: %s — never stale', async (_n, [pause, write]) => {
      const paused = h.probe.pauseNext(pause, { after: true })
      const reader = cachedTeam()
      await paused.reached
      await write()
      paused.release()
      await reader
      h.probe.reset()
      expect(await cachedTeam()).toEqual(await freshTeam())
      expect(await cachedTeam()).toEqual(await freshTeam())
    })

    it('race: a post write during the parents’ load while the children’s entry was cached before', async () => {
      // The child read may find an entry from before the write; the outer fill must not outlive it.
      await h.prisma.post.findMany({ where: { authorId: { in: [f.alice, f.bob, f.carol] } } })
      const paused = h.probe.pauseNext(SELECT_USERS, { after: true })
      const reader = cachedTeam()
      await paused.reached
      await h.prisma.post.update({ where: { id: f.posts.hello }, data: { title: 'raced' } })
      paused.release()
      await reader
      expect(await cachedTeam()).toEqual(await freshTeam())
    })
  },
)

/** JSON with bigint, Decimal and bytes spelled out (key order is compared too). */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`
  if (value instanceof Uint8Array) return [...value]
  return value
}
