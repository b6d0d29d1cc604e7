import { expect } from 'vitest'
import type { CachedClient } from './clients.js'
import type { Fixture } from './fixtures.js'
import type { QueryProbe } from './probe.js'

type Read = (client: CachedClient, f: Fixture) => Promise<unknown>

/**
 * Reads over every relation kind of the test schema. The invalidation tests cache all of them,
 * run a write through the cached client, then require every cached answer to equal the
 * database's.
 */
export const WATCHED: Record<string, Read> = {
  aliceById: (p, f) => p.user.findUnique({ where: { id: f.alice } }),
  bobById: (p, f) => p.user.findUnique({ where: { id: f.bob } }),
  carolByIdOrThrow: (p, f) => p.user.findUniqueOrThrow({ where: { id: f.carol } }).catch(() => 'not found'),
  aliceByEmail: (p) => p.user.findUnique({ where: { email: 'alice@example.com' } }),
  usersAll: (p) => p.user.findMany({ orderBy: { id: 'asc' } }),
  aliceWithPosts: (p, f) =>
    p.user.findUnique({ where: { id: f.alice }, include: { posts: { orderBy: { id: 'asc' } } } }),
  aliceWithReports: (p, f) =>
    p.user.findUnique({ where: { id: f.alice }, include: { reports: { orderBy: { id: 'asc' } } } }),
  bobWithManager: (p, f) =>
    p.user.findUnique({ where: { id: f.bob }, select: { name: true, manager: true } }),
  postsWithTags: (p) =>
    p.post.findMany({ include: { tags: { orderBy: { id: 'asc' } } }, orderBy: { id: 'asc' } }),
  tagsWithPosts: (p) =>
    p.tag.findMany({ include: { posts: { orderBy: { id: 'asc' } } }, orderBy: { id: 'asc' } }),
  postsTaggedNews: (p) =>
    p.post.findMany({
      where: { tags: { some: { name: 'news' } } },
      select: { id: true },
      orderBy: { id: 'asc' },
    }),
  postsWithoutTags: (p) => p.post.findMany({ where: { tags: { none: {} } }, orderBy: { id: 'asc' } }),
  postsByAlice: (p) =>
    p.post.findMany({
      where: { author: { is: { name: 'Alice' } } },
      select: { title: true },
      orderBy: { id: 'asc' },
    }),
  postsNotByBob: (p) => p.post.count({ where: { author: { isNot: { name: 'Bob' } } } }),
  usersAllPublished: (p) =>
    p.user.findMany({
      where: { posts: { every: { published: true } } },
      select: { id: true },
      orderBy: { id: 'asc' },
    }),
  commentsWithAuthor: (p) =>
    p.comment.findMany({ include: { author: { select: { name: true } } }, orderBy: { id: 'asc' } }),
  postCommentCounts: (p) =>
    p.post.findMany({ select: { id: true, _count: { select: { comments: true } } }, orderBy: { id: 'asc' } }),
  userRelationCounts: (p) => p.user.findMany({ include: { _count: true }, orderBy: { id: 'asc' } }),
  usersByPostCount: (p) =>
    p.user.findMany({ orderBy: [{ posts: { _count: 'desc' } }, { id: 'asc' }], select: { id: true } }),
  postsByAuthorName: (p) =>
    p.post.findMany({ orderBy: [{ author: { name: 'asc' } }, { id: 'asc' }], select: { id: true } }),
  groupsWithUsers: (p) =>
    p.group.findMany({ include: { users: { orderBy: { id: 'asc' } } }, orderBy: { id: 'asc' } }),
  aliceGroups: (p, f) =>
    p.user.findUnique({ where: { id: f.alice }, select: { groups: { orderBy: { id: 'asc' } } } }),
  teamsWithMembers: (p) =>
    p.team.findMany({
      include: { memberships: { include: { user: true }, orderBy: { userId: 'asc' } } },
      orderBy: { id: 'asc' },
    }),
  aliceRedMembership: (p, f) =>
    p.membership.findUnique({ where: { userId_teamId: { userId: f.alice, teamId: f.teams.red } } }),
  themeSetting: (p) => p.setting.findUnique({ where: { key: 'theme' } }),
  settingsAll: (p) => p.setting.findMany({ orderBy: { key: 'asc' } }),
  postCount: (p) => p.post.count(),
  viewsSum: (p) => p.post.aggregate({ _sum: { views: true }, _count: { _all: true } }),
  postsByAuthor: (p) =>
    p.post.groupBy({ by: ['authorId'], _count: { _all: true }, orderBy: { authorId: 'asc' } }),
  commentCount: (p) => p.comment.count(),
  firstComment: (p) => p.comment.findFirst({ orderBy: { id: 'asc' }, include: { post: true } }),
  // Pinned lists (column-value and row tags instead of the table tag).
  postsOfAlicePinned: (p, f) => p.post.findMany({ where: { authorId: f.alice }, orderBy: { id: 'asc' } }),
  postsOfBobOrCarolPinned: (p, f) =>
    p.post.findMany({ where: { authorId: { in: [f.bob, f.carol] } }, orderBy: { id: 'asc' } }),
  publishedOfAliceOrViews5Pinned: (p, f) =>
    p.post.findMany({
      where: { OR: [{ published: true, authorId: f.alice }, { views: { equals: 5 } }] },
      include: { tags: { orderBy: { id: 'asc' } } },
      orderBy: { id: 'asc' },
    }),
  reportsOfAlicePinned: (p, f) => p.user.findMany({ where: { managerId: f.alice }, orderBy: { id: 'asc' } }),
  unmanagedPinned: (p) => p.user.findMany({ where: { managerId: null }, select: { id: true, name: true } }),
  redMembershipsPinned: (p, f) =>
    p.membership.findMany({ where: { AND: [{ teamId: f.teams.red }] }, orderBy: { userId: 'asc' } }),
  helloFluentComments: (p, f) =>
    p.post.findUnique({ where: { id: f.posts.hello } }).comments({ orderBy: { id: 'asc' } }),
}

/** Caches every watched read and checks that a second pass is served entirely from the cache. */
export async function primeWatched(prisma: CachedClient, probe: QueryProbe, f: Fixture): Promise<void> {
  for (const read of Object.values(WATCHED)) await read(prisma, f)
  probe.reset()
  for (const read of Object.values(WATCHED)) await read(prisma, f)
  expect(probe.count, 'every watched read is cached before the write').toBe(0)
}

/** Every watched read through the cache equals the same read on the database. */
export async function expectWatchedConsistent(
  prisma: CachedClient,
  db: CachedClient,
  f: Fixture,
): Promise<void> {
  for (const [name, read] of Object.entries(WATCHED)) {
    expect(await read(prisma, f), name).toEqual(await read(db, f))
  }
}

/** Names of watched reads the cache still answers without a query. */
export async function stillCached(prisma: CachedClient, probe: QueryProbe, f: Fixture): Promise<string[]> {
  const cached: string[] = []
  for (const [name, read] of Object.entries(WATCHED)) {
    probe.reset()
    await read(prisma, f)
    if (probe.count === 0) cached.push(name)
  }
  return cached
}
