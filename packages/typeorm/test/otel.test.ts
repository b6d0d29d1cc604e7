import { instrumentCache } from '@ormcache/core/otel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { childrenOf, type OtelSdk, otelSdk } from '../../core/test/support/otel.js'
import { type Harness, openHarness, type Seeded, seed } from './support/harness.js'

describe('OpenTelemetry spans of TypeORM reads (sqlite)', () => {
  let sdk: OtelSdk
  let h: Harness
  let s: Seeded
  beforeAll(async () => {
    sdk = otelSdk()
    h = await openHarness('sqlite', { adapter: { alwaysEnabled: true } })
    s = await seed(h)
    // Stands in for a database instrumentation: a span per statement, under whatever is active.
    const log = h.counter.logQuery.bind(h.counter)
    h.counter.logQuery = (query: string) => {
      sdk.tracer.startSpan('db.query', { attributes: { 'db.query.text': query } }).end()
      log(query)
    }
  })
  afterAll(async () => {
    await h?.close()
    await sdk?.shutdown()
  })

  it('traces a repository read inside the request span; the query runs under the cache span on a miss only', async () => {
    const otel = instrumentCache(h.cache, {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
    })
    await h.cache.clear()
    sdk.resetSpans()
    const users = h.ds.getRepository(h.e.User)
    await sdk.inSpan('GET /users/:id', async () => {
      await users.findOneBy({ id: s.alice.id })
      await users.findOneBy({ id: s.alice.id })
    })
    const spans = sdk.finished()
    const request = spans.find((span) => span.name === 'GET /users/:id')!
    const reads = childrenOf(spans, request).filter((span) => span.name === 'ormcache.read')
    expect(reads).toHaveLength(2)
    const [miss, hit] = reads as [(typeof reads)[0], (typeof reads)[0]]
    expect(miss.attributes).toMatchObject({
      'ormcache.source': 'miss',
      'ormcache.model': 'app_users',
      'ormcache.operation': 'select',
    })
    expect(hit.attributes).toMatchObject({
      'ormcache.source': 'hit',
      'ormcache.model': 'app_users',
      'ormcache.round_trips': 1,
    })
    const queries = childrenOf(spans, miss).filter((span) => span.name === 'db.query')
    expect(queries.map((span) => String(span.attributes['db.query.text']))).toEqual([
      expect.stringMatching(/^SELECT/),
    ])
    expect(childrenOf(spans, hit)).toEqual([])
    expect(h.cache.stats().models.app_users).toMatchObject({ hits: 1, misses: 1, hitRatio: 0.5 })
    otel.close()
  })

  it('traces the invalidation of a write under the caller span', async () => {
    const otel = instrumentCache(h.cache, { tracerProvider: sdk.tracerProvider, metrics: false })
    sdk.resetSpans()
    const users = h.ds.getRepository(h.e.User)
    await sdk.inSpan('PATCH /users/:id', () => users.update({ id: s.alice.id }, { name: 'alice2' }))
    const spans = sdk.finished()
    const request = spans.find((span) => span.name === 'PATCH /users/:id')!
    const invalidations = spans.filter((span) => span.name === 'ormcache.invalidate')
    expect(invalidations.length).toBeGreaterThanOrEqual(1)
    for (const span of invalidations) {
      expect(span.spanContext().traceId).toBe(request.spanContext().traceId)
      expect(Number(span.attributes['ormcache.tag_count'])).toBeGreaterThan(0)
    }
    otel.close()
  })
})
