import { describe, expect, it } from 'vitest'
import { type CachedClient, type Harness, openHarness } from './support/clients.js'
import { DIALECTS, type TestDatabase } from './support/databases.js'
import type { Fixture } from './support/fixtures.js'
import { seededSuite } from './support/seeded-suite.js'
import { expectWatchedConsistent, primeWatched, stillCached } from './support/watch.js'

type Mutation = (p: CachedClient, f: Fixture) => Promise<unknown>

/** Every mutation kind, nested writes at depth, and referential actions. */
const MUTATIONS: Record<string, Mutation> = {
  'create (with nested create, connect, connectOrCreate)': (p, f) =>
    p.post.create({
      data: {
        title: 'New',
        author: { connect: { id: f.carol } },
        tags: {
          connect: [{ id: f.tags.news }],
          connectOrCreate: [{ where: { name: 'fresh' }, create: { name: 'fresh' } }],
        },
        comments: { create: [{ body: 'c', author: { connect: { id: f.alice } } }] },
      },
    }),
  'create with a to-one nested create (new author)': (p) =>
    p.post.create({
      data: { title: 'By newcomer', author: { create: { email: 'new@example.com', name: 'Alice' } } },
    }),
  'create with explicit primary key': (p) => p.setting.create({ data: { key: 'lang', value: 'en' } }),
  createMany: (p, f) =>
    p.post.createMany({
      data: [
        { title: 'm1', authorId: f.bob },
        { title: 'm2', authorId: f.carol, published: true },
      ],
    }),
  createManyAndReturn: (p) => p.tag.createManyAndReturn({ data: [{ name: 'x' }, { name: 'y' }] }),
  'update by primary key': (p, f) => p.user.update({ where: { id: f.alice }, data: { name: 'Alicia' } }),
  'update by a unique non-key field': (p) =>
    p.user.update({ where: { email: 'bob@example.com' }, data: { name: 'Robert' }, select: { name: true } }),
  'update that changes the primary key': (p) =>
    p.setting.update({ where: { key: 'theme' }, data: { key: 'mode' } }),
  'update with nested set / disconnect on implicit m2m': (p, f) =>
    p.post.update({ where: { id: f.posts.hello }, data: { tags: { set: [{ id: f.tags.tech }] } } }),
  'update re-pointing a foreign key (to-one connect)': (p, f) =>
    p.post.update({ where: { id: f.posts.other }, data: { author: { connect: { id: f.alice } } } }),
  'update connecting children (foreign key on the other side)': (p, f) =>
    p.user.update({ where: { id: f.carol }, data: { posts: { connect: [{ id: f.posts.draft }] } } }),
  'update disconnecting an optional parent (SetNull side)': (p, f) =>
    p.user.update({ where: { id: f.bob }, data: { manager: { disconnect: true } } }),
  'update on a named implicit m2m': (p, f) =>
    p.group.update({
      where: { id: f.groups.admins },
      data: { users: { connect: [{ id: f.bob }], disconnect: [{ id: f.alice }] } },
    }),
  'nested writes three levels deep': (p, f) =>
    p.user.update({
      where: { id: f.alice },
      data: {
        posts: {
          update: {
            where: { id: f.posts.hello },
            data: {
              title: 'Hello again',
              comments: { create: [{ body: 'deep' }], deleteMany: { body: 'anonymous' } },
              tags: { create: [{ name: 'deep-tag' }] },
            },
          },
          upsert: { where: { id: 9999 }, create: { title: 'upserted' }, update: { title: 'never' } },
          updateMany: { where: { published: false }, data: { views: { increment: 100 } } },
        },
        groups: { create: [{ name: 'nested-group' }] },
        memberships: { create: [{ team: { connect: { id: f.teams.blue } } }] },
      },
    }),
  'nested delete and deleteMany': (p, f) =>
    p.user.update({
      where: { id: f.alice },
      data: { posts: { delete: [{ id: f.posts.draft }] }, memberships: { deleteMany: {} } },
    }),
  'to-one nested update and upsert': (p, f) =>
    p.post.update({
      where: { id: f.posts.other },
      data: {
        author: {
          update: {
            name: 'Bobby',
            manager: { upsert: { create: { email: 'm@x', name: 'M' }, update: { name: 'Boss' } } },
          },
        },
      },
    }),
  updateMany: (p) => p.post.updateMany({ where: { published: true }, data: { views: { increment: 1 } } }),
  updateManyAndReturn: (p) =>
    p.user.updateManyAndReturn({ where: { name: { startsWith: 'B' } }, data: { name: 'B.' } }),
  'upsert (update branch)': (p) =>
    p.setting.upsert({
      where: { key: 'theme' },
      create: { key: 'theme', value: 'x' },
      update: { value: 'dark' },
    }),
  'upsert (create branch, composite id)': (p, f) =>
    p.membership.upsert({
      where: { userId_teamId: { userId: f.carol, teamId: f.teams.red } },
      create: { userId: f.carol, teamId: f.teams.red, role: 'new' },
      update: { role: 'never' },
    }),
  'update of a composite-id row': (p, f) =>
    p.membership.update({
      where: { userId_teamId: { userId: f.alice, teamId: f.teams.red } },
      data: { role: 'owner' },
    }),
  'delete with cascades (posts, comments, memberships) and SetNull (reports, comment authors)': (p, f) =>
    p.user.delete({ where: { id: f.alice } }),
  'delete of an m2m member (join rows cascade)': (p, f) => p.tag.delete({ where: { id: f.tags.news } }),
  'delete by unique non-key field': (p) => p.user.delete({ where: { email: 'carol@example.com' } }),
  deleteMany: (p) => p.post.deleteMany({ where: { published: true } }),
  'deleteMany of a referenced table': (p) => p.user.deleteMany({ where: { name: 'Bob' } }),
}

describe.each(DIALECTS)('invalidation on %s', (dialect) => {
  let database!: TestDatabase
  let h!: Harness
  let f!: Fixture

  seededSuite(dialect, {}, (state) => {
    ;({ database, h, f } = state)
  })

  it.each(Object.entries(MUTATIONS))(
    '%s: every cached read equals the database afterwards',
    async (_name, mutate) => {
      await primeWatched(h.prisma, h.probe, f)
      await mutate(h.prisma, f)
      await expectWatchedConsistent(h.prisma, h.db as unknown as CachedClient, f)
    },
  )

  it('a write to one row leaves primary-key lookups of other rows cached', async () => {
    await primeWatched(h.prisma, h.probe, f)
    await h.prisma.user.update({ where: { id: f.alice }, data: { name: 'Alicia' } })
    const cached = await stillCached(h.prisma, h.probe, f)
    expect(cached).toContain('bobById')
    expect(cached).toContain('carolByIdOrThrow')
    expect(cached).toContain('themeSetting')
    expect(cached).toContain('postCount')
    // Alice's own lookup was refreshed by write-through: cached, and fresh.
    expect(cached).toContain('aliceById')
    expect(cached).not.toContain('usersAll')
    expect(cached).not.toContain('aliceByEmail')
    expect(cached).not.toContain('postsByAlice')
    await expectWatchedConsistent(h.prisma, h.db as unknown as CachedClient, f)
  })

  it('a write to an unrelated table keeps reads of other tables cached', async () => {
    await primeWatched(h.prisma, h.probe, f)
    await h.prisma.setting.update({ where: { key: 'theme' }, data: { value: 'dark' } })
    const cached = await stillCached(h.prisma, h.probe, f)
    expect(cached).not.toContain('settingsAll')
    for (const name of ['usersAll', 'postsWithTags', 'teamsWithMembers', 'aliceById', 'viewsSum']) {
      expect(cached).toContain(name)
    }
  })

  it('a tag write reaches reads that touch tags through the join table, and only those', async () => {
    await primeWatched(h.prisma, h.probe, f)
    await h.prisma.tag.update({ where: { id: f.tags.news }, data: { name: 'headlines' } })
    const cached = await stillCached(h.prisma, h.probe, f)
    for (const name of ['postsWithTags', 'tagsWithPosts', 'postsTaggedNews'])
      expect(cached).not.toContain(name)
    for (const name of ['usersAll', 'aliceById', 'postCount', 'commentsWithAuthor'])
      expect(cached).toContain(name)
    await expectWatchedConsistent(h.prisma, h.db as unknown as CachedClient, f)
  })

  it('deleting a user bumps the tables its cascades and SetNull actions rewrite', async () => {
    const events: { tags: readonly string[] }[] = []
    const local = await openHarness(database, { cache: h.cache, onWrite: (event) => void events.push(event) })
    try {
      await local.prisma.user.delete({ where: { id: f.alice } })
      const tags = new Set(events.flatMap((e) => e.tags))
      for (const tag of [
        't:users',
        'r:users:1',
        't:posts',
        'b:posts',
        't:comments',
        'b:comments',
        't:memberships',
      ]) {
        expect(tags).toContain(tag)
      }
      expect(tags).toContain('t:_usergroups')
      expect(tags).toContain('t:_posttotag')
      expect(tags).not.toContain('t:tags')
      expect(tags).not.toContain('t:teams')
      expect(await h.db.post.count({ where: { authorId: f.alice } })).toBe(0)
      expect((await h.db.user.findUniqueOrThrow({ where: { id: f.bob } })).managerId).toBeNull()
    } finally {
      await local.close()
    }
  })
})
