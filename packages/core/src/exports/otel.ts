/**
 * `@ormcache/core/otel`: OpenTelemetry traces and metrics for a cache. `@opentelemetry/api` is an
 * optional peer, loaded only when `instrumentCache` runs; nothing else in this package imports it.
 */

export { METRICS, type MetricName } from '../telemetry/metric-names.js'
export {
  type CacheInstrumentation,
  type ChangeStreamTransaction,
  instrumentCache,
  type OtelOptions,
} from '../telemetry/otel.js'
export type { ChangeStreamSource, WriteBehindSource } from '../telemetry/sources.js'
