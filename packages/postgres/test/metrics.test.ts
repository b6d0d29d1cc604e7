import { createCache } from '@ormcache/core'
import { instrumentCache } from '@ormcache/core/otel'
import { prometheusMetrics } from '@ormcache/core/prometheus'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type OtelSdk, otelSdk, points } from '../../core/test/support/otel.js'
import { connect, dropReplication, ensureDatabase, outside, until } from './support/db.js'
import { streamOf } from './support/stream.js'

// The change stream's lag as gauges of the cache's exporters (#16): the consumer is passed as a
// `changeStreams` source, so core never imports this package.
const SLOT = 'ormcache_test_metrics'
const TABLE = 'pgi_metrics'
const cache = createCache({ namespace: `pg-metrics-${process.pid}` })
let sdk: OtelSdk

beforeAll(async () => {
  sdk = otelSdk()
  await ensureDatabase()
  await dropReplication(SLOT, SLOT)
  await outside(`DROP TABLE IF EXISTS ${TABLE}`)
  await outside(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, v int NOT NULL)`)
})

afterAll(async () => {
  await dropReplication(SLOT, SLOT)
  await cache.close()
  await sdk.shutdown()
})

/** The value of a sample in Prometheus' text format, by metric name and `cache` label. */
function promValue(text: string, name: string, label: string): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{cache="([^"]*)"\} (\S+)$/.exec(line)
    if (match?.[1] === name && match[2] === label) return Number(match[3])
  }
  return undefined
}

describe('change-stream lag metrics', () => {
  it('OpenTelemetry and Prometheus report the bytes and ms the consumer is behind', async () => {
    const stream = streamOf(cache, SLOT, TABLE)
    const otel = instrumentCache(cache, {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      changeStreams: [stream],
    })
    const registry = new Registry()
    const prom = prometheusMetrics(cache, { registry, changeStreams: [stream] })
    const label = cache.namespace
    // The test holds the stream's lease: the consumer stands by, measuring how far the slot is behind.
    const holder = await connect()
    await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`ormcache.postgres:${SLOT}`])
    let applied = 0
    stream.on('applied', () => {
      applied += 1
    })
    try {
      await stream.start()
      await outside(`INSERT INTO ${TABLE} VALUES (1, 1)`)
      await until(() => stream.stats().lagBytes > 0, 20_000, 'the standby to measure the lag')
      // Nothing is acknowledged while the lease is held, so the lag only grows: each gauge lies
      // between the consumer's own figures before and after the collection.
      const before = stream.stats().lagBytes
      const otelBytes = points(await sdk.metrics(), 'ormcache.change_stream.lag').find(
        (p) => p.attributes.cache === label,
      )?.value
      const promBytes = promValue(await registry.metrics(), 'ormcache_change_stream_lag_bytes', label)
      const after = stream.stats().lagBytes
      expect(otelBytes).toBeGreaterThanOrEqual(before)
      expect(otelBytes).toBeLessThanOrEqual(after)
      expect(promBytes).toBeGreaterThanOrEqual(before)
      expect(promBytes).toBeLessThanOrEqual(after)
      expect(before).toBeGreaterThan(0)

      // The lease comes free: the consumer applies the insert, which committed a while ago.
      await holder.query('SELECT pg_advisory_unlock_all()')
      await until(() => applied > 0, 30_000, 'the consumer to apply the insert')
      const lagMs = stream.stats().lagMs
      expect(lagMs).toBeGreaterThan(0)
      const otelMs = points(await sdk.metrics(), 'ormcache.change_stream.lag.time').find(
        (p) => p.attributes.cache === label,
      )?.value
      expect(otelMs).toBe(lagMs)
      const text = await registry.metrics()
      expect(promValue(text, 'ormcache_change_stream_lag_milliseconds', label)).toBe(lagMs)
      expect(text).toContain('# TYPE ormcache_change_stream_lag_bytes gauge')
      expect(text).toContain('# TYPE ormcache_change_stream_lag_milliseconds gauge')
    } finally {
      otel.close()
      prom.close()
      await stream.teardown()
      await holder.end()
    }
  })

  it('rejects a changeStreams option that is not a list of consumers, naming it', () => {
    expect(() => prometheusMetrics(cache, { registry: new Registry(), changeStreams: {} as never })).toThrow(
      'changeStreams',
    )
    expect(() =>
      instrumentCache(cache, { meterProvider: sdk.meterProvider, changeStreams: [42] as never }),
    ).toThrow('changeStreams')
  })
})
