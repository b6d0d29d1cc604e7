import { createCache } from '@ormcache/core'
import { instrumentCache } from '@ormcache/core/otel'
import { redisStore } from '@ormcache/core/redis'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { childrenOf, type OtelSdk, otelSdk, points } from '../../core/test/support/otel.js'
import { cacheExtension } from '../src/index.js'
import { type BaseClient, generated } from './support/clients.js'
import { openDatabase, type TestDatabase } from './support/databases.js'
import { type Fixture, seed } from './support/fixtures.js'
import { QueryProbe } from './support/probe.js'

/** Stands in for a database instrumentation: one span per statement, under whatever span is active. */
class TracingProbe extends QueryProbe {
  constructor(private readonly sdk: OtelSdk) {
    super()
  }
  override run<T>(sql: string, execute: () => Promise<T>): Promise<T> {
    return this.sdk.inSpan('db.query', () => super.run(sql, execute))
  }
}

describe('OpenTelemetry spans of Prisma reads (sqlite, Redis store)', () => {
  let sdk: OtelSdk
  let database: TestDatabase
  let base: BaseClient
  let redis: Redis
  let f: Fixture
  const cacheOf = () =>
    createCache({
      store: redisStore({ client: redis }),
      namespace: `prisma-otel-${process.pid}-${Date.now()}`,
    })
  let cache: ReturnType<typeof cacheOf>

  beforeAll(async () => {
    sdk = otelSdk()
    database = await openDatabase('sqlite')
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
    await redis.ping().catch((error: Error) => {
      throw new Error(`Redis is not reachable (${error.message}); run \`npm run services\``)
    })
    const mod = await generated('sqlite')
    base = new mod.PrismaClient({ adapter: database.adapter(new TracingProbe(sdk)) } as never) as BaseClient
    f = await seed(base)
    cache = cacheOf()
  })
  afterAll(async () => {
    await base?.$disconnect()
    await cache?.close()
    redis?.disconnect()
    await database?.close()
    await sdk?.shutdown()
  })

  it('a read inside a request span: one cache span, the query under it on a miss, none on a hit', async () => {
    const otel = instrumentCache(cache, {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
    })
    onTestFinished(() => otel.close())
    const prisma = base.$extends(cacheExtension({ cache }))
    sdk.resetSpans()
    const read = () =>
      prisma.post.findMany({ where: { authorId: f.alice }, include: { tags: true }, orderBy: { id: 'asc' } })
    const [first, second] = await sdk.inSpan('GET /posts', async () => [await read(), await read()])
    expect(second).toEqual(first)

    const spans = sdk.finished()
    const request = spans.find((span) => span.name === 'GET /posts')!
    const reads = childrenOf(spans, request)
    expect(reads.map((span) => span.name)).toEqual(['ormcache.read', 'ormcache.read'])
    const [miss, hit] = reads as [(typeof reads)[0], (typeof reads)[0]]
    expect(miss.attributes).toMatchObject({
      'ormcache.source': 'miss',
      'ormcache.model': 'Post',
      'ormcache.operation': 'findMany',
      'ormcache.round_trips': 2,
    })
    expect(Number(miss.attributes['ormcache.tag_count'])).toBeGreaterThanOrEqual(2) // posts and tags, at least
    const queries = childrenOf(spans, miss)
    expect(queries.length).toBeGreaterThanOrEqual(1)
    expect(new Set(queries.map((span) => span.name))).toEqual(new Set(['db.query']))
    expect(hit.attributes).toMatchObject({
      'ormcache.source': 'hit',
      'ormcache.tier': 'l2',
      'ormcache.model': 'Post',
    })
    // One MGET, plus one more when the entry depends on row tags learned from the loaded rows
    // (a precise list): the lookup asked for its guards only.
    expect([1, 2]).toContain(hit.attributes['ormcache.round_trips'])
    expect(hit.attributes['ormcache.bytes']).toBe(miss.attributes['ormcache.bytes'])
    expect(childrenOf(spans, hit)).toEqual([])
    // The trace holds two cache spans and the miss's queries: nothing per tag.
    expect(spans).toHaveLength(1 + 2 + queries.length)

    const exported = await sdk.metrics()
    const byModel = points(exported, 'ormcache.reads').filter((p) => p.attributes.model === 'Post')
    expect(byModel.map((p) => [p.attributes.operation, p.attributes.source, p.value]).sort()).toEqual([
      ['findMany', 'hit', 1],
      ['findMany', 'miss', 1],
    ])
    expect(cache.stats().models.Post).toEqual({ hits: 1, staleHits: 0, misses: 1, hitRatio: 0.5 })
  })

  it('a write inside a request span: its invalidation span is in the same trace', async () => {
    const otel = instrumentCache(cache, { tracerProvider: sdk.tracerProvider, metrics: false })
    onTestFinished(() => otel.close())
    const prisma = base.$extends(cacheExtension({ cache }))
    sdk.resetSpans()
    await sdk.inSpan('PATCH /posts', () =>
      prisma.post.updateMany({ where: { authorId: f.alice }, data: { views: 1 } }),
    )
    const spans = sdk.finished()
    const request = spans.find((span) => span.name === 'PATCH /posts')!
    const invalidations = spans.filter((span) => span.name === 'ormcache.invalidate')
    expect(invalidations).toHaveLength(1)
    expect(invalidations[0]!.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
  })
})
