import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api'
import type { CacheContext } from '../context.js'
import { METRICS, READ_SECONDS_BUCKETS } from './metric-names.js'
import { onMetricEvents, readLabels, sampleGauges, type WriteBehindSource } from './sources.js'

/** Registers the cache's instruments on `meter`; returns the detach. */
export function otelMetrics(
  meter: Meter,
  ctx: CacheContext,
  cache: string,
  writers: readonly WriteBehindSource[],
): () => void {
  const reads = meter.createCounter(METRICS.reads.otel, {
    unit: METRICS.reads.unit,
    description: METRICS.reads.help,
  })
  const duration = meter.createHistogram(METRICS.readDuration.otel, {
    unit: METRICS.readDuration.unit,
    description: METRICS.readDuration.help,
    advice: { explicitBucketBoundaries: READ_SECONDS_BUCKETS },
  })
  const errors = meter.createCounter(METRICS.errors.otel, {
    unit: METRICS.errors.unit,
    description: METRICS.errors.help,
  })
  const invalidations = meter.createCounter(METRICS.invalidations.otel, {
    unit: METRICS.invalidations.unit,
    description: METRICS.invalidations.help,
  })
  const off = onMetricEvents(ctx, {
    read: (event) => {
      reads.add(1, { cache, ...readLabels(event) })
      duration.record(event.ms / 1000, { cache, source: event.source, tier: event.tier ?? '' })
    },
    error: (event) => errors.add(1, { cache, code: event.error.code, operation: event.operation }),
    invalidate: (event) => invalidations.add(event.everything ? 1 : event.tags.length, { cache }),
  })

  const breaker = meter.createObservableGauge(METRICS.breakerState.otel, {
    unit: METRICS.breakerState.unit,
    description: METRICS.breakerState.help,
  })
  const l1 = meter.createObservableGauge(METRICS.l1Entries.otel, {
    unit: METRICS.l1Entries.unit,
    description: METRICS.l1Entries.help,
  })
  const depth = meter.createObservableGauge(METRICS.writeBehindDepth.otel, {
    unit: METRICS.writeBehindDepth.unit,
    description: METRICS.writeBehindDepth.help,
  })
  const dead = meter.createObservableCounter(METRICS.writeBehindDeadLetters.otel, {
    unit: METRICS.writeBehindDeadLetters.unit,
    description: METRICS.writeBehindDeadLetters.help,
  })
  const observables: Observable[] = [breaker, l1, depth, dead]
  const collect = async (result: BatchObservableResult): Promise<void> => {
    const gauges = await sampleGauges(ctx, writers)
    const attributes = { cache }
    result.observe(breaker, gauges.breakerState, attributes)
    result.observe(l1, gauges.l1Entries, attributes)
    if (gauges.writeBehindDepth !== undefined) result.observe(depth, gauges.writeBehindDepth, attributes)
    if (gauges.writeBehindDeadLetters !== undefined)
      result.observe(dead, gauges.writeBehindDeadLetters, attributes)
  }
  meter.addBatchObservableCallback(collect, observables)
  return () => {
    off()
    meter.removeBatchObservableCallback(collect, observables)
  }
}
