import { describe, expect, it } from 'vitest'
import type { CachedClient, Harness } from './support/clients.js'
import { DIALECTS } from './support/databases.js'
import type { Fixture } from './support/fixtures.js'
import { queriesAfter } from './support/queries-after.js'
import { seededSuite } from './support/seeded-suite.js'

/** A SELECT on the posts table (PostgreSQL and SQLite spellings). */
const SELECT_POSTS = /^SELECT .*FROM ["`](public|main)["`]\.["`]posts["`]/

const MODES = DIALECTS.flatMap((dialect) => [
  [dialect, 'rows'],
  [dialect, 'members'],
]) as [(typeof DIALECTS)[number], 'rows' | 'members'][]

describe.each(MODES)('precise list invalidation on %s, listTags %s', (dialect, listTags) => {
  let h!: Harness
  let f!: Fixture
  seededSuite(dialect, { listTags }, (state) => {
    ;({ h, f } = state)
  })

  const postsOf = (p: CachedClient, author: number) =>
    p.post.findMany({ where: { authorId: author }, orderBy: { id: 'asc' } })
  // Prisma queries run when awaited: an async wrapper starts them at the call.
  const bobsPosts = async () => postsOf(h.prisma, f.bob)
  const db = () => h.db as unknown as CachedClient

  const writes: Record<string, () => Promise<unknown>> = {
    'update of another author’s post': () =>
      h.prisma.post.update({ where: { id: f.posts.hello }, data: { title: 'x', views: { increment: 1 } } }),
    'create of another author’s post': () =>
      h.prisma.post.create({ data: { title: 'n', authorId: f.carol } }),
    'delete of another author’s post': () => h.prisma.post.delete({ where: { id: f.posts.draft } }),
    'upsert of another author’s post': () =>
      h.prisma.post.upsert({
        where: { id: f.posts.hello },
        create: { title: 'c', authorId: f.alice },
        update: { title: 'u' },
      }),
    'write to a user': () => h.prisma.user.update({ where: { id: f.carol }, data: { name: 'C' } }),
  }
  // A nested update returns no row of the post it changes, so it cannot name the values the post
  // kept: with member tags it bumps the table's unnamed-member tag, which every such list holds.
  const nestedUpdate = () =>
    h.prisma.user.update({
      where: { id: f.alice },
      data: { posts: { update: { where: { id: f.posts.hello }, data: { title: 'deep' } } } },
    })
  if (listTags === 'rows') writes['nested update of another author’s post'] = nestedUpdate

  it.each(Object.entries(writes))(
    '%s leaves a list pinned to another author cached (0 queries)',
    async (_n, write) => {
      expect(await queriesAfter(h, bobsPosts, write)).toBe(0)
      expect(await bobsPosts()).toEqual(await postsOf(db(), f.bob))
    },
  )

  const relevant: Record<string, () => Promise<unknown>> = {
    'update of one of its rows': () =>
      h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'x' } }),
    'a post moving in (authorId re-pointed)': () =>
      h.prisma.post.update({ where: { id: f.posts.hello }, data: { authorId: f.bob } }),
    'a post moving in (to-one connect)': () =>
      h.prisma.post.update({ where: { id: f.posts.draft }, data: { author: { connect: { id: f.bob } } } }),
    'a post moving in (connect from the parent)': () =>
      h.prisma.user.update({ where: { id: f.bob }, data: { posts: { connect: [{ id: f.posts.draft }] } } }),
    'a post moving out': () =>
      h.prisma.post.update({ where: { id: f.posts.other }, data: { authorId: f.carol } }),
    'a created post': () => h.prisma.post.create({ data: { title: 'n', authorId: f.bob } }),
    'a nested-created post': () =>
      h.prisma.user.update({ where: { id: f.bob }, data: { posts: { create: [{ title: 'nested' }] } } }),
    'a deleted post': () => h.prisma.post.delete({ where: { id: f.posts.other } }),
    updateMany: () => h.prisma.post.updateMany({ where: { published: true }, data: { views: 0 } }),
    'raw SQL': () => h.prisma.$executeRawUnsafe('UPDATE posts SET views = 77'),
    'a nested update of one of its rows': () =>
      h.prisma.user.update({
        where: { id: f.bob },
        data: { posts: { update: { where: { id: f.posts.other }, data: { title: 'deep' } } } },
      }),
    'an update whose select leaves the pinned field out': () =>
      h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'y' }, select: { id: true } }),
    'an update that sets only other pinnable columns': () =>
      h.prisma.post.update({
        where: { id: f.posts.other },
        data: { views: { increment: 1 }, published: true },
      }),
  }
  if (listTags === 'members') relevant['a nested update of another author’s post (coarse)'] = nestedUpdate

  it.each(Object.entries(relevant))(
    '%s refreshes the pinned list (fresh against an uncached client)',
    async (_n, write) => {
      expect(await queriesAfter(h, bobsPosts, write)).toBeGreaterThan(0)
      expect(await bobsPosts()).toEqual(await postsOf(db(), f.bob))
    },
  )

  it('race: a post moves to the pinned author while the list is loading — never stale', async () => {
    const paused = h.probe.pauseNext(SELECT_POSTS, { after: true })
    const reader = bobsPosts()
    await paused.reached // snapshot taken, old list read, fill pending
    await h.prisma.post.update({ where: { id: f.posts.hello }, data: { authorId: f.bob } })
    paused.release()
    expect((await reader).map((p) => p.id)).toEqual([f.posts.other])
    expect((await bobsPosts()).map((p) => p.id)).toEqual([f.posts.hello, f.posts.other].sort((a, b) => a - b))
  })

  it('race: a loaded row changes while the list is loading — never stale', async () => {
    const paused = h.probe.pauseNext(SELECT_POSTS, { after: true })
    const reader = bobsPosts()
    await paused.reached
    await h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'Changed' } })
    paused.release()
    expect((await reader)[0]!.title).toBe('Other')
    expect((await bobsPosts())[0]!.title).toBe('Changed')
    expect(await bobsPosts()).toEqual(await postsOf(db(), f.bob))
  })

  it('race: a post moves out while the list is loading — never stale', async () => {
    const paused = h.probe.pauseNext(SELECT_POSTS, { after: true })
    const reader = bobsPosts()
    await paused.reached
    await h.prisma.post.update({ where: { id: f.posts.other }, data: { authorId: f.alice } })
    paused.release()
    expect((await reader).length).toBe(1)
    expect(await bobsPosts()).toEqual([])
  })

  it('reads that are not pure equality pins keep the table tag', async () => {
    const ranged = () =>
      h.prisma.post.findMany({ where: { authorId: { gt: f.bob } }, orderBy: { id: 'asc' } })
    const paged = () => h.prisma.post.findMany({ where: { authorId: f.bob }, take: 1 })
    // Counts over pins are precise now (count-precision.test.ts); a ranged count is not.
    const counted = () => h.prisma.post.count({ where: { authorId: { gt: f.bob } } })
    const unrelated = () => h.prisma.post.update({ where: { id: f.posts.hello }, data: { title: 'x' } })
    for (const [name, read] of Object.entries({ ranged, paged, counted }))
      expect(await queriesAfter(h, read, unrelated), name).toBeGreaterThan(0)
  })
})
