import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ORMS, type OrmName } from '../src/blog/types.js'
import { random } from '../src/db/seed-data.js'
import { removeTempDirs, startTestDemo, type TestDemo } from './support/demo.js'

let demo: TestDemo

beforeAll(async () => {
  demo = await startTestDemo()
})

afterAll(async () => {
  await demo?.close()
  removeTempDirs()
})

const other = (orm: OrmName): OrmName => (orm === 'prisma' ? 'typeorm' : 'prisma')

/** Reads `path` twice through `orm`, so its result is cached (the second read is a hit). */
async function warm(orm: OrmName, path: string) {
  await demo.get(`/${orm}${path}`)
  const hit = await demo.get(`/${orm}${path}`)
  expect(hit.dbQueries, `${orm}${path} should be a cache hit once warm`).toBe(0)
  return hit.json
}

describe.each(ORMS)('a write through %s', (writer) => {
  const reader = other(writer)

  it(`is seen at once by ${other(writer)}'s cached profile (then cached again)`, async () => {
    const id = writer === 'prisma' ? 21 : 22
    const before = await warm(reader, `/users/${id}`)
    const patched = await demo.call('PATCH', `/${writer}/users/${id}`, { name: `Renamed by ${writer}` })
    expect(patched.status).toBe(200)
    const after = await demo.get(`/${reader}/users/${id}`)
    expect(after.json).toEqual({ ...before, name: `Renamed by ${writer}` })
    expect(after.dbQueries).toBeGreaterThan(0)
    expect((await demo.get(`/${reader}/users/${id}`)).dbQueries).toBe(0)
  })

  it(`creating a post refreshes ${other(writer)}'s feed, tag feed, tag counts and homepage`, async () => {
    const feed = await warm(reader, '/feed?take=5')
    const tagged = await warm(reader, '/feed?tag=caching&take=100')
    const tags = await warm(reader, '/tags')
    const home = await warm(reader, '/home')
    const fresh = `fresh-${writer}`
    const created = await demo.call('POST', `/${writer}/posts`, {
      authorId: 6,
      title: `New via ${writer}`,
      body: 'b',
      tags: ['caching', fresh],
    })
    expect(created.status).toBe(201)
    const summary = {
      id: created.json.id,
      title: created.json.title,
      views: 0,
      createdAt: created.json.createdAt,
      author: created.json.author,
      tags: created.json.tags,
    }

    const feedAfter = (await demo.get(`/${reader}/feed?take=5`)).json
    expect(feedAfter[0]).toEqual(summary)
    expect(feedAfter.slice(1)).toEqual(feed.slice(0, 4))
    expect((await demo.get(`/${reader}/feed?tag=caching&take=100`)).json).toEqual(
      [summary, ...tagged].slice(0, 100),
    )
    const tagsAfter = (await demo.get(`/${reader}/tags`)).json
    expect(tagsAfter.find((t: { name: string }) => t.name === fresh)).toEqual({ name: fresh, posts: 1 })
    expect(tagsAfter.find((t: { name: string }) => t.name === 'caching').posts).toBe(
      tags.find((t: { name: string }) => t.name === 'caching').posts + 1,
    )
    const homeAfter = (await demo.get(`/${reader}/home`)).json
    expect(homeAfter.latest[0]).toEqual(summary)
    expect(homeAfter.totals).toEqual({ ...home.totals, posts: home.totals.posts + 1 })
  })

  it(`a comment appears on ${other(writer)}'s cached post and homepage totals`, async () => {
    const post = await warm(reader, '/posts/30')
    const home = await warm(reader, '/home')
    const comment = await demo.call('POST', `/${writer}/posts/30/comments`, {
      authorId: 8,
      body: `from ${writer}`,
    })
    expect(comment.status).toBe(201)
    expect((await demo.get(`/${reader}/posts/30`)).json.comments).toEqual([...post.comments, comment.json])
    expect((await demo.get(`/${reader}/home`)).json.totals.comments).toBe(home.totals.comments + 1)
  })

  it(`deleting a post (with its comments and tag links, by cascade) is seen by ${other(writer)}`, async () => {
    const id = writer === 'prisma' ? 40 : 41
    const post = await warm(reader, `/posts/${id}`)
    await warm(reader, '/feed?take=100')
    const tags = await warm(reader, '/tags')
    const home = await warm(reader, '/home')
    expect((await demo.call('DELETE', `/${writer}/posts/${id}`)).status).toBe(204)

    expect((await demo.get(`/${reader}/posts/${id}`)).status).toBe(404)
    expect((await demo.get(`/${reader}/feed?take=100`)).json.map((p: { id: number }) => p.id)).not.toContain(
      id,
    )
    const tagsAfter = (await demo.get(`/${reader}/tags`)).json
    for (const name of post.tags) {
      expect(tagsAfter.find((t: { name: string }) => t.name === name).posts).toBe(
        tags.find((t: { name: string }) => t.name === name).posts - 1,
      )
    }
    expect((await demo.get(`/${reader}/home`)).json.totals).toEqual({
      ...home.totals,
      posts: home.totals.posts - 1,
      comments: home.totals.comments - post.comments.length,
    })
  })
})

it("flushed view counts reach both ORMs' cached posts", async () => {
  for (const orm of ORMS) await warm(orm, '/posts/50')
  const before = (await demo.get('/prisma/posts/50')).json.views
  await demo.call('POST', '/typeorm/posts/50/views')
  await demo.call('POST', '/prisma/posts/50/views')
  await demo.call('POST', '/typeorm/posts/50/views')
  await demo.views.flushNow()
  for (const blog of [demo.blogs.prisma, demo.blogs.typeorm]) {
    // Straight from each ORM's cached read, without the pending-count overlay.
    expect((await blog.post({ cache: true }, 50))?.views).toBe(before + 3)
    expect(await blog.storedViews(50)).toBe(before + 3)
  }
})

it('randomized concurrent reads and writes through both ORMs leave every cached read equal to the database', async () => {
  const seed = Number(process.env.ORMCACHE_DEMO_SEED ?? 20_240_601)
  const next = random(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!
  const orm = () => pick(ORMS)
  const userIds = [30, 31, 32, 33]
  const postIds = [70, 71, 72, 73, 74, 75]
  const reads = [
    ...userIds.map((id) => `/users/${id}`),
    ...postIds.map((id) => `/posts/${id}`),
    '/feed?take=20',
    '/feed?tag=redis&take=50',
    '/tags',
    '/home',
    '/users?take=50',
  ]
  const created: number[] = []
  const operation = async (i: number) => ({ i, ...(await step(i)) })
  const step = async (i: number) => {
    const roll = next()
    const send = async (method: string, path: string, body?: unknown) => ({
      request: `${method} ${path}`,
      ...(await demo.call(method, path, body)),
    })
    if (roll < 0.45) return send('GET', `/${orm()}${pick(reads)}`)
    if (roll < 0.65) return send('PATCH', `/${orm()}/users/${pick(userIds)}`, { bio: `bio ${i}` })
    if (roll < 0.75)
      return send('POST', `/${orm()}/posts/${pick(postIds)}/comments`, {
        authorId: pick(userIds),
        body: `c${i}`,
      })
    if (roll < 0.85) {
      const reply = await send('POST', `/${orm()}/posts`, {
        authorId: pick(userIds),
        title: `t${i}`,
        body: 'b',
        tags: [pick(['redis', 'sqlite', `r${i % 3}`])],
      })
      created.push(reply.json.id)
      return reply
    }
    if (roll < 0.92 && created.length > 0) return send('DELETE', `/${orm()}/posts/${created.shift()}`)
    return send('POST', `/${orm()}/posts/${pick(postIds)}/views`)
  }
  // Waves of 12 operations in flight at once, 240 in all.
  for (let wave = 0; wave < 20; wave++) {
    const replies = await Promise.all(Array.from({ length: 12 }, (_, j) => operation(wave * 12 + j)))
    for (const reply of replies)
      expect(reply.status, `#${reply.i} ${reply.request}: ${JSON.stringify(reply.json)}`).toBeLessThan(300)
  }
  await demo.views.flushNow()
  for (const path of reads) {
    const truth = (await demo.get(`/prisma${path}${path.includes('?') ? '&' : '?'}cache=off`)).json
    for (const reader of ORMS) {
      expect((await demo.get(`/${reader}${path}`)).json, `${reader}${path} (seed ${seed})`).toEqual(truth)
    }
  }
})
