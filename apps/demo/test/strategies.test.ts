import { setTimeout as sleep } from 'node:timers/promises'
import { rowTag, tableTag } from '@ormcache/core/adapter'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ORMS } from '../src/blog/types.js'
import { removeTempDirs, startTestDemo, type TestDemo } from './support/demo.js'

const demos: TestDemo[] = []

async function start(overrides: Parameters<typeof startTestDemo>[0] = {}): Promise<TestDemo> {
  const demo = await startTestDemo(overrides)
  demos.push(demo)
  return demo
}

afterEach(async () => {
  for (const demo of demos.splice(0)) await demo.close()
})

afterAll(() => removeTempDirs())

/** Polls until `check` holds (bounded), for effects that happen in the background. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

describe('lazy loading (cache-aside) on the profile', () => {
  it.each(ORMS)('%s: the first read loads from the database, the next ones are hits', async (orm) => {
    const demo = await start()
    const first = await demo.get(`/${orm}/users/12`)
    expect(first.dbQueries).toBeGreaterThan(0)
    for (let i = 0; i < 3; i++) {
      const again = await demo.get(`/${orm}/users/12`)
      expect(again.dbQueries).toBe(0)
      expect(again.json).toEqual(first.json)
    }
    expect(demo.caches[orm].stats().hits).toBeGreaterThanOrEqual(3)
  })
})

describe('write-through on profile edits', () => {
  it('prisma: the updated row is stored as the profile, so the next read is a hit with fresh data', async () => {
    const demo = await start()
    await demo.get('/prisma/users/15')
    const patched = await demo.call('PATCH', '/prisma/users/15', { name: 'Written Through', bio: 'fresh' })
    expect(patched.status).toBe(200)
    const read = await demo.get('/prisma/users/15')
    expect(read.dbQueries).toBe(0)
    expect(read.json).toEqual(patched.json)
    expect(read.json).toMatchObject({ name: 'Written Through', bio: 'fresh' })
  })

  it('typeorm: the next profile read is fresh (one load), and cached again after it', async () => {
    // @ormcache/typeorm invalidates the row on save but does not store it (no write-through),
    // so the first read after an edit goes to the database once.
    const demo = await start()
    await demo.get('/typeorm/users/16')
    const patched = await demo.call('PATCH', '/typeorm/users/16', { name: 'Edited' })
    const read = await demo.get('/typeorm/users/16')
    expect(read.json).toEqual(patched.json)
    expect(read.json.name).toBe('Edited')
    expect((await demo.get('/typeorm/users/16')).dbQueries).toBe(0)
  })
})

describe('write-behind on post view counters', () => {
  it('counts go to the cache at once and reach the database in one coalesced batch', async () => {
    const demo = await start()
    const stored = {
      80: (await demo.blogs.prisma.storedViews(80))!,
      81: (await demo.blogs.prisma.storedViews(81))!,
    }
    for (let i = 0; i < 10; i++) await demo.call('POST', `/${ORMS[i % 2]}/posts/80/views`)
    for (let i = 0; i < 5; i++) await demo.call('POST', `/${ORMS[i % 2]}/posts/81/views`)

    // Not in the database yet, but every reader sees the counts.
    expect(await demo.blogs.prisma.storedViews(80)).toBe(stored[80])
    expect(await demo.blogs.typeorm.storedViews(81)).toBe(stored[81])
    for (const orm of ORMS) {
      expect((await demo.get(`/${orm}/posts/80`)).json.views).toBe(stored[80] + 10)
      expect((await demo.get(`/${orm}/posts/81`)).json.views).toBe(stored[81] + 5)
    }
    const before = await demo.views.stats()
    expect(before).toMatchObject({ writes: 15, flushes: 0, queue: 'memory', durable: false })
    expect(before.pending).toBeGreaterThanOrEqual(2)

    const statements = demo.dbQueries('prisma')
    await demo.views.flushNow()
    const after = await demo.views.stats()
    expect(after).toMatchObject({ flushes: 1, flushedItems: 2, superseded: 13, pending: 0 })
    expect(await demo.blogs.prisma.storedViews(80)).toBe(stored[80] + 10)
    expect(await demo.blogs.typeorm.storedViews(81)).toBe(stored[81] + 5)
    // One transaction: BEGIN, the existence check, two UPDATEs, COMMIT — not one write per view.
    expect(demo.dbQueries('prisma') - statements).toBeLessThanOrEqual(6)
    for (const orm of ORMS) expect((await demo.get(`/${orm}/posts/80`)).json.views).toBe(stored[80] + 10)
  })

  it('the flush timer writes batches without being asked', async () => {
    const demo = await start({ viewFlushMs: 50 })
    const stored = (await demo.blogs.prisma.storedViews(82))!
    await Promise.all(Array.from({ length: 5 }, () => demo.call('POST', '/typeorm/posts/82/views')))
    await eventually(async () => (await demo.blogs.prisma.storedViews(82)) === stored + 5, 'the timed flush')
    expect((await demo.views.stats()).flushes).toBeGreaterThanOrEqual(1)
  })

  it('concurrent views of one post are all counted (no lost increments)', async () => {
    const demo = await start()
    const stored = (await demo.blogs.prisma.storedViews(83))!
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => demo.call('POST', `/${ORMS[i % 2]}/posts/83/views`)),
    )
    expect(new Set(replies.map((r) => r.json.views)).size).toBe(40)
    await demo.views.flushNow()
    expect(await demo.blogs.typeorm.storedViews(83)).toBe(stored + 40)
  })

  it('a post deleted before the flush is skipped, and the other counts still land', async () => {
    const demo = await start()
    const stored = (await demo.blogs.prisma.storedViews(85))!
    await demo.call('POST', '/prisma/posts/84/views')
    await demo.call('POST', '/prisma/posts/85/views')
    expect((await demo.call('DELETE', '/typeorm/posts/84')).status).toBe(204)
    await demo.views.flushNow()
    expect(await demo.blogs.prisma.storedViews(85)).toBe(stored + 1)
    expect((await demo.views.stats()).deadLettered).toBe(0)
  })
})

describe('tag invalidation on the feed', () => {
  it('a post created or deleted through either ORM invalidates the feed of both', async () => {
    const demo = await start()
    for (const orm of ORMS) await demo.get(`/${orm}/feed`)
    const created = await demo.call('POST', '/prisma/posts', {
      authorId: 1,
      title: 'Invalidate me',
      body: 'b',
      tags: ['feed-test'],
    })
    for (const orm of ORMS) {
      const feed = await demo.get(`/${orm}/feed`)
      expect(feed.dbQueries, `${orm} feed reloads after the create`).toBeGreaterThan(0)
      expect(feed.json[0].id).toBe(created.json.id)
    }
    const invalidated = demo.metrics.snapshot().invalidations.flatMap((i) => i.tags)
    expect(invalidated).toContain(tableTag('posts'))
    expect(invalidated).toContain(tableTag('_post_tags'))

    expect((await demo.call('DELETE', `/typeorm/posts/${created.json.id}`)).status).toBe(204)
    for (const orm of ORMS) {
      const feed = await demo.get(`/${orm}/feed`)
      expect(feed.json.map((p: { id: number }) => p.id)).not.toContain(created.json.id)
    }
    expect(demo.metrics.snapshot().invalidations.flatMap((i) => i.tags)).toContain(
      rowTag('posts', { id: created.json.id }),
    )
  })
})

describe('stampede protection on the homepage cold start', () => {
  it.each(ORMS)('%s: 40 concurrent cold homepages cost the database what one homepage costs', async (orm) => {
    const demo = await start()
    const one = await demo.get(`/${orm}/home?cache=off`)
    const perHomepage = one.dbQueries
    expect(perHomepage).toBeGreaterThanOrEqual(5)

    await demo.call('POST', '/api/cache/clear')
    const before = demo.dbQueries(orm)
    const replies = await Promise.all(Array.from({ length: 40 }, () => demo.get(`/${orm}/home`)))
    expect(demo.dbQueries(orm) - before).toBe(perHomepage)
    for (const reply of replies) expect(reply.json).toEqual(one.json)

    const uncached = demo.dbQueries(orm)
    await Promise.all(Array.from({ length: 40 }, () => demo.get(`/${orm}/home?cache=off`)))
    expect(demo.dbQueries(orm) - uncached).toBe(40 * perHomepage)
  })
})

describe('stale-while-revalidate on the slow trending query', () => {
  it.each(ORMS)('%s: after the TTL the old ranking is served at once while one refresh runs', async (orm) => {
    const demo = await start({ trendingDelayMs: 100, trendingTtlMs: 300, trendingStaleMs: 60_000 })
    const first = await demo.get(`/${orm}/trending`)
    expect(first.json.source).toBe('miss')
    expect((await demo.get(`/${orm}/trending`)).json.source).toBe('hit')

    // A new most-viewed post; trending is allowed to lag, so it is not invalidated by this.
    await demo.blogs.prisma.saveViews([{ postId: 95, views: 1_000_000 }])
    expect((await demo.get(`/${orm}/trending`)).json).toEqual({ ...first.json, source: 'hit' })

    await sleep(350)
    const stale = await demo.get(`/${orm}/trending`)
    expect(stale.json.source).toBe('stale')
    expect(stale.json.posts).toEqual(first.json.posts)

    await eventually(async () => {
      const reply = await demo.get(`/${orm}/trending`)
      return reply.json.source === 'hit' && reply.json.posts[0].id === 95
    }, 'the background refresh')
    expect(demo.caches[orm].stats().staleHits).toBeGreaterThanOrEqual(1)
  })
})
