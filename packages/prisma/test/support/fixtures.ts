import type { BaseClient, CachedClient } from './clients.js'

export interface Fixture {
  alice: number
  bob: number
  carol: number
  posts: { hello: number; draft: number; other: number }
  tags: { news: number; tech: number }
  groups: { admins: number }
  teams: { red: number; blue: number }
}

/**
 * A small graph covering every relation kind of the test schema: alice manages bob (self
 * relation), posts with tags (implicit m2m) and comments (cascade + SetNull), a group (named
 * implicit m2m), team memberships (explicit m2m, composite id) and a setting (string id).
 */
export async function seed(client: BaseClient | CachedClient): Promise<Fixture> {
  const db = client as BaseClient
  const news = await db.tag.create({ data: { name: 'news' } })
  const tech = await db.tag.create({ data: { name: 'tech' } })
  const alice = await db.user.create({
    data: {
      email: 'alice@example.com',
      name: 'Alice',
      balance: '100.25',
      visits: 9007199254740993n,
      avatar: new Uint8Array([0, 1, 2, 254, 255]),
      profile: { theme: 'dark', tags: ['a', null, 1.5], nested: { deep: true } },
    },
  })
  const bob = await db.user.create({ data: { email: 'bob@example.com', name: 'Bob', managerId: alice.id } })
  const carol = await db.user.create({ data: { email: 'carol@example.com', name: 'Carol' } })
  const hello = await db.post.create({
    data: {
      title: 'Hello',
      published: true,
      views: 10,
      meta: { lang: 'en' },
      authorId: alice.id,
      tags: { connect: [{ id: news.id }, { id: tech.id }] },
      comments: { create: [{ body: 'first!', authorId: bob.id }, { body: 'anonymous' }] },
    },
  })
  const draft = await db.post.create({ data: { title: 'Draft', authorId: alice.id, views: 1 } })
  const other = await db.post.create({
    data: {
      title: 'Other',
      published: true,
      authorId: bob.id,
      views: 5,
      tags: { connect: [{ id: tech.id }] },
    },
  })
  const admins = await db.group.create({ data: { name: 'admins', users: { connect: [{ id: alice.id }] } } })
  const red = await db.team.create({ data: { name: 'red' } })
  const blue = await db.team.create({ data: { name: 'blue' } })
  await db.membership.create({ data: { userId: alice.id, teamId: red.id, role: 'lead' } })
  await db.membership.create({ data: { userId: bob.id, teamId: red.id } })
  await db.setting.create({ data: { key: 'theme', value: 'light' } })
  return {
    alice: alice.id,
    bob: bob.id,
    carol: carol.id,
    posts: { hello: hello.id, draft: draft.id, other: other.id },
    tags: { news: news.id, tech: tech.id },
    groups: { admins: admins.id },
    teams: { red: red.id, blue: blue.id },
  }
}
