import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ORMS } from '../src/blog/types.js'
import { runHomepageScenario } from '../src/scenario/homepage.js'
import { removeTempDirs, startTestDemo, type TestDemo } from './support/demo.js'
import { demoPostgresUrl } from './support/postgres.js'
import {
  clusterNodes,
  memcachedServers,
  redisUrl,
  requireCluster,
  requireMemcached,
  requireRedis,
} from './support/services.js'

afterAll(() => removeTempDirs())

/** The same checks against each real backend: the demo's behaviour must not depend on the store. */
function backendSuite(
  name: string,
  start: () => Promise<TestDemo>,
  expectations: { queue: string; dialect: string },
) {
  describe(name, () => {
    let demo: TestDemo

    beforeAll(async () => {
      demo = await start()
    })

    afterAll(async () => {
      await demo?.close()
    })

    it('serves every resource through both ORMs identically', async () => {
      for (const path of ['/users/3', '/posts/4', '/feed?take=5', '/tags', '/home']) {
        const prisma = await demo.get(`/prisma${path}`)
        expect(prisma.status, path).toBe(200)
        expect((await demo.get(`/typeorm${path}`)).json, path).toEqual(prisma.json)
      }
      expect((await demo.get('/api/metrics')).json.info.dialect).toBe(expectations.dialect)
    })

    it('caches reads: the second profile read never reaches the database', async () => {
      for (const orm of ORMS) {
        await demo.get(`/${orm}/users/5`)
        expect((await demo.get(`/${orm}/users/5`)).dbQueries).toBe(0)
      }
    })

    it('an update through TypeORM is read fresh through Prisma, and the other way round', async () => {
      await demo.get('/prisma/users/6')
      await demo.get('/typeorm/users/6')
      await demo.call('PATCH', '/typeorm/users/6', { bio: `typeorm on ${name}` })
      expect((await demo.get('/prisma/users/6')).json.bio).toBe(`typeorm on ${name}`)
      await demo.call('PATCH', '/prisma/users/6', { bio: `prisma on ${name}` })
      expect((await demo.get('/typeorm/users/6')).json.bio).toBe(`prisma on ${name}`)
      // Prisma's write-through: its own next read is a hit with the new row.
      const read = await demo.get('/prisma/users/6')
      expect(read.dbQueries).toBe(0)
      expect(read.json.bio).toBe(`prisma on ${name}`)
    })

    it('a post created through Prisma is on the TypeORM feed at once, and gone once deleted through TypeORM', async () => {
      await demo.get('/typeorm/feed')
      await demo.get('/prisma/feed')
      const created = await demo.call('POST', '/prisma/posts', {
        authorId: 2,
        title: `On ${name}`,
        body: 'b',
        tags: ['redis'],
      })
      expect((await demo.get('/typeorm/feed')).json[0].id).toBe(created.json.id)
      await demo.call('DELETE', `/typeorm/posts/${created.json.id}`)
      expect((await demo.get('/prisma/feed')).json.map((p: { id: number }) => p.id)).not.toContain(
        created.json.id,
      )
    })

    it('write-behind counts views and flushes them in one batch', async () => {
      const stored = (await demo.blogs.typeorm.storedViews(7))!
      for (let i = 0; i < 6; i++) await demo.call('POST', `/${ORMS[i % 2]}/posts/7/views`)
      expect((await demo.get('/typeorm/posts/7')).json.views).toBe(stored + 6)
      const stats = await demo.views.stats()
      expect(stats.queue).toBe(expectations.queue)
      await demo.views.flushNow()
      expect(await demo.blogs.prisma.storedViews(7)).toBe(stored + 6)
    })

    it('the homepage scenario: thousands of statements off, one homepage worth on', async () => {
      const url = await demo.listen()
      const perHomepage = (await demo.get('/typeorm/home?cache=off')).dbQueries
      const runs = await runHomepageScenario(url, {
        orms: ['typeorm', 'prisma'],
        modes: ['off', 'on'],
        requests: 150,
        concurrency: 15,
      })
      for (const run of runs) expect(run.failed, `${run.orm}/${run.cache}`).toBe(0)
      const typeorm = runs.filter((r) => r.orm === 'typeorm')
      expect(typeorm.map((r) => r.dbQueries)).toEqual([150 * perHomepage, perHomepage])
      const prisma = runs.filter((r) => r.orm === 'prisma')
      expect(prisma[0]!.dbQueries).toBeGreaterThanOrEqual(150 * 5)
      expect(prisma[1]!.dbQueries).toBe(prisma[0]!.dbQueries / 150)
      expect(demo.metrics.snapshot().total.cacheErrors).toBe(0)
    })
  })
}

backendSuite(
  'PostgreSQL + Redis',
  async () => {
    await requireRedis()
    return startTestDemo({
      databaseUrl: await demoPostgresUrl(),
      cacheUrl: redisUrl,
      namespace: 'demo-test-redis',
    })
  },
  { queue: 'redis-stream', dialect: 'postgres' },
)

backendSuite(
  'SQLite + Redis Cluster',
  async () => {
    await requireCluster()
    return startTestDemo({ cacheUrl: `redis+cluster://${clusterNodes}`, namespace: 'demo-test-cluster' })
  },
  { queue: 'redis-stream', dialect: 'sqlite' },
)

backendSuite(
  'PostgreSQL + Memcached',
  async () => {
    await requireMemcached()
    return startTestDemo({
      databaseUrl: await demoPostgresUrl(),
      cacheUrl: `memcached://${memcachedServers}`,
      namespace: 'demo-test-memcached',
    })
  },
  { queue: 'memory', dialect: 'postgres' },
)
