import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ORMS } from '../src/blog/types.js'
import { removeTempDirs, startTestDemo, type TestDemo } from './support/demo.js'
import { OwnRedis } from './support/own-redis.js'

let redis: OwnRedis
let demo: TestDemo

beforeAll(async () => {
  redis = await OwnRedis.start()
  demo = await startTestDemo({ cacheUrl: redis.url, namespace: 'demo-outage' })
})

afterAll(async () => {
  try {
    await demo?.close()
  } finally {
    await redis?.crash()
    removeTempDirs()
  }
})

const PATHS = ['/users/4', '/posts/8', '/feed?take=5', '/tags', '/home']

it('keeps answering from the database while the cache store is down, and shows the errors', async () => {
  for (const orm of ORMS) for (const path of PATHS) await demo.get(`/${orm}${path}`)
  expect(demo.metrics.snapshot().total.cacheErrors).toBe(0)

  await redis.crash()

  // Reads: correct answers from the database, for every resource and both ORMs.
  for (let round = 0; round < 2; round++) {
    for (const orm of ORMS) {
      for (const path of PATHS) {
        const reply = await demo.get(`/${orm}${path}`)
        expect(reply.status, `${orm}${path} with the store down`).toBe(200)
        const truth = await demo.get(`/${orm}${path}${path.includes('?') ? '&' : '?'}cache=off`)
        expect(reply.json).toEqual(truth.json)
      }
    }
  }
  // Writes still work and are seen by the other ORM (nothing cached can be trusted or is used).
  const patched = await demo.call('PATCH', '/typeorm/users/4', { name: 'Changed during the outage' })
  expect(patched.status).toBe(200)
  expect((await demo.get('/prisma/users/4')).json.name).toBe('Changed during the outage')
  const created = await demo.call('POST', '/prisma/posts', {
    authorId: 1,
    title: 'Outage post',
    body: 'b',
    tags: ['redis'],
  })
  expect(created.status).toBe(201)
  expect((await demo.get('/typeorm/feed?take=1')).json[0].id).toBe(created.json.id)

  // A view with the queue down falls back to a synchronous database write.
  const stored = (await demo.blogs.prisma.storedViews(9))!
  const view = await demo.call('POST', '/typeorm/posts/9/views')
  expect(view.status).toBe(200)
  expect(view.json.views).toBe(stored + 1)
  expect(await demo.blogs.prisma.storedViews(9)).toBe(stored + 1)
  expect((await demo.views.stats()).fallbacks).toBeGreaterThanOrEqual(1)

  // The dashboard shows the errors (and its endpoint keeps answering).
  const response = await demo.get('/api/metrics')
  expect(response.status).toBe(200)
  const metrics = response.json
  expect(metrics.total.cacheErrors).toBeGreaterThan(0)
  expect(metrics.orms.prisma.cacheErrors + metrics.orms.typeorm.cacheErrors).toBe(metrics.total.cacheErrors)
  expect(metrics.errors.length).toBeGreaterThan(0)
  expect(metrics.errors[0]).toMatchObject({
    orm: expect.stringMatching(/prisma|typeorm/),
    code: expect.any(String),
    operation: expect.any(String),
  })
})

it('uses the store again once it is back', async () => {
  await redis.up()
  // Past the circuit breaker's reset and the recovery grace the store is trusted again.
  const deadline = Date.now() + 20_000
  let hit = false
  while (!hit && Date.now() < deadline) {
    await demo.get('/prisma/users/4')
    const again = await demo.get('/prisma/users/4')
    hit = again.dbQueries === 0 && again.json.name === 'Changed during the outage'
    if (!hit) await sleep(200)
  }
  expect(hit).toBe(true)
})
