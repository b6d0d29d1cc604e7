import type { AddressInfo } from 'node:net'
import { type Cache, createCache, memoryQueue, type WriteBehindQueue } from '@ormcache/core'
import { type RedisStore, redisStreamQueue } from '@ormcache/core/redis'
import type { FastifyInstance } from 'fastify'
import type { DataSource } from 'typeorm'
import type { OrmName } from './blog/types.js'
import { shareStore } from './cache/shared-store.js'
import { type StoreChoice, storeFromUrl } from './cache/store-from-url.js'
import type { DemoConfig } from './config.js'
import { type SetupReport, setupDatabase } from './db/setup-database.js'
import { buildHttpApp } from './http/app.js'
import { streamRoutes } from './http/stream-routes.js'
import { DemoMetrics } from './metrics/demo-metrics.js'
import { tallyQuery } from './metrics/request-context.js'
import { openPrisma, type PrismaHandle } from './prisma/client.js'
import { PrismaBlog } from './prisma/prisma-blog.js'
import { ScenarioRunner } from './scenario/scenario-runner.js'
import { trending } from './strategies/trending.js'
import { ViewCounter } from './strategies/view-counter.js'
import { type ChangeStream, startChangeStream } from './stream/change-stream.js'
import { openTypeorm } from './typeorm/data-source.js'
import { TypeormBlog } from './typeorm/typeorm-blog.js'

export interface Demo {
  app: FastifyInstance
  config: DemoConfig
  setup: SetupReport
  store: StoreChoice
  caches: Record<OrmName, Cache>
  blogs: { prisma: PrismaBlog; typeorm: TypeormBlog }
  /** The Prisma client (extended) and the same connection without the extension. */
  prisma: PrismaHandle
  dataSource: DataSource
  metrics: DemoMetrics
  views: ViewCounter
  scenario: ScenarioRunner
  /** Invalidation from PostgreSQL's change stream (DEMO_CHANGE_STREAM=1). */
  stream: ChangeStream
  /** Starts listening; resolves with the base URL (http://127.0.0.1:port). */
  listen(): Promise<string>
  /** Flushes pending view counts, then closes the server, the ORMs and the caches. */
  close(): Promise<void>
}

/**
 * Wires the demo: the database (committed SQL + seed), one cache store shared by a cache per
 * ORM, Prisma and TypeORM over the same tables, the strategies, the metrics and the HTTP app.
 */
export async function createDemo(config: DemoConfig): Promise<Demo> {
  const setup = await setupDatabase(config.database, { reset: config.reset, seed: config.seed })
  const store = storeFromUrl(config.cacheUrl)
  const [prismaStore, typeormStore] = shareStore(store.store, 2) as [typeof store.store, typeof store.store]
  const cacheOptions = { namespace: config.namespace, ttl: config.ttlMs }
  const caches: Record<OrmName, Cache> = {
    prisma: createCache({ ...cacheOptions, store: prismaStore }),
    typeorm: createCache({ ...cacheOptions, store: typeormStore }),
  }
  if (setup.seeded || config.reset) {
    // The tables were just (re)created outside the ORMs: nothing a shared store still holds from
    // an earlier run describes them. Clearing moves the namespace epoch (O(1), nothing flushed).
    await caches.prisma.clear()
  }
  const metrics = new DemoMetrics(caches)
  const counter = (orm: OrmName) => () => {
    metrics.recordDbQuery(orm)
    tallyQuery()
  }

  const prisma = await openPrisma(config.database, caches.prisma, counter('prisma'))
  const dataSource = await openTypeorm(config.database, caches.typeorm, counter('typeorm'))
  const blogs = { prisma: new PrismaBlog(prisma.prisma), typeorm: new TypeormBlog(dataSource) }
  const views = new ViewCounter({
    cache: caches.prisma,
    blog: blogs.prisma,
    queue: viewQueue(store, config.namespace),
    flushIntervalMs: config.viewFlushMs,
  })
  const trendingOptions = {
    delayMs: config.trendingDelayMs,
    ttlMs: config.trendingTtlMs,
    staleMs: config.trendingStaleMs,
  }

  let baseUrl: string | undefined
  const scenario = new ScenarioRunner(() => {
    if (baseUrl === undefined) throw new Error('the scenario needs the server to listen first')
    return baseUrl
  })
  const app = await buildHttpApp({
    log: config.log,
    info: {
      database: config.database.display,
      dialect: config.database.dialect,
      store: store.display,
      storeKind: store.kind,
      namespace: config.namespace,
      startedAt: Date.now(),
    },
    metrics,
    caches,
    views,
    scenario,
    blogs: {
      prisma: { blog: blogs.prisma, views, trending: trending(caches.prisma, blogs.prisma, trendingOptions) },
      typeorm: {
        blog: blogs.typeorm,
        views,
        trending: trending(caches.typeorm, blogs.typeorm, trendingOptions),
      },
    },
  })
  const stream = await startChangeStream(config.database, caches.prisma)
  await app.register(streamRoutes(config.database, stream), { prefix: '/api' })
  // Connecting ran statements (PRAGMAs, metadata); the dashboard starts from zero.
  metrics.reset()

  return {
    app,
    config,
    setup,
    store,
    caches,
    blogs,
    prisma,
    dataSource,
    metrics,
    views,
    scenario,
    stream,
    async listen() {
      await app.listen({ host: config.host, port: config.port })
      const address = app.server.address() as AddressInfo
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      baseUrl = `http://${host}:${address.port}`
      return baseUrl
    },
    async close() {
      await scenario.idle()
      await stream.close()
      await app.close()
      await views.close()
      metrics.close()
      await prisma.close()
      await dataSource.destroy()
      await caches.prisma.close()
      await caches.typeorm.close()
    },
  }
}

/**
 * Where unflushed view counts wait: a Redis Stream when the cache is on Redis (durable: another
 * process can flush them after a crash), in-process otherwise (lost if the process dies before
 * the next flush, at most `VIEW_FLUSH_MS` of counts).
 */
function viewQueue(store: StoreChoice, namespace: string): WriteBehindQueue {
  if (store.kind === 'redis' || store.kind === 'redis-cluster') {
    return redisStreamQueue({ client: (store.store as RedisStore).client, name: 'views', namespace })
  }
  return memoryQueue()
}
