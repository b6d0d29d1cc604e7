/**
 * `@ormcache/core/prometheus`: the cache's metrics in a prom-client registry, under the same names
 * as `@ormcache/core/otel` in Prometheus form. `prom-client` is an optional peer, loaded only when
 * `prometheusMetrics` runs.
 */

export { METRICS, type MetricName } from '../telemetry/metric-names.js'
export { type PrometheusMetrics, type PrometheusOptions, prometheusMetrics } from '../telemetry/prometheus.js'
export type { ChangeStreamSource, WriteBehindSource } from '../telemetry/sources.js'
