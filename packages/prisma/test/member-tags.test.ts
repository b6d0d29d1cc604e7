import { createCache, InvalidOptionError } from '@ormcache/core'
import { describe, expect, it } from 'vitest'
import { cacheExtension, type ReadEvent, type WriteEvent } from '../src/index.js'
import type { CachedClient, Harness } from './support/clients.js'
import { DIALECTS } from './support/databases.js'
import type { Fixture } from './support/fixtures.js'
import { queriesAfter } from './support/queries-after.js'
import { seededSuite } from './support/seeded-suite.js'

/**
 * `listTags: 'members'` (docs/design.md, "Lists without row tags"): what a pinned list depends
 * on, and what each kind of write bumps so that those lists stay fresh. The freshness of every
 * write kind against such lists is in precision.test.ts, include-split.test.ts and
 * relation-precision.test.ts, which run in this mode too.
 */
describe.each(DIALECTS)('member tags on %s', (dialect) => {
  let h!: Harness
  let f!: Fixture
  const reads: ReadEvent[] = []
  const writes: WriteEvent[] = []
  seededSuite(
    dialect,
    {
      listTags: 'members',
      onRead: (event) => reads.push(event),
      onWrite: (event) => {
        writes.push(event)
      },
    },
    (state) => {
      ;({ h, f } = state)
    },
  )
  const db = () => h.db as unknown as CachedClient
  const lastRead = () => reads.at(-1)!
  const lastWrite = () => writes.at(-1)!

  it('a pinned list depends on its pins, one member tag per branch and no row tag', async () => {
    await h.prisma.post.findMany({ where: { authorId: f.bob }, orderBy: { id: 'asc' } })
    const tags = lastRead().tags
    expect(tags).toContain(`m:posts:author_id=${f.bob}`)
    expect(tags).toContain(`v:posts:author_id=${f.bob}`)
    expect(tags).toContain('l:posts:author_id')
    expect(tags).toContain('a:posts:author_id')
    expect(tags).toContain('u:posts')
    expect(tags).toContain('b:posts')
    expect(tags.filter((tag) => tag.startsWith('r:') || tag === 't:posts')).toEqual([])
  })

  it('children of loaded parents depend, before the load, on what may move them out unnamed', async () => {
    await h.prisma.user.findMany({ where: { id: { in: [f.alice, f.bob] } }, include: { posts: true } })
    const tags = reads.filter((event) => event.model === 'User').at(-1)!.tags
    expect(tags).toContain('l:posts:author_id')
    expect(tags).toContain('u:posts')
    expect(tags.filter((tag) => tag.startsWith('r:'))).toEqual([])
  })

  it('a branch pinned on a boolean and a key takes the key’s member tag', async () => {
    await h.prisma.post.findMany({
      where: { OR: [{ authorId: f.bob }, { published: true, authorId: f.carol }] },
    })
    const members = lastRead()
      .tags.filter((tag) => tag.startsWith('m:'))
      .sort()
    expect(members).toEqual([`m:posts:author_id=${f.bob}`, `m:posts:author_id=${f.carol}`].sort())
  })

  it('a list pinned only on a boolean takes the boolean’s member tag', async () => {
    await h.prisma.post.findMany({ where: { published: true } })
    expect(lastRead().tags.filter((tag) => tag.startsWith('m:'))).toEqual(['m:posts:published=1'])
  })

  it('an update names every pinnable value it kept, from the row the database returned', async () => {
    await h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'x', views: 6 } })
    const tags = lastWrite().tags
    expect(tags).toContain(`m:posts:author_id=${f.bob}`)
    expect(tags).toContain(`m:posts:id=${f.posts.other}`)
    expect(tags).toContain('m:posts:published=1')
    // It set views: that column's rows moved (column-value and column-left tags), none kept.
    expect(tags.filter((tag) => tag.startsWith('m:posts:views'))).toEqual([])
    expect(tags).not.toContain('u:posts')
  })

  it('an update whose select leaves a pinnable field out bumps the unnamed-member tag', async () => {
    await h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'y' }, select: { id: true } })
    expect(lastWrite().tags).toContain('u:posts')
  })

  it('a nested update and a relink bump the unnamed-member tag of the rows they change', async () => {
    await h.prisma.user.update({
      where: { id: f.alice },
      data: { posts: { update: { where: { id: f.posts.hello }, data: { title: 'deep' } } } },
    })
    expect(lastWrite().tags).toContain('u:posts')
    await h.prisma.user.update({
      where: { id: f.bob },
      data: { posts: { connect: [{ id: f.posts.draft }] } },
    })
    expect(lastWrite().tags).toContain('u:posts')
  })

  it('a list stays cached across a write to a row it does not hold, and is fresh after one it does', async () => {
    const bobs = async () => h.prisma.post.findMany({ where: { authorId: f.bob }, orderBy: { id: 'asc' } })
    const unrelated = () => h.prisma.post.update({ where: { id: f.posts.hello }, data: { title: 'z' } })
    expect(await queriesAfter(h, bobs, unrelated)).toBe(0)
    const held = () => h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'held' } })
    expect(await queriesAfter(h, bobs, held)).toBeGreaterThan(0)
    expect(await bobs()).toEqual(
      await db().post.findMany({ where: { authorId: f.bob }, orderBy: { id: 'asc' } }),
    )
  })

  it('race: a held row changes while the list is loading — never stale', async () => {
    const paused = h.probe.pauseNext(/^SELECT .*FROM ["`](public|main)["`]\.["`]posts["`]/, { after: true })
    const reader = h.prisma.post.findMany({ where: { authorId: f.bob } })
    const pending = reader.then((rows) => rows)
    await paused.reached
    await h.prisma.post.update({ where: { id: f.posts.other }, data: { title: 'during' } })
    paused.release()
    expect((await pending)[0]!.title).toBe('Other')
    expect((await h.prisma.post.findMany({ where: { authorId: f.bob } }))[0]!.title).toBe('during')
  })
})

describe('listTags option', () => {
  it('refuses anything but rows or members, naming the option', () => {
    const cache = createCache()
    const attempt = () => cacheExtension({ cache, listTags: 'all' as never })
    expect(attempt).toThrow(InvalidOptionError)
    expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'listTags' }))
    expect(() => cacheExtension({ cache, listTags: 'members' })).not.toThrow()
  })
})
