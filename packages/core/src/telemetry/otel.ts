import type * as Api from '@opentelemetry/api'
import type { Cache } from '../cache.js'
import { InvalidOptionError } from '../errors.js'
import { addTracer, contextOf } from '../observe.js'
import { loadPeer } from '../store/peer.js'
import { otelMetrics } from './otel-metrics.js'
import { otelTracer, traced } from './otel-tracer.js'
import { type ChangeStreamSource, checkChangeStreams, labelOf, type WriteBehindSource } from './sources.js'

export interface OtelOptions {
  /** Default: the globally registered provider (`trace.getTracerProvider()`). */
  tracerProvider?: Api.TracerProvider
  /** Default: the globally registered provider (`metrics.getMeterProvider()`). */
  meterProvider?: Api.MeterProvider
  /** Spans for reads and invalidations; default true. */
  traces?: boolean
  /** Counters, histograms and gauges; default true. */
  metrics?: boolean
  /** Write-behind writers whose queue depth and dead letters to report. */
  writeBehind?: readonly WriteBehindSource[]
  /** Change-stream consumers (e.g. `postgresInvalidation(...)`) whose lag to report as gauges. */
  changeStreams?: readonly ChangeStreamSource[]
  /** The `cache` attribute of this cache's spans and metrics; default its namespace. */
  name?: string
}

/** What a change-stream consumer says about one source transaction it applies. */
export interface ChangeStreamTransaction {
  /** The source's position, e.g. a PostgreSQL LSN. */
  position?: string
  tables: number
  tags: number
}

export interface CacheInstrumentation {
  /**
   * Runs one change-stream transaction's invalidation inside a span (`ormcache.change_stream`);
   * the invalidation spans it causes are its children.
   */
  traceChangeStream<T>(transaction: ChangeStreamTransaction, run: () => Promise<T>): Promise<T>
  /** Stops tracing and metrics for this cache. */
  close(): void
}

const SCOPE = '@ormcache/core'

/**
 * Traces every cached read (one span, child of the caller's active span, with source, model,
 * operation, key hash, tag count, bytes and store round trips) and every invalidation, and
 * records the cache's metrics (names in METRICS). Register your SDK's providers first.
 */
export function instrumentCache(cache: Cache, options: OtelOptions = {}): CacheInstrumentation {
  const ctx = contextOf(cache)
  for (const name of ['traces', 'metrics'] as const) {
    const value = options[name]
    if (value !== undefined && typeof value !== 'boolean')
      throw new InvalidOptionError(name, 'must be a boolean')
  }
  if (options.writeBehind !== undefined && !Array.isArray(options.writeBehind))
    throw new InvalidOptionError('writeBehind', 'must be an array of write-behind writers')
  checkChangeStreams(options.changeStreams)
  const name = labelOf(options.name, ctx)
  const api = loadPeer<typeof Api>('@opentelemetry/api', '@ormcache/core/otel')
  const tracer = (options.tracerProvider ?? api.trace.getTracerProvider()).getTracer(SCOPE)
  const detach: (() => void)[] = []
  if (options.traces !== false) detach.push(addTracer(ctx, otelTracer(tracer, name, api)))
  if (options.metrics !== false) {
    const meter = (options.meterProvider ?? api.metrics.getMeterProvider()).getMeter(SCOPE)
    detach.push(otelMetrics(meter, ctx, name, options.writeBehind ?? [], options.changeStreams ?? []))
  }
  return {
    traceChangeStream: (transaction, run) => {
      const attributes: Api.Attributes = {
        'ormcache.cache': name,
        'ormcache.tables': transaction.tables,
        'ormcache.tag_count': transaction.tags,
      }
      if (transaction.position !== undefined)
        attributes['ormcache.change_stream.position'] = transaction.position
      return traced(tracer, 'ormcache.change_stream', attributes, run)
    },
    close: () => {
      for (const off of detach.splice(0)) off()
    },
  }
}
