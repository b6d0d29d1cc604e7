import type { CachedClient } from './clients.js'

/** Sizes of the randomized run's data set. */
export const SHAPE = { users: 12, posts: 30, tags: 6, teams: 3, settings: 8 }

type Read = (p: CachedClient, id: number) => Promise<unknown>

/**
 * Parameterized reads of the randomized multi-process run, over every relation kind. The
 * workers read and write with these; the final check reads each for every id through the shared
 * cache and compares with the database.
 */
export const CATALOGUE: Record<string, { ids: keyof typeof SHAPE; read: Read }> = {
  userById: { ids: 'users', read: (p, id) => p.user.findUnique({ where: { id } }) },
  userWithPosts: {
    ids: 'users',
    read: (p, id) => p.user.findUnique({ where: { id }, include: { posts: { orderBy: { id: 'asc' } } } }),
  },
  userWithReports: {
    ids: 'users',
    read: (p, id) =>
      p.user.findUnique({
        where: { id },
        select: { name: true, reports: { orderBy: { id: 'asc' } }, manager: true },
      }),
  },
  postsOfAuthor: {
    ids: 'users',
    read: (p, id) =>
      p.post.findMany({
        where: { authorId: id },
        include: { tags: { orderBy: { id: 'asc' } }, _count: { select: { comments: true } } },
        orderBy: { id: 'asc' },
      }),
  },
  postById: {
    ids: 'posts',
    read: (p, id) => p.post.findUnique({ where: { id }, include: { author: true } }),
  },
  commentsOfPost: {
    ids: 'posts',
    read: (p, id) => p.comment.findMany({ where: { postId: id }, orderBy: { id: 'asc' } }),
  },
  postsTagged: {
    ids: 'tags',
    read: (p, id) =>
      p.post.findMany({
        where: { tags: { some: { id } } },
        select: { id: true, title: true },
        orderBy: { id: 'asc' },
      }),
  },
  tagWithPosts: {
    ids: 'tags',
    read: (p, id) => p.tag.findUnique({ where: { id }, include: { posts: { orderBy: { id: 'asc' } } } }),
  },
  teamMembers: {
    ids: 'teams',
    read: (p, id) =>
      p.membership.findMany({
        where: { teamId: id },
        include: { user: { select: { name: true } } },
        orderBy: { userId: 'asc' },
      }),
  },
  setting: { ids: 'settings', read: (p, id) => p.setting.findUnique({ where: { key: `k${id}` } }) },
  userList: {
    ids: 'teams',
    read: (p) =>
      p.user.findMany({
        select: { id: true, name: true, balance: true, visits: true },
        orderBy: { id: 'asc' },
      }),
  },
  publishedCount: { ids: 'teams', read: (p) => p.post.count({ where: { published: true } }) },
  viewTotals: {
    ids: 'teams',
    read: (p) => p.post.groupBy({ by: ['authorId'], _sum: { views: true }, orderBy: { authorId: 'asc' } }),
  },
  usersByPosts: {
    ids: 'teams',
    read: (p) =>
      p.user.findMany({ orderBy: [{ posts: { _count: 'desc' } }, { id: 'asc' }], select: { id: true } }),
  },
}

/** Creates the data set with fixed ids 1..n (identities restart on reset). */
export async function seedShape(db: CachedClient): Promise<void> {
  for (let i = 1; i <= SHAPE.tags; i++) await db.tag.create({ data: { name: `tag${i}` } })
  for (let i = 1; i <= SHAPE.teams; i++) await db.team.create({ data: { name: `team${i}` } })
  for (let i = 1; i <= SHAPE.users; i++) {
    await db.user.create({
      data: { email: `u${i}@example.com`, name: `user${i}`, managerId: i > 3 ? ((i - 1) % 3) + 1 : null },
    })
  }
  for (let i = 1; i <= SHAPE.posts; i++) {
    await db.post.create({
      data: {
        title: `post${i}`,
        authorId: (i % SHAPE.users) + 1,
        published: i % 2 === 0,
        tags: { connect: [{ id: (i % SHAPE.tags) + 1 }] },
        comments: { create: [{ body: `c${i}`, authorId: ((i + 3) % SHAPE.users) + 1 }] },
      },
    })
  }
  for (let i = 1; i <= SHAPE.users; i++) {
    await db.membership.create({ data: { userId: i, teamId: (i % SHAPE.teams) + 1 } })
  }
  for (let i = 1; i <= SHAPE.settings; i++) await db.setting.create({ data: { key: `k${i}`, value: 'v0' } })
}
