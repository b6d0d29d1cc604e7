import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/exports/index.js'
import { instrumentCache } from '../src/exports/otel.js'
import { prometheusMetrics } from '../src/exports/prometheus.js'
import { type OtelSdk, otelSdk, points } from './support/otel.js'

// Any consumer with stats() { lagBytes, lagMs } is a source (@ormcache/postgres's handle is tested
// against a real slot in its own package); several report their worst, none reports no series.
const stream = (lagBytes: number, lagMs: number) => ({ stats: () => ({ lagBytes, lagMs }) })

describe('change-stream lag gauges', () => {
  let sdk: OtelSdk
  beforeAll(() => {
    sdk = otelSdk()
  })
  afterAll(() => sdk.shutdown())

  it('report the worst stream, and nothing without streams', async () => {
    const cache = createCache({ namespace: 'lag-metrics' })
    const bare = createCache({ namespace: 'lag-metrics-none' })
    const streams = [stream(100, 7), stream(4096, 3)]
    const otel = instrumentCache(cache, {
      meterProvider: sdk.meterProvider,
      traces: false,
      changeStreams: streams,
    })
    const otelBare = instrumentCache(bare, { meterProvider: sdk.meterProvider, traces: false })
    const exported = await sdk.metrics()
    expect(points(exported, 'ormcache.change_stream.lag')).toEqual([
      { attributes: { cache: 'lag-metrics' }, value: 4096 },
    ])
    expect(points(exported, 'ormcache.change_stream.lag.time')).toEqual([
      { attributes: { cache: 'lag-metrics' }, value: 7 },
    ])
    const registry = new Registry()
    const prom = prometheusMetrics(cache, { registry, changeStreams: streams })
    const promBare = prometheusMetrics(bare, { registry })
    const text = await registry.metrics()
    expect(text).toContain('ormcache_change_stream_lag_bytes{cache="lag-metrics"} 4096')
    expect(text).toContain('ormcache_change_stream_lag_milliseconds{cache="lag-metrics"} 7')
    expect(text).not.toContain('lag_bytes{cache="lag-metrics-none"}')
    for (const off of [otel, otelBare, prom, promBare]) off.close()
    await cache.close()
    await bare.close()
  })
})
