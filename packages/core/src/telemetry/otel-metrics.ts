import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api'
import type { CacheContext } from '../cache-context.js'
import { METRICS, READ_SECONDS_BUCKETS } from './metric-names.js'
import {
  type ChangeStreamSource,
  LabelSlots,
  onMetricEvents,
  sampleGauges,
  type WriteBehindSource,
} from './sources.js'

/** Registers the cache's instruments on `meter`; returns the detach. */
export function otelMetrics(
  meter: Meter,
  ctx: CacheContext,
  cache: string,
  writers: readonly WriteBehindSource[],
  streams: readonly ChangeStreamSource[] = [],
): () => void {
  const reads = meter.createObservableCounter(METRICS.reads.otel, options(METRICS.reads))
  const duration = meter.createHistogram(METRICS.readDuration.otel, {
    ...options(METRICS.readDuration),
    advice: { explicitBucketBoundaries: READ_SECONDS_BUCKETS },
  })
  const errors = meter.createCounter(METRICS.errors.otel, options(METRICS.errors))
  const invalidations = meter.createCounter(METRICS.invalidations.otel, options(METRICS.invalidations))
  // Counted here and observed at collection: a Map hit per read instead of the SDK hashing an
  // attribute set per read (the hit path's budget is a few microseconds).
  const readCounts = new LabelSlots((model, operation, source) => ({
    attributes: { cache, model: model ?? '', operation: operation ?? '', source } as Attributes,
    count: 0,
  }))
  // The histogram's attribute sets are built once each; the SDK still hashes one per record.
  const durationAttributes = new LabelSlots(
    (source, tier): Attributes => ({ cache, source: source ?? '', tier: tier ?? '' }),
  )
  const off = onMetricEvents(ctx, {
    read: (model, operation, source, tier, ms) => {
      readCounts.get(model, operation, source).count += 1
      duration.record(ms / 1000, durationAttributes.get(source, tier, ''))
    },
    error: (event) => errors.add(1, { cache, code: event.error.code, operation: event.operation }),
    invalidate: (event) => invalidations.add(event.everything ? 1 : event.tags.length, { cache }),
  })

  const breaker = meter.createObservableGauge(METRICS.breakerState.otel, options(METRICS.breakerState))
  const l1 = meter.createObservableGauge(METRICS.l1Entries.otel, options(METRICS.l1Entries))
  const depth = meter.createObservableGauge(METRICS.writeBehindDepth.otel, options(METRICS.writeBehindDepth))
  const dead = meter.createObservableCounter(
    METRICS.writeBehindDeadLetters.otel,
    options(METRICS.writeBehindDeadLetters),
  )
  const lagBytes = meter.createObservableGauge(
    METRICS.changeStreamLagBytes.otel,
    options(METRICS.changeStreamLagBytes),
  )
  const lagMs = meter.createObservableGauge(
    METRICS.changeStreamLagMs.otel,
    options(METRICS.changeStreamLagMs),
  )
  const observables: Observable[] = [reads, breaker, l1, depth, dead, lagBytes, lagMs]
  const collect = async (result: BatchObservableResult): Promise<void> => {
    const gauges = await sampleGauges(ctx, writers, streams)
    for (const { attributes, count } of readCounts.values()) result.observe(reads, count, attributes)
    const attributes = { cache }
    result.observe(breaker, gauges.breakerState, attributes)
    result.observe(l1, gauges.l1Entries, attributes)
    if (gauges.writeBehindDepth !== undefined) result.observe(depth, gauges.writeBehindDepth, attributes)
    if (gauges.writeBehindDeadLetters !== undefined)
      result.observe(dead, gauges.writeBehindDeadLetters, attributes)
    if (gauges.changeStreamLagBytes !== undefined)
      result.observe(lagBytes, gauges.changeStreamLagBytes, attributes)
    if (gauges.changeStreamLagMs !== undefined) result.observe(lagMs, gauges.changeStreamLagMs, attributes)
  }
  meter.addBatchObservableCallback(collect, observables)
  return () => {
    off()
    meter.removeBatchObservableCallback(collect, observables)
  }
}

/** An instrument's OpenTelemetry options from its entry in METRICS (one name table for both exporters). */
function options(metric: { unit: string; help: string }): { unit: string; description: string } {
  return { unit: metric.unit, description: metric.help }
}
