import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createCache, memoryQueue, memoryStore, writeBehind } from '../src/exports/index.js'
import { METRICS, prometheusMetrics } from '../src/exports/prometheus.js'
import { asShared, FaultyStore } from './support/faulty-store.js'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the text exposition format back: TYPE lines and samples (labels without escapes). */
function parse(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ')
      types.set(name!, type!)
      continue
    }
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) throw new Error(`not an exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return { types, samples }
}

const find = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )

describe('Prometheus', () => {
  it('exposes reads, latency, errors, invalidations, breaker, L1 and write-behind in a registry', async () => {
    const registry = new Registry()
    const store = new FaultyStore(asShared(memoryStore()))
    const cache = createCache({
      namespace: 'prom',
      store,
      l1: { maxEntries: 100 },
      bus: false,
      lease: false,
      circuitBreaker: { failureThreshold: 1, resetAfterMs: 60_000 },
    })
    let failing = true
    const writer = writeBehind<number>({
      cache,
      queue: memoryQueue(),
      flush: async () => {
        if (failing) throw new Error('db down')
      },
      retry: { attempts: 1, baseDelayMs: 0 },
      flushIntervalMs: 3_600_000,
    })
    const metrics = prometheusMetrics(cache, { registry, writeBehind: [writer] })
    const read = (key: string) => cache.wrap(key, () => 1, { model: 'User', operation: 'findMany' })
    await read('a')
    await read('a')
    await read('b')
    await cache.invalidateTags(['x', 'y'])
    await writer.write('w1', 1)
    await writer.flushNow()
    failing = false
    await writer.write('w2', 2)
    const beforeOutage = parse(await registry.metrics()).samples
    expect(find(beforeOutage, 'ormcache_l1_entries', { cache: 'prom' })[0]?.value).toBe(2)
    expect(find(beforeOutage, 'ormcache_breaker_state', { cache: 'prom' })[0]?.value).toBe(0)
    store.mode = 'fail'
    await read('c')

    const { types, samples } = parse(await registry.metrics())
    expect(Object.fromEntries(types)).toMatchObject({
      ormcache_reads_total: 'counter',
      ormcache_read_duration_seconds: 'histogram',
      ormcache_errors_total: 'counter',
      ormcache_invalidations_total: 'counter',
      ormcache_breaker_state: 'gauge',
      ormcache_l1_entries: 'gauge',
      ormcache_write_behind_queue_depth: 'gauge',
      ormcache_write_behind_dead_letters_total: 'counter',
    })
    // The same metrics as the OpenTelemetry entry, in Prometheus form.
    expect([...types.keys()].sort()).toEqual(
      Object.values(METRICS)
        .map((metric) => metric.prom)
        .sort(),
    )
    const reads = { cache: 'prom', model: 'User', operation: 'findMany' }
    expect(find(samples, 'ormcache_reads_total', { ...reads, source: 'miss' })[0]?.value).toBe(2)
    expect(find(samples, 'ormcache_reads_total', { ...reads, source: 'hit' })[0]?.value).toBe(1)
    expect(find(samples, 'ormcache_reads_total', { ...reads, source: 'bypass' })[0]?.value).toBe(1)
    const missCount = find(samples, 'ormcache_read_duration_seconds_count', { source: 'miss' })
    expect(missCount[0]?.value).toBe(2)
    const infBucket = find(samples, 'ormcache_read_duration_seconds_bucket', { source: 'miss', le: '+Inf' })
    expect(infBucket[0]?.value).toBe(2)
    expect(find(samples, 'ormcache_errors_total', { code: 'ERR_STORE' })[0]?.value).toBeGreaterThanOrEqual(1)
    // x and y, and the per-key tag each write-behind write bumps.
    expect(find(samples, 'ormcache_invalidations_total', { cache: 'prom' })[0]?.value).toBe(4)
    expect(find(samples, 'ormcache_breaker_state', { cache: 'prom' })[0]?.value).toBe(2)
    expect(find(samples, 'ormcache_l1_entries', { cache: 'prom' })[0]?.value).toBe(0) // L1 off while open
    expect(find(samples, 'ormcache_write_behind_queue_depth', { cache: 'prom' })[0]?.value).toBe(1)
    expect(find(samples, 'ormcache_write_behind_dead_letters_total', { cache: 'prom' })[0]?.value).toBe(1)

    metrics.close()
    store.mode = 'ok'
    await writer.close()
    await cache.close()
  })

  it('lets several caches share one registry, told apart by the cache label, and stops on close', async () => {
    const registry = new Registry()
    const a = createCache({ namespace: 'prom-a' })
    const b = createCache({ namespace: 'prom-b' })
    const ma = prometheusMetrics(a, { registry })
    const mb = prometheusMetrics(b, { registry })
    await a.wrap('k', () => 1, { model: 'User' })
    await b.wrap('k', () => 1, { model: 'User' })
    await b.wrap('k', () => 1, { model: 'User' })
    mb.close()
    await b.wrap('k', () => 1, { model: 'User' })
    const { samples } = parse(await registry.metrics())
    const reads = samples.filter((sample) => sample.name === 'ormcache_reads_total')
    expect(reads.map((s) => [s.labels.cache, s.labels.source, s.value]).sort()).toEqual([
      ['prom-a', 'miss', 1],
      ['prom-b', 'hit', 1],
      ['prom-b', 'miss', 1],
    ])
    // A closed cache's gauges are no longer sampled.
    const l1 = samples.filter((sample) => sample.name === 'ormcache_breaker_state').map((s) => s.labels.cache)
    expect(l1).toEqual(['prom-a'])
    ma.close()
    await a.close()
    await b.close()
  })
})
