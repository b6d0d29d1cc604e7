/**
 * The metrics both exporters publish, defined once so OpenTelemetry and Prometheus agree. Names
 * follow OpenTelemetry (dots, unit in `unit`); `prom` is what an OpenTelemetry Prometheus
 * exporter derives from them (underscores, `_total` on counters, the unit as a suffix), which
 * `@ormcache/core/prometheus` uses directly.
 */
export interface MetricName {
  readonly otel: string
  readonly prom: string
  readonly unit: string
  readonly help: string
}

export const METRICS = {
  reads: {
    otel: 'ormcache.reads',
    prom: 'ormcache_reads_total',
    unit: '{read}',
    help: 'Cached ORM reads by model, operation and source (hit, stale, miss, shared, bypass, error)',
  },
  readDuration: {
    otel: 'ormcache.read.duration',
    prom: 'ormcache_read_duration_seconds',
    unit: 's',
    help: 'Wall time of cached ORM reads (loader included) by source and tier',
  },
  errors: {
    otel: 'ormcache.errors',
    prom: 'ormcache_errors_total',
    unit: '{error}',
    help: 'Cache faults (store errors, timeouts, open circuit, corrupt entries) by code and operation; none failed a query',
  },
  invalidations: {
    otel: 'ormcache.invalidations',
    prom: 'ormcache_invalidations_total',
    unit: '{tag}',
    help: 'Tags invalidated (a namespace-wide clear counts once)',
  },
  breakerState: {
    otel: 'ormcache.breaker.state',
    prom: 'ormcache_breaker_state',
    unit: '1',
    help: 'Store circuit breaker: 0 closed, 1 half-open, 2 open',
  },
  l1Entries: {
    otel: 'ormcache.l1.entries',
    prom: 'ormcache_l1_entries',
    unit: '{entry}',
    help: 'Entries in the in-process L1 near cache',
  },
  writeBehindDepth: {
    otel: 'ormcache.write_behind.queue.depth',
    prom: 'ormcache_write_behind_queue_depth',
    unit: '{write}',
    help: 'Write-behind writes queued and not yet flushed or dead-lettered',
  },
  writeBehindDeadLetters: {
    otel: 'ormcache.write_behind.dead_letters',
    prom: 'ormcache_write_behind_dead_letters_total',
    unit: '{write}',
    help: 'Write-behind writes moved to the dead-letter list',
  },
  changeStreamLagBytes: {
    otel: 'ormcache.change_stream.lag',
    prom: 'ormcache_change_stream_lag_bytes',
    unit: 'By',
    help: 'Change-stream source data not yet invalidated and acknowledged (PostgreSQL: WAL the slot retains), worst stream',
  },
  changeStreamLagMs: {
    otel: 'ormcache.change_stream.lag.time',
    prom: 'ormcache_change_stream_lag_milliseconds',
    unit: 'ms',
    help: 'Source commit to cache invalidation delay of the last applied change-stream transaction, worst stream',
  },
} as const satisfies Record<string, MetricName>

/** Read latency buckets in seconds: from an L1 hit (µs) to a slow loader (seconds). */
export const READ_SECONDS_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]

export const BREAKER_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const
