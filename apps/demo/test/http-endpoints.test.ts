import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ORMS } from '../src/blog/types.js'
import { SEED_SIZES } from '../src/db/seed-data.js'
import { removeTempDirs, startTestDemo, type TestDemo } from './support/demo.js'

let demo: TestDemo

beforeAll(async () => {
  demo = await startTestDemo()
})

afterAll(async () => {
  await demo?.close()
  removeTempDirs()
})

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe.each(ORMS)('/%s', (orm) => {
  it('GET /users lists users in id order, honouring take', async () => {
    const reply = await demo.get(`/${orm}/users?take=5`)
    expect(reply.status).toBe(200)
    expect(reply.json.map((u: { id: number }) => u.id)).toEqual([1, 2, 3, 4, 5])
    expect(reply.json[0]).toEqual({
      id: 1,
      email: expect.stringContaining('@example.com'),
      name: expect.any(String),
      bio: expect.any(String),
      createdAt: expect.stringMatching(ISO),
    })
    expect(reply.headers['x-orm']).toBe(orm)
  })

  it('GET /users/:id is a cached primary-key lookup: the second read never reaches the database', async () => {
    const first = await demo.get(`/${orm}/users/7`)
    expect(first.status).toBe(200)
    expect(first.json.id).toBe(7)
    expect(first.dbQueries).toBeGreaterThan(0)
    const second = await demo.get(`/${orm}/users/7`)
    expect(second.json).toEqual(first.json)
    expect(second.dbQueries).toBe(0)
    const uncached = await demo.get(`/${orm}/users/7?cache=off`)
    expect(uncached.json).toEqual(first.json)
    expect(uncached.dbQueries).toBeGreaterThan(0)
    expect(uncached.headers['x-cache-mode']).toBe('off')
  })

  it('POST /users creates a user; a taken email is 409', async () => {
    const email = `new.${orm}@example.com`
    const created = await demo.call('POST', `/${orm}/users`, { email, name: 'New Person' })
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({ email, name: 'New Person', bio: '' })
    expect(created.json.createdAt).toMatch(ISO)
    const read = await demo.get(`/${orm}/users/${created.json.id}`)
    expect(read.json).toEqual(created.json)
    const again = await demo.call('POST', `/${orm}/users`, { email, name: 'Twin' })
    expect(again.status).toBe(409)
    expect(again.json.error).toEqual({ code: 'CONFLICT', message: `email ${email} is already taken` })
  })

  it('PATCH /users/:id updates the profile and the next read is fresh', async () => {
    const before = await demo.get(`/${orm}/users/3`)
    const patched = await demo.call('PATCH', `/${orm}/users/3`, { bio: `edited through ${orm}` })
    expect(patched.status).toBe(200)
    expect(patched.json).toEqual({ ...before.json, bio: `edited through ${orm}` })
    expect((await demo.get(`/${orm}/users/3`)).json.bio).toBe(`edited through ${orm}`)
  })

  it('GET /posts/:id returns the post with author, sorted tags and comments', async () => {
    const reply = await demo.get(`/${orm}/posts/5`)
    expect(reply.status).toBe(200)
    expect(reply.json).toMatchObject({
      id: 5,
      published: true,
      author: { id: expect.any(Number), name: expect.any(String) },
    })
    expect(reply.json.tags.length).toBeGreaterThan(0)
    expect([...reply.json.tags].sort()).toEqual(reply.json.tags)
    for (const comment of reply.json.comments) {
      expect(comment).toEqual({
        id: expect.any(Number),
        body: expect.any(String),
        createdAt: expect.stringMatching(ISO),
        author: { id: expect.any(Number), name: expect.any(String) },
      })
    }
    const ids = reply.json.comments.map((c: { id: number }) => c.id)
    expect([...ids].sort((a: number, b: number) => a - b)).toEqual(ids)
  })

  it('POST /posts creates a post with new and existing tags; DELETE removes it', async () => {
    const created = await demo.call('POST', `/${orm}/posts`, {
      authorId: 2,
      title: `A post through ${orm}`,
      body: 'Body',
      tags: ['redis', `only-${orm}`],
    })
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({
      title: `A post through ${orm}`,
      views: 0,
      author: { id: 2 },
      comments: [],
      published: true,
    })
    expect(created.json.tags).toEqual([`only-${orm}`, 'redis'])
    const id = created.json.id
    expect((await demo.get(`/${orm}/posts/${id}`)).json).toEqual(created.json)

    const removed = await demo.call('DELETE', `/${orm}/posts/${id}`)
    expect(removed.status).toBe(204)
    expect((await demo.get(`/${orm}/posts/${id}`)).status).toBe(404)
    const again = await demo.call('DELETE', `/${orm}/posts/${id}`)
    expect(again.status).toBe(404)
    expect(again.json.error.code).toBe('NOT_FOUND')
  })

  it('POST /posts/:id/comments adds a comment visible on the post', async () => {
    const reply = await demo.call('POST', `/${orm}/posts/9/comments`, {
      authorId: 4,
      body: `hello from ${orm}`,
    })
    expect(reply.status).toBe(201)
    expect(reply.json).toMatchObject({ body: `hello from ${orm}`, author: { id: 4 } })
    const post = await demo.get(`/${orm}/posts/9`)
    expect(post.json.comments.at(-1)).toEqual(reply.json)
  })

  it('POST /posts/:id/views counts a view and GET shows it before the flush', async () => {
    const before = (await demo.get(`/${orm}/posts/11`)).json.views
    const counted = await demo.call('POST', `/${orm}/posts/11/views`)
    expect(counted.status).toBe(200)
    expect(counted.json).toEqual({ postId: 11, views: before + 1 })
    expect((await demo.get(`/${orm}/posts/11`)).json.views).toBe(before + 1)
  })

  it('GET /feed lists published posts newest first, optionally by tag', async () => {
    const feed = await demo.get(`/${orm}/feed?take=5`)
    expect(feed.status).toBe(200)
    expect(feed.json).toHaveLength(5)
    const ids = feed.json.map((p: { id: number }) => p.id)
    expect([...ids].sort((a: number, b: number) => b - a)).toEqual(ids)
    const tagged = await demo.get(`/${orm}/feed?tag=redis&take=100`)
    expect(tagged.json.length).toBeGreaterThan(0)
    for (const post of tagged.json) expect(post.tags).toContain('redis')
    expect((await demo.get(`/${orm}/feed?tag=no-such-tag`)).json).toEqual([])
  })

  it('GET /tags counts posts per tag', async () => {
    const tags = await demo.get(`/${orm}/tags`)
    expect(tags.status).toBe(200)
    expect(tags.json.length).toBeGreaterThanOrEqual(12)
    const names = tags.json.map((t: { name: string }) => t.name)
    expect([...names].sort()).toEqual(names)
    expect(tags.json.find((t: { name: string }) => t.name === 'redis').posts).toBeGreaterThan(0)
  })

  it('GET /home returns latest posts, top tags and totals', async () => {
    const home = await demo.get(`/${orm}/home`)
    expect(home.status).toBe(200)
    expect(home.json.latest).toHaveLength(10)
    expect(home.json.topTags).toHaveLength(8)
    const counts = home.json.topTags.map((t: { posts: number }) => t.posts)
    expect([...counts].sort((a: number, b: number) => b - a)).toEqual(counts)
    expect(home.json.totals.users).toBeGreaterThanOrEqual(SEED_SIZES.users)
    expect(home.json.totals.posts).toBeGreaterThanOrEqual(SEED_SIZES.posts - 1)
    expect(home.json.totals.comments).toBeGreaterThanOrEqual(SEED_SIZES.comments)
  })

  it('GET /trending returns the most viewed posts and where they came from', async () => {
    const reply = await demo.get(`/${orm}/trending`)
    expect(reply.status).toBe(200)
    expect(reply.json.posts).toHaveLength(5)
    const views = reply.json.posts.map((p: { views: number }) => p.views)
    expect([...views].sort((a: number, b: number) => b - a)).toEqual(views)
    expect(['miss', 'hit', 'shared']).toContain(reply.json.source)
    expect((await demo.get(`/${orm}/trending?cache=off`)).json.source).toBe('bypass')
  })

  describe('bad input', () => {
    it.each([
      ['GET', 'users/999999', 'user 999999 does not exist'],
      ['GET', 'posts/999999', 'post 999999 does not exist'],
      ['PATCH', 'users/999999', 'user 999999 does not exist'],
      ['DELETE', 'posts/999999', 'post 999999 does not exist'],
      ['POST', 'posts/999999/views', 'post 999999 does not exist'],
      ['POST', 'posts/999999/comments', 'post 999999 does not exist'],
    ])('%s %s with an unknown id is 404', async (method, path, message) => {
      const body =
        method === 'PATCH'
          ? { name: 'x' }
          : path.endsWith('comments')
            ? { authorId: 1, body: 'x' }
            : undefined
      const reply = await demo.call(method, `/${orm}/${path}`, body)
      expect(reply.status).toBe(404)
      expect(reply.json).toEqual({ error: { code: 'NOT_FOUND', message } })
    })

    it.each([
      ['users/abc', 'params/id must be a positive integer'],
      ['users/0', 'params/id must be between 1 and 2147483647'],
      ['users/99999999999', 'params/id must be between 1 and 2147483647'],
      ['users?take=0', 'querystring/take must be between 1 and 100'],
      ['users?take=many', 'querystring/take must be a positive integer'],
      ['feed?take=101', 'querystring/take must be between 1 and 100'],
      ['home?cache=maybe', 'querystring/cache must be equal to one of the allowed values'],
    ])('GET %s is 400: %s', async (path, message) => {
      const reply = await demo.get(`/${orm}/${path}`)
      expect(reply.status).toBe(400)
      expect(reply.json).toEqual({ error: { code: 'INVALID_FIELD', message } })
    })

    it.each([
      [
        'POST',
        'posts',
        '{"title": ',
        'MALFORMED_JSON',
        'the body is not valid JSON (content-type says application/json)',
      ],
      [
        'POST',
        'posts',
        '',
        'MALFORMED_JSON',
        "Body cannot be empty when content-type is set to 'application/json'",
      ],
      ['POST', 'posts', { title: 'x', body: 'y' }, 'INVALID_FIELD', 'body is missing the field "authorId"'],
      [
        'POST',
        'posts',
        { authorId: '1', title: 'x', body: 'y' },
        'INVALID_FIELD',
        'body/authorId must be integer',
      ],
      [
        'POST',
        'posts',
        { authorId: 1, title: '   ', body: 'y' },
        'INVALID_FIELD',
        'body/title must not be blank',
      ],
      [
        'POST',
        'posts',
        { authorId: 1, title: 'x', body: 'y', tags: ['Not Valid'] },
        'INVALID_FIELD',
        'body/tags/0 must be 1-30 lowercase letters, digits or dashes',
      ],
      [
        'POST',
        'posts',
        { authorId: 1, title: 'x', body: 'y', draft: true },
        'INVALID_FIELD',
        'body has an unknown field "draft"',
      ],
      [
        'POST',
        'posts',
        { authorId: 999999, title: 'x', body: 'y' },
        'INVALID_FIELD',
        'body/authorId refers to user 999999, which does not exist',
      ],
      [
        'POST',
        'posts/1/comments',
        { authorId: 999999, body: 'y' },
        'INVALID_FIELD',
        'body/authorId refers to user 999999, which does not exist',
      ],
      [
        'POST',
        'users',
        { email: 'not-an-email', name: 'x' },
        'INVALID_FIELD',
        'body/email must match format "email"',
      ],
      ['PATCH', 'users/1', {}, 'INVALID_FIELD', 'body must NOT have fewer than 1 properties'],
      ['PATCH', 'users/1', { name: 42 }, 'INVALID_FIELD', 'body/name must be string'],
    ])('%s %s with %j is 400 %s', async (method, path, body, code, message) => {
      const reply = await demo.call(method, `/${orm}/${path}`, body)
      expect(reply.status).toBe(400)
      expect(reply.json).toEqual({ error: { code, message } })
    })

    it('a body of a type the API does not speak is 415; plain text is not an object (400)', async () => {
      const post = (type: string) =>
        demo.app.inject({
          method: 'POST',
          url: `/${orm}/posts`,
          payload: '<post/>',
          headers: { 'content-type': type },
        })
      const xml = await post('application/xml')
      expect(xml.statusCode).toBe(415)
      expect(xml.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE')
      const text = await post('text/plain')
      expect(text.statusCode).toBe(400)
      expect(text.json().error).toEqual({ code: 'INVALID_FIELD', message: 'body must be object' })
    })
  })
})

describe('both ORMs', () => {
  it.each([
    '/users?take=10',
    '/users/12',
    '/posts/14',
    '/feed?take=15',
    '/feed?tag=sqlite',
    '/tags',
    '/home',
  ])('GET %s answers the same JSON through Prisma and TypeORM', async (path) => {
    const [prisma, typeorm] = await Promise.all([demo.get(`/prisma${path}`), demo.get(`/typeorm${path}`)])
    expect(prisma.status).toBe(200)
    expect(typeorm.json).toEqual(prisma.json)
  })

  it('an unknown route is a JSON 404', async () => {
    const reply = await demo.get('/mongoose/users/1')
    expect(reply.status).toBe(404)
    expect(reply.json).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /mongoose/users/1' } })
  })

  it('GET /health answers', async () => {
    expect((await demo.get('/health')).json).toEqual({ ok: true })
  })
})
