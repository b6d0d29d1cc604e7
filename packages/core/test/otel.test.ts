import { trace } from '@opentelemetry/api'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  createCache,
  InvalidOptionError,
  memoryQueue,
  memoryStore,
  writeBehind,
} from '../src/exports/index.js'
import { instrumentCache } from '../src/exports/otel.js'
import { asShared, FaultyStore } from './support/faulty-store.js'
import { childrenOf, type OtelSdk, otelSdk, points } from './support/otel.js'

describe('OpenTelemetry', () => {
  let sdk: OtelSdk
  beforeAll(() => {
    sdk = otelSdk()
  })
  afterAll(() => sdk.shutdown())
  afterEach(() => sdk.resetSpans())

  const instrumented = (options: Parameters<typeof createCache>[0] = {}) => {
    const cache = createCache({ namespace: 'otel', lease: false, ...options })
    const otel = instrumentCache(cache, {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
    })
    return { cache, otel }
  }

  it('makes one span per read, a child of the caller span, with the loader span under it', async () => {
    const { cache, otel } = instrumented()
    const tags = Array.from({ length: 20 }, (_, i) => `t${i}`)
    const read = () =>
      cache.wrap('users:1', () => sdk.inSpan('db.query', async () => ({ id: 1 })), {
        tags,
        model: 'User',
        operation: 'findUnique',
      })
    await sdk.inSpan('GET /users/1', async () => {
      await read()
      await read()
    })
    const spans = sdk.finished()
    const request = spans.find((span) => span.name === 'GET /users/1')!
    const reads = childrenOf(spans, request)
    // Twenty tags, two reads: two cache spans, never a span per tag.
    expect(reads.map((span) => span.name)).toEqual(['ormcache.read', 'ormcache.read'])
    expect(spans).toHaveLength(4)
    const [miss, hit] = reads as [(typeof reads)[0], (typeof reads)[0]]
    expect(childrenOf(spans, miss).map((span) => span.name)).toEqual(['db.query'])
    expect(childrenOf(spans, hit)).toEqual([])
    expect(miss.attributes).toMatchObject({
      'ormcache.source': 'miss',
      'ormcache.reason': 'absent',
      'ormcache.model': 'User',
      'ormcache.operation': 'findUnique',
      'ormcache.tag_count': 20,
      'ormcache.round_trips': 2,
      'ormcache.cache': 'otel',
    })
    expect(hit.attributes).toMatchObject({
      'ormcache.source': 'hit',
      'ormcache.tier': 'l2',
      'ormcache.round_trips': 1,
    })
    expect(hit.attributes['ormcache.bytes']).toBe(miss.attributes['ormcache.bytes'])
    expect(hit.attributes['ormcache.bytes']).toBeGreaterThan(10)
    // The key hash groups reads of one entry without putting the query into the trace.
    expect(hit.attributes['ormcache.key_hash']).toBe(miss.attributes['ormcache.key_hash'])
    expect(String(hit.attributes['ormcache.key_hash'])).toMatch(/^[\w-]{16}$/)
    otel.close()
    await cache.close()
  })

  it('labels stale, shared and bypassed reads, and marks a failed loader', async () => {
    const store = new FaultyStore(asShared(memoryStore()))
    const { cache, otel } = instrumented({ store, staleWhileRevalidate: 60_000, circuitBreaker: false })
    await cache.wrap('s', () => 1, { ttl: 1 })
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await cache.wrap('s', () => 2, { ttl: 1 })).toBe(1) // stale, refreshed in the background
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const leader = cache.wrap('shared', async () => {
      await gate
      return 'v'
    })
    const follower = cache.wrap('shared', async () => 'other')
    await new Promise((resolve) => setTimeout(resolve, 5))
    release()
    await Promise.all([leader, follower])
    store.mode = 'fail'
    await cache.wrap('down', () => 'db')
    store.mode = 'ok'
    await expect(
      cache.wrap('boom', () => {
        throw new TypeError('loader failed')
      }),
    ).rejects.toThrow('loader failed')
    const sources = sdk
      .finished()
      .filter((span) => span.name === 'ormcache.read')
      .map((span) => [span.attributes['ormcache.source'] ?? 'error', span.status.code])
    expect(sources).toContainEqual(['stale', 0])
    expect(sources).toContainEqual(['shared', 0])
    expect(sources).toContainEqual(['bypass', 0])
    expect(sources).toContainEqual(['error', 2])
    const failed = sdk.finished().find((span) => span.status.code === 2)!
    expect(failed.attributes['error.type']).toBe('TypeError')
    otel.close()
    await cache.close()
  })

  it('spans invalidations (one per call, whatever the tag count) and change-stream transactions', async () => {
    const { cache, otel } = instrumented()
    await otel.traceChangeStream({ position: '0/16B3748', tables: 2, tags: 3 }, () =>
      cache.invalidateTags(['a', 'b', 'c']),
    )
    const spans = sdk.finished()
    const stream = spans.find((span) => span.name === 'ormcache.change_stream')!
    expect(stream.attributes).toMatchObject({
      'ormcache.change_stream.position': '0/16B3748',
      'ormcache.tables': 2,
    })
    const [invalidation, ...rest] = childrenOf(spans, stream)
    expect(rest).toEqual([])
    expect(invalidation!.name).toBe('ormcache.invalidate')
    expect(invalidation!.attributes).toMatchObject({ 'ormcache.tag_count': 3, 'ormcache.everything': false })
    otel.close()
    await cache.close()
  })

  it('stops tracing and counting after close, and a second instrumentation stacks', async () => {
    const { cache, otel } = instrumented()
    const second = instrumentCache(cache, { tracerProvider: sdk.tracerProvider, metrics: false })
    await sdk.inSpan('request', () => cache.wrap('k', () => sdk.inSpan('db.query', async () => 1)))
    const spans = sdk.finished()
    expect(spans.filter((span) => span.name === 'ormcache.read')).toHaveLength(2)
    // Stacked: request > outer read > inner read > the loader's query, one chain.
    const request = spans.find((span) => span.name === 'request')!
    const [outer] = childrenOf(spans, request)
    const [inner] = childrenOf(spans, outer!)
    expect(inner?.name).toBe('ormcache.read')
    expect(childrenOf(spans, inner!).map((span) => span.name)).toEqual(['db.query'])
    otel.close()
    second.close()
    sdk.resetSpans()
    await cache.wrap('k2', () => 1)
    expect(sdk.finished()).toEqual([])
    await cache.close()
  })

  it('rejects what is not a cache, and bad options, with typed errors', () => {
    expect(() => instrumentCache({} as never)).toThrow(InvalidOptionError)
    const cache = createCache()
    expect(() => instrumentCache(cache, { traces: 'yes' as never })).toThrow(/traces/)
  })

  it('uses the globally registered tracer provider by default', async () => {
    trace.setGlobalTracerProvider(sdk.tracerProvider)
    const cache = createCache({ namespace: 'otel-global' })
    const otel = instrumentCache(cache, { metrics: false })
    await cache.wrap('k', () => 1)
    expect(sdk.finished().map((span) => span.name)).toEqual(['ormcache.read'])
    otel.close()
    trace.disable()
  })

  it('exports read counters by model and operation, latency by source, errors by code, breaker, L1 and write-behind', async () => {
    const store = new FaultyStore(asShared(memoryStore()))
    const cache = createCache({
      namespace: 'otel-metrics',
      store,
      l1: { maxEntries: 100 },
      bus: false,
      lease: false,
      circuitBreaker: { failureThreshold: 1, resetAfterMs: 60_000 },
    })
    const queue = memoryQueue()
    let failing = true
    const writer = writeBehind<number>({
      cache,
      queue,
      flush: async () => {
        if (failing) throw new Error('db down')
      },
      retry: { attempts: 1, baseDelayMs: 0 },
      flushIntervalMs: 3_600_000,
    })
    const otel = instrumentCache(cache, {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      writeBehind: [writer],
    })
    const read = (key: string) => cache.wrap(key, () => 1, { model: 'User', operation: 'findMany' })
    await read('a')
    await read('a')
    await read('b')
    await cache.wrap('p', () => 1, { model: 'Post', operation: 'count' })
    await writer.write('w1', 1)
    await writer.flushNow()
    failing = false
    await writer.write('w2', 2)
    const beforeOutage = await sdk.metrics()
    expect(points(beforeOutage, 'ormcache.l1.entries')).toEqual([
      { attributes: { cache: 'otel-metrics' }, value: 3 },
    ])
    expect(points(beforeOutage, 'ormcache.breaker.state')[0]!.value).toBe(0)
    store.mode = 'fail'
    await read('c') // the store fails: an error, the breaker opens, the read bypasses
    const exported = await sdk.metrics()
    const reads = points(exported, 'ormcache.reads')
    const count = (labels: Record<string, string>) =>
      reads.find((point) => Object.entries(labels).every(([name, value]) => point.attributes[name] === value))
        ?.value
    expect(count({ model: 'User', operation: 'findMany', source: 'miss' })).toBe(2)
    expect(count({ model: 'User', operation: 'findMany', source: 'hit' })).toBe(1)
    expect(count({ model: 'User', operation: 'findMany', source: 'bypass' })).toBe(1)
    expect(count({ model: 'Post', operation: 'count', source: 'miss' })).toBe(1)
    // The meter provider outlives each test's cache: only this cache's series.
    const latency = points(exported, 'ormcache.read.duration').filter(
      (p) => p.attributes.cache === 'otel-metrics',
    )
    expect(latency.find((p) => p.attributes.source === 'miss')?.value).toBe(3)
    expect(latency.find((p) => p.attributes.source === 'hit' && p.attributes.tier === 'l1')?.value).toBe(1)
    expect(
      points(exported, 'ormcache.errors').some((p) => p.attributes.code === 'ERR_STORE' && p.value >= 1),
    ).toBe(true)
    expect(points(exported, 'ormcache.breaker.state')).toEqual([
      { attributes: { cache: 'otel-metrics' }, value: 2 },
    ])
    expect(points(exported, 'ormcache.l1.entries')[0]!.value).toBe(0) // an open circuit turns L1 off
    expect(points(exported, 'ormcache.write_behind.dead_letters')[0]!.value).toBe(1)
    expect(points(exported, 'ormcache.write_behind.queue.depth')[0]!.value).toBe(1)
    otel.close()
    store.mode = 'ok'
    await writer.close()
    await cache.close()
  })
})
